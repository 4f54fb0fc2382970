//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Baseline (a): request/response over Asio's experimental::concurrent_channel
// the way most users write it. Requests go through one channel (capacity 64,
// like channel_options' default) to a server coroutine; each request carries a
// reply channel of its own, made fresh for that request and shared with the
// server through a shared_ptr. The server answers with try_send (the reply
// channel has room for its one answer, so that never waits).
//
// No deadline, no cancellation, no concurrency limit: a lower bound on what
// such a hand-written channel costs, not a feature match.

#ifndef BOOST_DUPLEX_BENCH_BASELINES_ASIO_FRESH_REPLY_HPP
#define BOOST_DUPLEX_BENCH_BASELINES_ASIO_FRESH_REPLY_HPP

#include "../asio_rig.hpp"
#include "../bench.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <exception>
#include <memory>
#include <vector>

namespace boost::duplex::bench::baselines::asio_fresh_reply {

template <class P>
using reply_channel = net::experimental::concurrent_channel<void(boost::system::error_code, P)>;

template <class P>
struct request {
    P value;
    std::shared_ptr<reply_channel<P>> reply;
};

template <class P>
using request_channel = net::experimental::concurrent_channel<void(boost::system::error_code, request<P>)>;

constexpr std::size_t capacity = 64;

// Answers requests until the request channel is closed.
template <class P>
net::awaitable<void> server(request_channel<P>& requests)
{
    for (;;) {
        auto [ec, req] = co_await requests.async_receive(net::as_tuple(net::use_awaitable));
        if (ec)
            co_return;  // closed
        req.reply->try_send(boost::system::error_code(), echo<P>{}(std::move(req.value)));
    }
}

template <class P>
net::awaitable<void> client(request_channel<P>& requests, load& ld, asio_rig& rig, std::uint64_t id)
{
    try {
        auto ex = co_await net::this_coro::executor;
        P buf = payload<P>::make();
        for (std::uint64_t n = 0; ld.take(); ++n) {
            const std::uint64_t seq = sequence(id, n);
            payload<P>::stamp(buf, seq);
            const bool sampled = ld.sampled();
            const auto sent = sampled ? clock_type::now() : clock_type::time_point();
            auto reply = std::make_shared<reply_channel<P>>(ex, 1);
            // Named, not a braced temporary in the co_await: g++ 12 destroys
            // such a temporary twice.
            request<P> req{std::move(buf), reply};
            co_await requests.async_send(boost::system::error_code(), std::move(req), net::use_awaitable);
            P r = co_await reply->async_receive(net::use_awaitable);
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
    if (ld.client_done())
        rig.clients_done();
}

// Starts the server on the rig's server side; returns with the server ended
// (`requests` closed) and both sides out of work.
template <class P, class Clients>
std::uint64_t with_server(asio_rig& rig, Clients&& clients)
{
    request_channel<P> requests(rig.server_io(), capacity);
    bool server_ok = false;
    net::co_spawn(rig.server_io(), server<P>(requests), [&server_ok](std::exception_ptr e) { server_ok = !e; });
    clients(requests);
    requests.close();
    rig.finish();
    return server_ok ? 0 : 1;
}

template <class P>
run_result run_load(topology where, std::size_t clients, load& ld)
{
    asio_rig rig(where);
    const std::uint64_t server_errors = with_server<P>(rig, [&](request_channel<P>& requests) {
        rig.run_clients([&] {
            for (std::size_t id = 0; id != clients; ++id)
                net::co_spawn(rig.client_io(), client<P>(requests, ld, rig, id), [&ld](std::exception_ptr e) {
                    if (e)
                        ld.fail();
                });
        });
    });
    run_result r = ld.result();
    r.errors += server_errors;
    return r;
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

// W4 the usual way: `window` worker coroutines, each taking the next index
// of the batch and making that request, until the batch is used up.
struct batch_state {
    const std::vector<std::uint64_t>* requests = nullptr;
    std::vector<std::uint64_t> results;
    std::uint64_t next = 0;
    std::uint64_t errors = 0;
    std::size_t workers = 0;
};

inline net::awaitable<void> batch_worker(request_channel<std::uint64_t>& requests, batch_state& b, asio_rig& rig)
{
    try {
        auto ex = co_await net::this_coro::executor;
        while (b.next < b.results.size()) {
            const std::uint64_t i = b.next++;
            auto reply = std::make_shared<reply_channel<std::uint64_t>>(ex, 1);
            request<std::uint64_t> req{(*b.requests)[i], reply};
            co_await requests.async_send(boost::system::error_code(), std::move(req), net::use_awaitable);
            b.results[i] = co_await reply->async_receive(net::use_awaitable);
        }
    } catch (...) {
        ++b.errors;
    }
    if (--b.workers == 0)
        rig.clients_done();
}

inline run_result batch(const batch_params& p)
{
    asio_rig rig(topology::one_thread);
    run_result r;
    const std::uint64_t server_errors = with_server<std::uint64_t>(rig, [&](request_channel<std::uint64_t>& requests) {
        r = measure_batch(p, [&](const std::vector<std::uint64_t>& reqs) -> std::uint64_t {
            const std::uint64_t n = reqs.size();
            batch_state b;
            b.requests = &reqs;
            b.results.resize(n);
            b.workers = p.window;
            rig.run_clients([&] {
                for (std::size_t w = 0; w != p.window; ++w)
                    net::co_spawn(rig.client_io(), batch_worker(requests, b, rig), [&b](std::exception_ptr e) {
                        if (e)
                            ++b.errors;
                    });
            });
            return b.errors == 0 && check_batch(b.results, n) ? 0 : n;
        });
    });
    r.errors += server_errors;
    return r;
}

}  // namespace boost::duplex::bench::baselines::asio_fresh_reply

#endif
