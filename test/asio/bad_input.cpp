//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Bad input (issue #6, item 4), Asio backend. Items already covered elsewhere
// are not repeated here:
//   concurrency 0           batch.cpp concurrency_zero_is_invalid_argument,
//                           concurrency.cpp fixed_concurrency_zero_is_read_as_one
//   capacity 0 under load   backpressure.cpp capacity_zero_rendezvous_under_load
//   zero/negative timeouts  timeout.cpp zero_and_negative_timeouts_fail_at_once_and_never_reach_the_handler
//   duration::max()         timeout.cpp duration_max_means_no_deadline,
//                           duration_max_as_the_channel_default_means_no_deadline
//   requests after stop     shutdown.cpp requests_after_stop_are_closed_at_once
//   destroyed in a handler  destruction.cpp destroying_responder_from_inside_its_sync_handler,
//                           destroying_responder_from_inside_its_awaitable_handler
// This file adds the batch forms of those, the 1 000 000-request batch, a
// handler that never returns, and a zero channel default timeout.

#define BOOST_TEST_MODULE asio_bad_input
#include <boost/test/unit_test.hpp>

#include "common.hpp"
#include "../lazy_range.hpp"
#include "../sanitized.hpp"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <cstdio>
#include <cstring>
#include <ranges>
#include <string>

using namespace duplex_test;

// Under a sanitizer the memory and time bounds of the million-request batches
// measure the tool, not the library: AddressSanitizer keeps freed blocks in
// its quarantine (256 MB) instead of reusing them, so VmHWM grows with every
// byte allocated rather than with the live ones, and sanitized code runs 2-15
// times slower. There the bounds are reported, not checked; the plain builds
// (gcc Release, clang, b2) check them.
using duplex_test_support::sanitized;
using duration = std::chrono::steady_clock::duration;

namespace {

using u64 = std::uint64_t;

using duplex_test_support::counting;
using duplex_test_support::proc_status_kb;
using batch_result = dx::result<std::vector<int>>;
using settled_result = std::vector<dx::result<int>>;

}  // namespace

