//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Baseline (c): request/response between fibers the Boost.Fiber way. Requests
// go through one boost::fibers::buffered_channel (capacity 64) to a server
// fiber; each carries a boost::fibers::promise, whose future the client
// waits on.
//
// No deadline, no cancellation, no concurrency limit.

#ifndef BOOST_DUPLEX_BENCH_BASELINES_FIBER_PROMISE_HPP
#define BOOST_DUPLEX_BENCH_BASELINES_FIBER_PROMISE_HPP

#include "../bench.hpp"
#include "../fiber_rig.hpp"

#include <boost/fiber/buffered_channel.hpp>
#include <boost/fiber/channel_op_status.hpp>
#include <boost/fiber/future.hpp>

#include <cstdint>
#include <exception>
#include <vector>

namespace boost::duplex::bench::baselines::fiber_promise {

template <class P>
struct request {
    P value;
    fibers::promise<P> reply;
};

template <class P>
using request_channel = fibers::buffered_channel<request<P>>;

constexpr std::size_t capacity = 64;  // a power of two, as buffered_channel requires

// Answers requests until the channel is closed. One request object is
// popped into again and again (its default promise is the one allocation).
// Not a range-for over the channel: in Boost 1.81 the channel's iterator
// destroys each element twice (operator++ and then increment_()), which
// breaks a promise.
//
// The answered promise is let go before the next pop, not by pop's move
// assignment: a promise's destructor locks its shared state's fibers::mutex,
// which suspends the server fiber when the client holds it, and inside pop
// the channel's spinlock is held. With clients on the server's thread too
// (W5) they then spin on that lock, yielding the thread but never the
// fiber, and the server fiber never resumes: a deadlock.
template <class P>
void server(request_channel<P>& requests)
{
    request<P> req;
    while (requests.pop(req) == fibers::channel_op_status::success) {
        req.reply.set_value(echo<P>{}(std::move(req.value)));
        fibers::promise<P> answered(std::move(req.reply));
    }
}

template <class P>
void client(request_channel<P>& requests, load& ld, std::uint64_t id)
{
    try {
        P buf = payload<P>::make();
        for (std::uint64_t n = 0; ld.take(); ++n) {
            const std::uint64_t seq = sequence(id, n);
            payload<P>::stamp(buf, seq);
            const bool sampled = ld.sampled();
            const auto sent = sampled ? clock_type::now() : clock_type::time_point();
            fibers::promise<P> reply;
            fibers::future<P> answer = reply.get_future();
            if (requests.push(request<P>{std::move(buf), std::move(reply)}) != fibers::channel_op_status::success) {
                ld.fail();
                break;
            }
            P r = answer.get();
            const auto now = sampled ? clock_type::now() : clock_type::time_point();
            const bool ok = payload<P>::check(r, seq);
            buf = std::move(r);
            if (sampled)
                ld.record(ok, now - sent);
            else
                ld.record(ok);
        }
    } catch (...) {
        ld.fail();
    }
    ld.client_done();
}

template <class P>
run_result run_load(topology where, std::size_t clients, load& ld)
{
    request_channel<P> requests(capacity);
    run_fiber_contender(
        where, clients, [&] { server(requests); }, [&] { requests.close(); },
        [&](std::size_t id) { client<P>(requests, ld, id); });
    return ld.result();
}

inline run_result latency(const latency_params& p)
{
    load ld(p.warm, p.requests, p.samples, 1);
    ld.reserve_samples(p.samples);
    return run_load<std::uint64_t>(topology::one_thread, 1, ld);
}

inline run_result throughput(const throughput_params& p)
{
    return with_payload(p.payload, [&]<class P>() {
        load ld(p);
        return run_load<P>(p.where, p.clients, ld);
    });
}

// W4 in one fiber: a ring of `window` futures; before a slot is reused, its
// answer is taken, so that at most `window` requests are outstanding.
inline std::uint64_t batch_client(request_channel<std::uint64_t>& requests, const std::vector<std::uint64_t>& input,
                                  std::size_t window)
{
    const std::uint64_t n = input.size();
    try {
        std::vector<std::uint64_t> results(n);
        std::vector<fibers::future<std::uint64_t>> ring(window);
        for (std::uint64_t i = 0; i != n; ++i) {
            auto& slot = ring[i % window];
            if (i >= window)
                results[i - window] = slot.get();
            fibers::promise<std::uint64_t> reply;
            slot = reply.get_future();
            if (requests.push(request<std::uint64_t>{input[i], std::move(reply)}) != fibers::channel_op_status::success)
                return n;
        }
        for (std::uint64_t i = n > window ? n - window : 0; i != n; ++i)
            results[i] = ring[i % window].get();
        return check_batch(results, n) ? 0 : n;
    } catch (...) {
        return n;
    }
}

inline run_result batch(const batch_params& p)
{
    request_channel<std::uint64_t> requests(capacity);
    run_result r;
    run_fiber_contender(
        topology::one_thread, 1, [&] { server(requests); }, [&] { requests.close(); },
        [&](std::size_t) {
            r = measure_batch(p, [&](const std::vector<std::uint64_t>& input) {
                return batch_client(requests, input, p.window);
            });
        });
    return r;
}

}  // namespace boost::duplex::bench::baselines::fiber_promise

#endif
