//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Baseline (b): baseline (a) as a careful engineer tunes it. Each client owns
// one reply channel for its whole life (the request carries a plain pointer
// to it: the client outlives every request it made), and every send and
// receive first tries try_send / try_receive, suspending only when that
// fails. The server drains whatever is queued with try_receive before it
// suspends in async_receive.
//
// As with (a): no deadline, no cancellation, no concurrency limit.

#ifndef BOOST_DUPLEX_BENCH_BASELINES_ASIO_TUNED_HPP
#define BOOST_DUPLEX_BENCH_BASELINES_ASIO_TUNED_HPP

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
#include <vector>

namespace boost::duplex::bench::baselines::asio_tuned {

template <class P>
using reply_channel = net::experimental::concurrent_channel<void(boost::system::error_code, P)>;

template <class P>
struct request {
    P value;
    reply_channel<P>* reply;
};

template <class P>
using request_channel = net::experimental::concurrent_channel<void(boost::system::error_code, request<P>)>;

constexpr std::size_t capacity = 64;

template <class P>
void answer(request<P>&& req)
{
    // The reply channel has room for every answer its client waits for.
    req.reply->try_send(boost::system::error_code(), echo<P>{}(std::move(req.value)));
}

// Answers requests until the request channel is closed.
template <class P>
net::awaitable<void> server(request_channel<P>& requests)
{
    for (;;) {
        while (requests.try_receive([](boost::system::error_code, request<P> req) { answer(std::move(req)); })) {
        }
        auto [ec, req] = co_await requests.async_receive(net::as_tuple(net::use_awaitable));
        if (ec)
            co_return;  // closed
        answer(std::move(req));
    }
}

template <class P>
net::awaitable<void> client(request_channel<P>& requests, load& ld, asio_rig& rig, std::uint64_t id)
{
    try {
        reply_channel<P> reply(co_await net::this_coro::executor, 1);
        P buf = payload<P>::make();
        for (std::uint64_t n = 0; ld.take(); ++n) {
            const std::uint64_t seq = sequence(id, n);
            payload<P>::stamp(buf, seq);
            const bool sampled = ld.sampled();
            const auto sent = sampled ? clock_type::now() : clock_type::time_point();
            request<P> req{std::move(buf), &reply};
            if (!requests.try_send(boost::system::error_code(), std::move(req)))  // moves req only on success
                co_await requests.async_send(boost::system::error_code(), std::move(req), net::use_awaitable);
            P r;
            if (!reply.try_receive([&r](boost::system::error_code, P v) { r = std::move(v); }))
                r = co_await reply.async_receive(net::use_awaitable);
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

// W4 in one coroutine: send while fewer than `window` are outstanding, then
// take the answers that are there. One server answering in turn and one
// FIFO reply channel keep the answers in request order (check_batch verifies
// it), so each answer goes to the next index.
inline net::awaitable<void> batch_client(request_channel<std::uint64_t>& requests,
                                         const std::vector<std::uint64_t>& input, std::size_t window,
                                         std::vector<std::uint64_t>& results, std::uint64_t& errors, asio_rig& rig)
{
    const std::uint64_t n = input.size();
    try {
        reply_channel<std::uint64_t> reply(co_await net::this_coro::executor, window);
        std::uint64_t sent = 0, received = 0;
        auto take = [&](boost::system::error_code, std::uint64_t v) { results[received++] = v; };
        while (received < n) {
            for (; sent < n && sent - received < window; ++sent) {
                request<std::uint64_t> req{input[sent], &reply};
                if (!requests.try_send(boost::system::error_code(), std::move(req)))
                    co_await requests.async_send(boost::system::error_code(), std::move(req), net::use_awaitable);
            }
            if (!reply.try_receive(take))
                results[received++] = co_await reply.async_receive(net::use_awaitable);
            while (received < sent && reply.try_receive(take)) {
            }
        }
    } catch (...) {
        ++errors;
    }
    rig.clients_done();
}

inline run_result batch(const batch_params& p)
{
    asio_rig rig(topology::one_thread);
    run_result r;
    const std::uint64_t server_errors = with_server<std::uint64_t>(rig, [&](request_channel<std::uint64_t>& requests) {
        r = measure_batch(p, [&](const std::vector<std::uint64_t>& input) -> std::uint64_t {
            const std::uint64_t n = input.size();
            std::vector<std::uint64_t> results(n);
            std::uint64_t errors = 0;
            rig.run_clients([&] {
                net::co_spawn(rig.client_io(), batch_client(requests, input, p.window, results, errors, rig),
                              [&errors](std::exception_ptr e) {
                                  if (e)
                                      ++errors;
                              });
            });
            return errors == 0 && check_batch(results, n) ? 0 : n;
        });
    });
    r.errors += server_errors;
    return r;
}

}  // namespace boost::duplex::bench::baselines::asio_tuned

#endif