// 1 000 000 requests in one batch with concurrency 64: every response
// arrives, in input order, and the peak memory grows by the results
// (8 bytes per request, 8 MB) plus a bounded amount, far less than per-request
// channel state would need (a slot, a completion, a timer entry each: well
// over 64 bytes per request, 64 MB).
BOOST_AUTO_TEST_CASE(a_batch_of_a_million_requests_uses_memory_bounded_by_the_concurrency)
{
    constexpr u64 n = 1'000'000;
    net::io_context io;
    auto ch = dx::make_asio_channel<u64, u64>(io.get_executor());
    auto& client = ch.first;
    auto& responder = ch.second;
    std::size_t max_in_flight = 0;
    std::size_t max_queued = 0;
    responder.async_run(
        [&](u64 v) {
            const auto s = responder.stats();
            max_in_flight = std::max(max_in_flight, s.in_flight);
            max_queued = std::max(max_queued, s.queued);
            return v * 3;
        },
        dx::fixed_concurrency{16}, net::detached);

    // Warm up (the slab and the timer), then take the baseline.
    {
        std::optional<dx::result<std::vector<u64>>> warm;
        client.async_request_batch(counting(u64(0), u64(1000)), 64,
                                   [&](dx::result<std::vector<u64>> r) { warm.emplace(std::move(r)); });
        BOOST_TEST_REQUIRE(run_until(io, [&] { return warm.has_value(); }));
        BOOST_TEST_REQUIRE(warm->has_value());
    }
    const long hwm0 = proc_status_kb("VmHWM");
    const long rss0 = proc_status_kb("VmRSS");
    BOOST_TEST_REQUIRE(hwm0 > 0);

    const auto start = clock_type::now();
    std::optional<dx::result<std::vector<u64>>> res;
    client.async_request_batch(counting(u64(0), n), 64,
                               [&](dx::result<std::vector<u64>> r) { res.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(io, [&] { return res.has_value(); }, 30s));
    const double secs = seconds_since(start);
    const long hwm1 = proc_status_kb("VmHWM");
    const long rss1 = proc_status_kb("VmRSS");
    BOOST_TEST_MESSAGE("1M batch: " << secs << " s, VmHWM +" << (hwm1 - hwm0) << " kB, VmRSS +" << (rss1 - rss0)
                                    << " kB, max in flight " << max_in_flight << ", max queued " << max_queued);

    BOOST_TEST_REQUIRE(res->has_value());
    const auto& v = res->value();
    BOOST_TEST_REQUIRE(v.size() == n);
    bool in_order = true;
    for (u64 i = 0; i != n; ++i)
        in_order = in_order && v[i] == i * 3;
    BOOST_TEST(in_order);
    BOOST_TEST(max_in_flight <= 16u);
    BOOST_TEST(max_queued <= 64u);  // never more than the batch's concurrency outstanding
    if (!sanitized)
        BOOST_TEST((hwm1 - hwm0) < 64 * 1024, "peak memory grew by " << (hwm1 - hwm0) << " kB");
    if (!sanitized)
        BOOST_TEST(secs < 10.0);  // a generous bound: the batch must not be quadratic
    const auto s = responder.stats();
    BOOST_TEST(s.completed == n + 1000);
    BOOST_TEST(s.queued == 0u);
    BOOST_TEST(s.in_flight == 0u);
}

// The settled form of the same: 1 000 000 results, each a result<u64>; the
// peak memory grows by the results (staged once while the batch runs, then
// moved into the returned vector) plus a bounded amount.
BOOST_AUTO_TEST_CASE(a_settled_batch_of_a_million_requests_uses_memory_bounded_by_the_concurrency)
{
    constexpr u64 n = 1'000'000;
    net::io_context io;
    auto ch = dx::make_asio_channel<u64, u64>(io.get_executor());
    auto& client = ch.first;
    auto& responder = ch.second;
    responder.async_run([](u64 v) { return v + 5; }, dx::fixed_concurrency{16}, net::detached);
    {
        std::optional<std::vector<dx::result<u64>>> warm;
        client.async_request_batch_settled(counting(u64(0), u64(1000)), 64,
                                           [&](std::vector<dx::result<u64>> r) { warm.emplace(std::move(r)); });
        BOOST_TEST_REQUIRE(run_until(io, [&] { return warm.has_value(); }));
    }
    const long hwm0 = proc_status_kb("VmHWM");
    BOOST_TEST_REQUIRE(hwm0 > 0);
    const auto start = clock_type::now();
    std::optional<std::vector<dx::result<u64>>> res;
    client.async_request_batch_settled(counting(u64(0), n), 64,
                                       [&](std::vector<dx::result<u64>> r) { res.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(io, [&] { return res.has_value(); }, 30s));
    const double secs = seconds_since(start);
    const long grown_kb = proc_status_kb("VmHWM") - hwm0;
    // What the results alone take, staged once (as optional<result>) and returned once.
    const long results_kb = long(n * (sizeof(dx::result<u64>) + sizeof(std::optional<dx::result<u64>>)) / 1024);
    BOOST_TEST_MESSAGE("1M settled batch: " << secs << " s, VmHWM +" << grown_kb << " kB, results " << results_kb
                                            << " kB (sizeof(result<u64>) = " << sizeof(dx::result<u64>) << ")");
    BOOST_TEST_REQUIRE(res->size() == n);
    bool ok = true;
    for (u64 i = 0; i != n; ++i)
        ok = ok && (*res)[i].has_value() && (*res)[i].value() == i + 5;
    BOOST_TEST(ok);
    if (!sanitized)
        BOOST_TEST(grown_kb < results_kb + 16 * 1024, "peak memory grew by " << grown_kb << " kB");
    if (!sanitized)
        BOOST_TEST(secs < 10.0);
}

// A handler that never returns (an awaitable that suspends forever, even
// through cancellation) holds one unit of concurrency: its request's deadline
// still fires on time, the other unit keeps serving, and stop() closes every
// queued request and every later one at once. The run itself does not end
// while the stuck invocation runs (guarantee 5: in-flight ones finish first);
// destroying the responder then ends it with closed and closes the stuck
// request at once (guarantee 11).
BOOST_AUTO_TEST_CASE(a_handler_that_never_returns_lets_deadlines_fire_and_stop_close_the_rest)
{
    net::io_context io;
    gate never;  // opened only at the very end, to free the coroutines
    dx::channel_options opts;
    opts.capacity = 8;
    opts.timeout = 30s;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    std::optional<dx::asio_responder<int, int>> responder(std::move(ch.second));
    std::vector<int> seen;
    std::optional<dx::result<void>> run;
    responder->async_run(
        [&](int v) -> net::awaitable<int> {
            seen.push_back(v);
            if (v < 0)
                co_await never.wait_ignoring_cancellation();
            co_return v * 2;
        },
        dx::fixed_concurrency{2}, [&](dx::result<void> r) { run.emplace(r); });

    // The stuck request times out on time.
    outcome stuck;
    client.async_request(-1, 100ms, record(stuck));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return stuck.done(); }));
    BOOST_TEST(stuck.is(dx::error::timeout));
    BOOST_TEST(stuck.elapsed() >= 100ms);
    BOOST_TEST(stuck.elapsed() < 5s);
    BOOST_TEST(responder->stats().in_flight == 1u);  // the invocation still runs

    // The other unit of concurrency keeps serving.
    std::vector<outcome> served(20);
    for (int i = 0; i != 20; ++i)
        client.async_request(i, record(served[std::size_t(i)]));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(served); }));
    for (int i = 0; i != 20; ++i)
        BOOST_TEST(served[std::size_t(i)].holds(i * 2), "request " << i);

    // A second stuck one takes the last unit; requests queue behind.
    outcome stuck2;
    client.async_request(-2, record(stuck2));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder->stats().in_flight == 2; }));
    std::vector<outcome> queued(5);
    for (auto& o : queued)
        client.async_request(7, record(o));
    poll(io);
    BOOST_TEST(responder->stats().queued == 5u);

    // stop(): every queued request, and every later one, is closed at once.
    const auto stop_at = clock_type::now();
    responder->stop();
    std::vector<outcome> later(3);
    for (auto& o : later)
        client.async_request(8, record(o));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(queued) && all_done(later); }));
    for (auto& o : queued)
        BOOST_TEST(o.is(dx::error::closed));
    for (auto& o : later)
        BOOST_TEST(o.is(dx::error::closed));
    BOOST_TEST(seconds_since(stop_at) < 1.0);
    BOOST_TEST(!stuck2.done());
    BOOST_TEST(!run.has_value());  // waits for the stuck invocation

    // Destroying the responder ends it all at once.
    responder.reset();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return stuck2.done() && run.has_value(); }));
    BOOST_TEST(stuck2.is(dx::error::closed));
    BOOST_TEST(failed_with(*run, dx::error::closed));
    BOOST_TEST(seconds_since(stop_at) < 2.0);
    BOOST_TEST(stuck.completions == 1);
    BOOST_TEST(stuck2.completions == 1);

    never.open();
    run_until(io, [] { return false; }, 200ms);  // let the coroutines end; io runs out of work
}

