//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Contender: Boost.Duplex's Fiber backend. Default channel_options,
// fixed_concurrency (limit 16), a synchronous echo handler; each client is
// a fiber.

#include "bench.hpp"
#include "fiber_rig.hpp"

#include <boost/duplex/fiber.hpp>

#include <cstdint>
#include <vector>

namespace boost::duplex::bench {
namespace {

namespace dx = boost::duplex;

template <class P>
using client_type = dx::fiber_client<P, P>;

// Runs one channel: the responder (until every client is done), and
// client(client, i) for i in [0, clients), each in a fiber, placed as `where`
// says. A run that does not end with success counts as an error.
template <class P, class Client>
std::uint64_t with_channel(topology where, std::size_t clients, Client&& client)
{
    // Not a structured binding: clang 14 cannot capture one in a lambda.
    auto channel = dx::make_fiber_channel<P, P>();
    auto& c = channel.first;
    auto& responder = channel.second;
    bool run_ok = false;
    run_fiber_contender(
        where, clients, [&] { run_ok = responder.run(echo<P>{}, dx::fixed_concurrency{}).has_value(); },
        [&] { responder.stop(); }, [&](std::size_t i) { client(c, i); });
    return run_ok ? 0 : 1;
}

template <class P>
void client_loop(client_type<P> client, load& ld, std::uint64_t id)
{
    P buf = payload<P>::make();
    for (std::uint64_t n = 0; ld.take(); ++n) {
        const std::uint64_t seq = sequence(id, n);
        payload<P>::stamp(buf, seq);
        const bool sampled = ld.sampled();
        const auto sent = sampled ? clock_type::now() : clock_type::time_point();
        dx::result<P> r = client.request(std::move(buf));
        const auto now = sampled ? clock_type::now() : clock_type::time_point();
        const bool ok = r && payload<P>::check(r.value(), seq);
        buf = r ? std::move(r).value() : payload<P>::make();
        if (sampled)
            ld.record(ok, now - sent);
        else
            ld.record(ok);
    }
    ld.client_done();
}

template <class P>
run_result fiber_load(topology where, std::size_t clients, load& ld)
{
    const std::uint64_t run_errors =
        with_channel<P>(where, clients, [&](client_type<P>& client, std::size_t id) { client_loop<P>(client, ld, id); });
    run_result r = ld.result();
    r.errors += run_errors;
    return r;
}

run_result fiber_latency(const latency_params& p)
{
    load ld(p.warm, p.requests, p.samples, 1);
    ld.reserve_samples(p.samples);
    return fiber_load<std::uint64_t>(topology::one_thread, 1, ld);
}

run_result fiber_throughput(const throughput_params& p)
{
    return with_payload(p.payload, [&]<class P>() {
        load ld(p);
        return fiber_load<P>(p.where, p.clients, ld);
    });
}

run_result fiber_batch(const batch_params& p)
{
    run_result r;
    const std::uint64_t run_errors =
        with_channel<std::uint64_t>(topology::one_thread, 1, [&](client_type<std::uint64_t>& client, std::size_t) {
            r = measure_batch(p, [&](const std::vector<std::uint64_t>& requests) -> std::uint64_t {
                auto res = client.request_batch(requests, p.window);
                return res && check_batch(res.value(), requests.size()) ? 0 : requests.size();
            });
        });
    r.errors += run_errors;
    return r;
}

}  // namespace

contender duplex_fiber()
{
    return {"duplex_fiber", "Duplex Fiber", "Fiber", true, fiber_latency, fiber_throughput, fiber_batch};
}

}  // namespace boost::duplex::bench
