//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Contenders: Boost.Duplex's Asio backend, with callback clients and with
// use_awaitable coroutine clients. Default channel_options, fixed_concurrency
// (limit 16), a synchronous echo handler.

#include "asio_rig.hpp"
#include "bench.hpp"

#include <boost/duplex/asio.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <deque>
#include <exception>
#include <vector>

namespace boost::duplex::bench {
namespace {

namespace dx = boost::duplex;

template <class P>
using client_type = dx::asio_client<P, P>;

// Runs one channel on `rig`: starts its responder, calls start(client),
// which starts the clients, runs them to the end, then stops the responder
// and waits for its run to end. A run that does not end with success counts
// as an error.
template <class P, class Start>
std::uint64_t with_channel(asio_rig& rig, Start&& start)
{
    auto [client, responder] = dx::make_asio_channel<P, P>(rig.server_io().get_executor());
    bool run_ok = false;
    responder.async_run(echo<P>{}, dx::fixed_concurrency{}, [&run_ok](dx::result<void> r) { run_ok = r.has_value(); });
    start(client);
    responder.stop();
    rig.finish();  // joins the responder's thread, if any: run_ok is visible
    return run_ok ? 0 : 1;
}

// ---------------------------------------------------------------------------
// Callbacks
// ---------------------------------------------------------------------------

// A client written with completion callbacks: each response sends the next
// request (completions are always posted, so the stack does not grow). The
// callbacks are bound to the clients' io_context, so that in W3 they run on
// the clients' thread rather than on the channel's executor.
template <class P>
class callback_client {
public:
    callback_client(client_type<P> client, load& ld, asio_rig& rig, std::uint64_t id)
        : client_(std::move(client)), load_(ld), rig_(rig), id_(id), buf_(payload<P>::make())
    {
    }

    void send()
    {
        if (!load_.take()) {
            if (load_.client_done())
                rig_.clients_done();
            return;
        }
        seq_ = sequence(id_, n_++);
        payload<P>::stamp(buf_, seq_);
        sampled_ = load_.sampled();
        if (sampled_)
            sent_ = clock_type::now();
        client_.async_request(std::move(buf_), net::bind_executor(rig_.client_io(), [this](dx::result<P> r) {
                                  received(std::move(r));
                              }));
    }

private:
    void received(dx::result<P>&& r)
    {
        const auto now = sampled_ ? clock_type::now() : clock_type::time_point();
        const bool ok = r && payload<P>::check(r.value(), seq_);
        buf_ = r ? std::move(r).value() : payload<P>::make();
        if (sampled_)
            load_.record(ok, now - sent_);
        else
            load_.record(ok);
        send();
    }