// A batch with a zero or negative timeout (duration::min() included) fails
// with timeout at once, and none of its requests reaches the handler; the
// settled form settles each with timeout.
BOOST_AUTO_TEST_CASE(batches_with_zero_or_negative_timeouts_time_out_at_once_unhandled)
{
    net::io_context io;
    std::vector<int> seen;
    dx::channel_options opts;
    opts.timeout = 30s;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    responder.async_run(recording_handler(seen), dx::fixed_concurrency{4}, net::detached);
    poll(io);
    const std::vector<int> reqs{1, 2, 3, 4, 5};
    for (duration t : {duration(0ns), duration(-1ns), duration(-1h), duration::min()}) {
        BOOST_TEST_CONTEXT("timeout " << t.count() << " ns")
        {
            std::optional<batch_result> b;
            const auto start = clock_type::now();
            client.async_request_batch(reqs, 2, t, [&](batch_result r) { b.emplace(std::move(r)); });
            BOOST_TEST(!b.has_value());
            BOOST_TEST_REQUIRE(run_until(io, [&] { return b.has_value(); }));
            BOOST_TEST(failed_with(*b, dx::error::timeout));
            BOOST_TEST(seconds_since(start) < 1.0);
        }
    }
    BOOST_TEST(seen.empty());

    // Served normally afterwards.
    std::optional<batch_result> ok;
    client.async_request_batch(reqs, 2, 10s, [&](batch_result r) { ok.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(io, [&] { return ok.has_value(); }));
    BOOST_TEST_REQUIRE(ok->has_value());
    BOOST_TEST(ok->value() == (std::vector<int>{2, 4, 6, 8, 10}));
}

// duration::max() as a batch's timeout means no deadline, even where the
// channel default (50 ms) would have ended every request long before.
BOOST_AUTO_TEST_CASE(a_batch_with_duration_max_timeout_has_no_deadline)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    dx::channel_options opts;
    opts.timeout = 50ms;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{2}, net::detached);
    const std::vector<int> reqs{1, 2, 3, 4};
    std::optional<batch_result> b;
    client.async_request_batch(reqs, 4, duration::max(), [&](batch_result r) { b.emplace(std::move(r)); });
    // A request with the default timeout, held the same way, times out.
    outcome dflt;
    client.async_request(9, record(dflt));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return dflt.done(); }));
    BOOST_TEST(dflt.is(dx::error::timeout));
    // Ten times the default later the batch still waits.
    net::steady_timer t(io, 500ms);
    bool fired = false;
    t.async_wait([&](boost::system::error_code) { fired = true; });
    BOOST_TEST_REQUIRE(run_until(io, [&] { return fired; }));
    BOOST_TEST(!b.has_value());
    g.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return b.has_value(); }));
    BOOST_TEST_REQUIRE(b->has_value());
    BOOST_TEST(b->value() == (std::vector<int>{2, 4, 6, 8}));
}

