//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Dynamic concurrency: the responder finds out by itself how many requests
// its backend can take at once, and follows it when that changes.
//
// The handler uses a resource with a limited capacity, like a database with a
// few connections or a service with a few cores: up to `capacity` users at
// once each get their work done in 5 ms; beyond that they share it, and each
// takes 5 ms × users / capacity. Running more handlers at once than that buys
// nothing but latency. dynamic_concurrency watches the handlers' latency: it
// raises the limit while latency stays near the no-load latency and lowers it
// when latency grows, so the limit settles close to the resource's capacity
// (a little above it, by the `tolerance` it allows for noise). Early on, and
// now and then, it measures the no-load latency by running requests at a
// reduced limit for a moment: the dips in the samples.
//
// 32 clients keep the responder busy while the resource's capacity goes
// 8 -> 2 -> 8; the limit is sampled every 50 ms. Exits 0 when the limit
// moved up and down (see the end of main).

#include <boost/duplex/asio.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <iostream>
#include <vector>

namespace net = boost::asio;
namespace dx = boost::duplex;
using namespace std::chrono_literals;

using job_client = dx::asio_client<int, int>;
using job_responder = dx::asio_responder<int, int>;

// One thread runs this whole program (see main), so the handler, the clients
// and the operator share plain variables. With io.run() on several threads,
// `capacity` and `done`, which the operator changes off the responder's
// strand, would have to be atomics.
struct resource {
    std::size_t capacity = 8;
    std::size_t users = 0;  // handler only

    std::chrono::steady_clock::duration cost() const
    {
        const double share = std::max(1.0, static_cast<double>(users) / static_cast<double>(capacity));
        return std::chrono::duration_cast<std::chrono::steady_clock::duration>(5ms * share);
    }
};

// An awaitable handler: while one waits for the resource, the strand is free
// to start others, up to the current concurrency limit.
auto use_resource(resource& res)
{
    return [&res](int job) -> net::awaitable<int> {
        ++res.users;
        net::steady_timer work(co_await net::this_coro::executor, res.cost());
        co_await work.async_wait(net::use_awaitable);
        --res.users;
        co_return job;
    };
}

// A client that sends requests back to back until told to stop; the last
// one to finish ends the run.
net::awaitable<void> client_loop(job_client client, const bool& done, int& clients_left,
                                 job_responder& responder)
{
    int job = 0;
    while (!done) {
        // Only the load matters here, not the answers (the stats count timeouts).
        (void)co_await client.async_request(job++, net::use_awaitable);
    }
    if (--clients_left == 0)
        responder.stop();
}

// Moves the resource's capacity through the phases and samples the limit.
// Returns the limits seen in each phase.
net::awaitable<std::vector<std::vector<std::size_t>>> operate(resource& res, const job_responder& responder,
                                                              bool& done)
{
    // Filled in without a braced list: g++ 12 mishandles those in coroutines.
    std::vector<std::size_t> capacities(3);
    capacities[0] = 8;
    capacities[1] = 2;
    capacities[2] = 8;
    std::vector<std::vector<std::size_t>> seen;
    net::steady_timer tick(co_await net::this_coro::executor);
    for (std::size_t capacity : capacities) {
        res.capacity = capacity;
        std::cout << "resource capacity " << capacity << ", concurrency limit:";
        seen.emplace_back();
        for (int i = 0; i < 10; ++i) {
            tick.expires_after(50ms);
            co_await tick.async_wait(net::use_awaitable);
            const dx::responder_stats s = responder.stats();
            seen.back().push_back(s.concurrency_limit);
            std::cout << ' ' << s.concurrency_limit;
        }
        std::cout << '\n';
    }
    done = true;
    co_return seen;
}

// True if the limit rose above `initial` and later fell below a level it had reached.
bool rose_and_fell(const std::vector<std::vector<std::size_t>>& phases, std::size_t initial)
{
    std::size_t high = 0;
    bool rose = false;
    for (const auto& phase : phases)
        for (std::size_t limit : phase) {
            if (rose && limit < high)
                return true;
            high = std::max(high, limit);
            rose = rose || limit > initial;
        }
    return false;
}

int main()
{
    // One thread: the clients, the handler and the operator take turns on it.
    net::io_context io;
    auto [client, responder] = dx::make_asio_channel<int, int>(io.get_executor());

    resource res;
    bool run_ok = false;
    // Start at 4 (the default) and let the limiter find the level, between 1 and 32.
    responder.async_run(use_resource(res), dx::dynamic_concurrency{.initial = 4, .max = 32, .min = 1},
                        [&run_ok](dx::result<void> r) { run_ok = r.has_value(); });

    bool done = false;
    int clients_left = 32;
    for (int i = 0; i < 32; ++i)
        net::co_spawn(io, client_loop(client, done, clients_left, responder), [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e);
        });

    std::vector<std::vector<std::size_t>> seen;
    net::co_spawn(io, operate(res, responder, done),
                  [&seen](std::exception_ptr e, std::vector<std::vector<std::size_t>> v) {
                      if (e)
                          std::rethrow_exception(e);
                      seen = std::move(v);
                  });
    io.run();

    // What the example shows: the limit rose above 4 while the resource had
    // room, came down when it shrank and went up again when it grew back.
    // Latency is the only signal, so on a machine too busy for clean timings
    // (other processes delaying the timers) the picture blurs; what must still
    // hold is that the limit moves, up and down.
    const auto peak = [](const std::vector<std::size_t>& v) { return *std::max_element(v.begin(), v.end()); };
    const bool followed = seen.size() == 3 && peak(seen[0]) > 4 && seen[1].back() < peak(seen[0]) &&
                          peak(seen[2]) > seen[1].back();
    const bool ok = run_ok && rose_and_fell(seen, 4);
    const dx::responder_stats s = responder.stats();
    std::cout << s.completed << " requests served, " << s.timed_out << " timed out\n"
              << (followed ? "the limit followed the capacity\n"
                           : "the limit moved, but not in step with the capacity: a busy machine?\n")
              << (ok ? "OK" : "FAILED") << '\n';
    return ok ? 0 : 1;
}
