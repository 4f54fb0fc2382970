//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Dynamic concurrency with Boost.Fiber: the responder finds out by itself how
// many requests its backend can take at once, and follows it when that changes.
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
// 32 client fibers keep the responder busy while the resource's capacity goes
// 8 -> 2 -> 8; the limit is sampled every 50 ms. Exits 0 when the limit
// moved up and down (see the end of main).

#include <boost/duplex/fiber.hpp>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <iostream>
#include <thread>
#include <vector>

namespace dx = boost::duplex;
namespace fibers = boost::fibers;
using namespace std::chrono_literals;

struct resource {
    // Set by the operator on the main thread, read by the handler on the
    // responder's thread: an atomic.
    std::atomic<std::size_t> capacity{8};
    // Touched by the handler's invocations only. They all run on the
    // responder's thread and never block between reading and writing it, so
    // no other invocation can see it half-updated: no lock needed.
    std::size_t users = 0;

    std::chrono::steady_clock::duration cost() const
    {
        const double share = std::max(1.0, static_cast<double>(users) / static_cast<double>(capacity.load()));
        return std::chrono::duration_cast<std::chrono::steady_clock::duration>(5ms * share);
    }
};

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
    auto channel = dx::make_fiber_channel<int, int>();
    dx::fiber_client<int, int> client = std::move(channel.first);
    dx::fiber_responder<int, int> responder = std::move(channel.second);

    resource res;
    // Each invocation runs in a fiber of its own, so it simply blocks while it
    // uses the resource; the others go on meanwhile, up to the current limit.
    auto use_resource = [&res](int job) {
        ++res.users;
        boost::this_fiber::sleep_for(res.cost());
        --res.users;
        return job;
    };
    // The responder gets a thread of its own: the latency it measures is then
    // the resource's, not time spent waiting for the 32 clients' fibers to
    // give the thread back.
    dx::result<void> run_result = dx::make_error_code(dx::error::closed);
    std::thread server([&] {
        // Start at 4 (the default) and let the limiter find the level, between 1 and 32.
        run_result = responder.run(use_resource, dx::dynamic_concurrency{.initial = 4, .max = 32, .min = 1});
    });

    // The clients are fibers of the main thread, like the operator below,
    // which stops them with a plain flag: fibers of one thread take turns.
    bool done = false;
    std::vector<fibers::fiber> clients;
    for (int i = 0; i < 32; ++i)
        clients.emplace_back([client, &done]() mutable {
            int job = 0;
            while (!done)
                (void)client.request(job++);  // only the load matters here (the stats count timeouts)
        });

    // The operator: moves the resource's capacity through the phases and
    // samples the limit.
    std::vector<std::vector<std::size_t>> seen;
    for (std::size_t capacity : {8u, 2u, 8u}) {
        res.capacity = capacity;
        std::cout << "resource capacity " << capacity << ", concurrency limit:";
        seen.emplace_back();
        for (int i = 0; i < 10; ++i) {
            boost::this_fiber::sleep_for(50ms);
            const dx::responder_stats s = responder.stats();
            seen.back().push_back(s.concurrency_limit);
            std::cout << ' ' << s.concurrency_limit;
        }
        std::cout << '\n';
    }
    done = true;
    for (auto& f : clients)
        f.join();
    responder.stop();
    server.join();

    // What the example shows: the limit rose above 4 while the resource had
    // room, came down when it shrank and went up again when it grew back.
    // Latency is the only signal, so on a machine too busy for clean timings
    // (other processes delaying the timers) the picture blurs; what must still
    // hold is that the limit moves, up and down.
    const auto peak = [](const std::vector<std::size_t>& v) { return *std::max_element(v.begin(), v.end()); };
    const bool followed = seen.size() == 3 && peak(seen[0]) > 4 && seen[1].back() < peak(seen[0]) &&
                          peak(seen[2]) > seen[1].back();
    const bool ok = run_result && rose_and_fell(seen, 4);
    const dx::responder_stats s = responder.stats();
    std::cout << s.completed << " requests served, " << s.timed_out << " timed out\n"
              << (followed ? "the limit followed the capacity\n"
                           : "the limit moved, but not in step with the capacity: a busy machine?\n")
              << (ok ? "OK" : "FAILED") << '\n';
    return ok ? 0 : 1;
}