// A channel whose default timeout is zero or negative: every request made
// without its own timeout, and every batch, times out at once without
// reaching the handler; requests with their own positive timeout are served.
BOOST_AUTO_TEST_CASE(a_zero_or_negative_channel_default_timeout_times_out_every_default_request_at_once)
{
    for (duration def : {duration(0ns), duration(-1s), duration::min()}) {
        BOOST_TEST_CONTEXT("default timeout " << def.count() << " ns")
        {
            net::io_context io;
            std::vector<int> seen;
            dx::channel_options opts;
            opts.timeout = def;
            auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
            auto& client = ch.first;
            auto& responder = ch.second;
            responder.async_run(recording_handler(seen), dx::fixed_concurrency{4}, net::detached);
            outcome o;
            client.async_request(1, record(o));
            std::optional<batch_result> b;
            client.async_request_batch(std::vector<int>{1, 2}, 2, [&](batch_result r) { b.emplace(std::move(r)); });
            std::optional<settled_result> s;
            client.async_request_batch_settled(std::vector<int>{1, 2}, 2,
                                               [&](settled_result r) { s.emplace(std::move(r)); });
            BOOST_TEST_REQUIRE(run_until(io, [&] { return o.done() && b && s; }));
            BOOST_TEST(o.is(dx::error::timeout));
            BOOST_TEST(o.elapsed() < 1s);
            BOOST_TEST(failed_with(*b, dx::error::timeout));
            BOOST_TEST_REQUIRE(s->size() == 2u);
            for (auto& r : *s)
                BOOST_TEST(failed_with(r, dx::error::timeout));
            BOOST_TEST(seen.empty());
            outcome ok;
            client.async_request(21, 10s, record(ok));
            BOOST_TEST_REQUIRE(run_until(io, [&] { return ok.done(); }));
            BOOST_TEST(ok.holds(42));
        }
    }
}

// Batches made after stop() (while the run still drains, and after it ended)
// fail with closed at once; the settled form settles every element with
// closed; nothing reaches the handler.
BOOST_AUTO_TEST_CASE(batches_after_stop_are_closed_at_once)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    dx::channel_options opts;
    opts.timeout = 30s;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    std::optional<dx::result<void>> run;
    responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{1},
                        [&](dx::result<void> r) { run.emplace(r); });
    outcome running;
    client.async_request(1, record(running));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 1; }));
    responder.stop();

    for (int phase = 0; phase != 2; ++phase) {
        BOOST_TEST_CONTEXT((phase == 0 ? "while the run drains" : "after the run ended"))
        {
            std::optional<batch_result> b;
            std::optional<settled_result> s;
            const auto start = clock_type::now();
            client.async_request_batch(std::vector<int>{5, 6, 7}, 2, [&](batch_result r) { b.emplace(std::move(r)); });
            client.async_request_batch_settled(std::vector<int>{5, 6, 7}, 2,
                                               [&](settled_result r) { s.emplace(std::move(r)); });
            BOOST_TEST_REQUIRE(run_until(io, [&] { return b && s; }));
            BOOST_TEST(failed_with(*b, dx::error::closed));
            BOOST_TEST_REQUIRE(s->size() == 3u);
            for (auto& r : *s)
                BOOST_TEST(failed_with(r, dx::error::closed));
            BOOST_TEST(seconds_since(start) < 1.0);
        }
        if (phase == 0) {
            BOOST_TEST(!run.has_value());
            g.open();
            BOOST_TEST_REQUIRE(run_until(io, [&] { return running.done() && run.has_value(); }));
            BOOST_TEST(running.holds(2));
            BOOST_TEST(run->has_value());
        }
    }
    BOOST_TEST(seen == std::vector<int>{1});
}