    client_type<P> client_;
    load& load_;
    asio_rig& rig_;
    std::uint64_t id_;
    std::uint64_t n_ = 0;
    std::uint64_t seq_ = 0;
    bool sampled_ = false;
    clock_type::time_point sent_{};
    P buf_;
};

template <class P>
run_result callbacks_load(topology where, std::size_t clients, load& ld)
{
    asio_rig rig(where);
    std::deque<callback_client<P>> cs;
    const std::uint64_t run_errors = with_channel<P>(rig, [&](client_type<P>& client) {
        for (std::size_t id = 0; id != clients; ++id)
            cs.emplace_back(client, ld, rig, id);
        rig.run_clients([&] {
            for (auto& c : cs)
                c.send();
        });
    });
    run_result r = ld.result();
    r.errors += run_errors;
    return r;
}

run_result callbacks_latency(const latency_params& p)
{
    load ld(p.warm, p.requests, p.samples, 1);
    ld.reserve_samples(p.samples);
    return callbacks_load<std::uint64_t>(topology::one_thread, 1, ld);
}

run_result callbacks_throughput(const throughput_params& p)
{
    return with_payload(p.payload, [&]<class P>() {
        load ld(p);
        return callbacks_load<P>(p.where, p.clients, ld);
    });
}

run_result callbacks_batch(const batch_params& p)
{
    asio_rig rig(topology::one_thread);
    run_result r;
    const std::uint64_t run_errors = with_channel<std::uint64_t>(rig, [&](client_type<std::uint64_t>& client) {
        r = measure_batch(p, [&](const std::vector<std::uint64_t>& requests) {
            const std::uint64_t n = requests.size();
            std::uint64_t errors = 0;
            rig.run_clients([&] {
                client.async_request_batch(requests, p.window,
                                           net::bind_executor(rig.client_io(),
                                                              [&](dx::result<std::vector<std::uint64_t>> res) {
                                                                  if (!res || !check_batch(res.value(), n))
                                                                      errors = n;
                                                                  rig.clients_done();
                                                              }));
            });
            return errors;
        });
    });
    r.errors += run_errors;
    return r;
}

// ---------------------------------------------------------------------------
// use_awaitable coroutines
// ---------------------------------------------------------------------------

template <class P>
net::awaitable<void> awaitable_client(client_type<P> client, load& ld, asio_rig& rig, std::uint64_t id)
{
    try {
        P buf = payload<P>::make();
        for (std::uint64_t n = 0; ld.take(); ++n) {
            const std::uint64_t seq = sequence(id, n);
            payload<P>::stamp(buf, seq);
            const bool sampled = ld.sampled();
            const auto sent = sampled ? clock_type::now() : clock_type::time_point();
            dx::result<P> r = co_await client.async_request(std::move(buf), net::use_awaitable);
            const auto now = sampled ? clock_type::now() : clock_type::time_point();
            const bool ok = r && payload<P>::check(r.value(), seq);
            buf = r ? std::move(r).value() : payload<P>::make();
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

template <class P>
run_result awaitable_load(topology where, std::size_t clients, load& ld)
{
    asio_rig rig(where);
    const std::uint64_t run_errors = with_channel<P>(rig, [&](client_type<P>& client) {
        rig.run_clients([&] {
            for (std::size_t id = 0; id != clients; ++id)
                net::co_spawn(rig.client_io(), awaitable_client<P>(client, ld, rig, id), [&ld](std::exception_ptr e) {
                    if (e)
                        ld.fail();
                });
        });
    });
    run_result r = ld.result();
    r.errors += run_errors;
    return r;
}

run_result awaitable_latency(const latency_params& p)
{
    load ld(p.warm, p.requests, p.samples, 1);
    ld.reserve_samples(p.samples);
    return awaitable_load<std::uint64_t>(topology::one_thread, 1, ld);
}

run_result awaitable_throughput(const throughput_params& p)
{
    return with_payload(p.payload, [&]<class P>() {
        load ld(p);
        return awaitable_load<P>(p.where, p.clients, ld);
    });
}

net::awaitable<void> awaitable_batch_client(client_type<std::uint64_t> client,
                                            const std::vector<std::uint64_t>& requests, std::size_t window,
                                            std::uint64_t& errors, asio_rig& rig)
{
    const std::uint64_t n = requests.size();
    try {
        dx::result<std::vector<std::uint64_t>> res =
            co_await client.async_request_batch(requests, window, net::use_awaitable);
        if (!res || !check_batch(res.value(), n))
            errors = n;
    } catch (...) {
        errors = n;
    }
    rig.clients_done();
}

run_result awaitable_batch(const batch_params& p)
{
    asio_rig rig(topology::one_thread);
    run_result r;
    const std::uint64_t run_errors = with_channel<std::uint64_t>(rig, [&](client_type<std::uint64_t>& client) {
        r = measure_batch(p, [&](const std::vector<std::uint64_t>& requests) {
            const std::uint64_t n = requests.size();
            std::uint64_t errors = 0;
            rig.run_clients([&] {
                net::co_spawn(rig.client_io(), awaitable_batch_client(client, requests, p.window, errors, rig),
                              [&errors, n](std::exception_ptr e) {
                                  if (e)
                                      errors = n;
                              });
            });
            return errors;
        });
    });
    r.errors += run_errors;
    return r;
}

}  // namespace

contender duplex_asio_callbacks()
{
    return {"duplex_asio_callbacks", "Duplex Asio, callbacks", "Asio callbacks", true, callbacks_latency, callbacks_throughput,
            callbacks_batch};
}

contender duplex_asio_awaitable()
{
    return {"duplex_asio_awaitable", "Duplex Asio, use_awaitable", "Asio awaitable", true, awaitable_latency, awaitable_throughput,
            awaitable_batch};
}

}  // namespace boost::duplex::bench