// A rendezvous channel (capacity 0) serves batches far larger than its
// concurrency and the responder's limit, from several clients at once, in
// input order, with nothing ever queued beyond what the responder takes.
BOOST_AUTO_TEST_CASE(rendezvous_channel_serves_large_concurrent_batches)
{
    net::io_context io;
    dx::channel_options opts;
    opts.capacity = 0;
    opts.timeout = 30s;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    std::size_t max_queued = 0;
    responder.async_run(
        [&](int v) -> net::awaitable<int> {
            max_queued = std::max(max_queued, responder.stats().queued);
            co_return v + 1;
        },
        dx::fixed_concurrency{3}, net::detached);
    constexpr int n = 2000;
    std::vector<std::optional<batch_result>> bs(4);
    for (std::size_t k = 0; k != bs.size(); ++k)
        client.async_request_batch(counting(0, n), 7 + k, [&bs, k](batch_result r) { bs[k].emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(io, [&] {
        for (auto& b : bs)
            if (!b)
                return false;
        return true;
    }, 20s));
    for (auto& b : bs) {
        BOOST_TEST_REQUIRE(b->has_value());
        bool ok = b->value().size() == std::size_t(n);
        for (int i = 0; ok && i != n; ++i)
            ok = b->value()[std::size_t(i)] == i + 1;
        BOOST_TEST(ok);
    }
    BOOST_TEST(max_queued <= 3u);  // rendezvous: only what the responder asked for is handed over
    BOOST_TEST(responder.stats().completed == 4u * n);
}

// Limits of SIZE_MAX ("no limit") in the dynamic strategies serve requests,
// and stop() then ends the run (once the limit became 0, nothing was served
// and stop() hung).
BOOST_AUTO_TEST_CASE(dynamic_strategies_with_size_max_limits_serve_and_stop)
{
    const auto serve_and_stop = [](auto strategy) {
        net::io_context io;
        dx::channel_options opts;
        opts.timeout = 10s;
        auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
        auto& client = ch.first;
        auto& responder = ch.second;
        std::vector<int> seen;
        std::optional<dx::result<void>> run;
        responder.async_run(recording_handler(seen), strategy, [&](dx::result<void> r) { run.emplace(r); });
        std::vector<outcome> o(50);
        for (int i = 0; i != 50; ++i)
            client.async_request(i, record(o[std::size_t(i)]));
        BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o); }));
        for (int i = 0; i != 50; ++i)
            BOOST_TEST(o[std::size_t(i)].holds(i * 2));
        BOOST_TEST(responder.stats().concurrency_limit >= std::size_t(1) << 32);
        responder.stop();
        BOOST_TEST_REQUIRE(run_until(io, [&] { return run.has_value(); }));
        BOOST_TEST(run->has_value());
    };
    dx::dynamic_concurrency d;
    d.initial = d.max = SIZE_MAX;
    serve_and_stop(d);
    dx::aimd_concurrency a;
    a.initial = a.max = SIZE_MAX;
    serve_and_stop(a);
}

// A priority cast from a value outside the enumeration is read as the
// highest there is: it never displaces a critical request, nor indexes past
// the queue's levels.
BOOST_AUTO_TEST_CASE(a_priority_outside_the_enumeration_reads_as_critical)
{
    net::io_context io;
    dx::channel_options opts = options(10s, 1);
    opts.on_full = dx::overflow::reject;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    const auto odd = client.with_priority(static_cast<dx::priority>(9));
    BOOST_TEST((odd.get_priority() == dx::priority::critical));
    outcome a, b;
    client.with_priority(dx::priority::critical).async_request(1, record(a));
    auto c = odd;
    c.async_request(2, record(b));  // the queue is full of an equal priority: no displacement
    BOOST_TEST_REQUIRE(run_until(io, [&] { return b.done(); }));
    BOOST_TEST(b.is(dx::error::queue_full));
    BOOST_TEST(!a.done());
    BOOST_TEST(responder.stats().shed == 0u);
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return a.done(); }));
    BOOST_TEST(a.is(dx::error::closed));
}
