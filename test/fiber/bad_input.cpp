//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Bad input (issue #6, item 4), Boost.Fiber backend. Items already covered
// elsewhere are not repeated here:
//   concurrency 0           batch.cpp concurrency_zero_is_invalid,
//                           concurrency.cpp fixed_limit_zero_reads_as_one
//   capacity 0 under load   backpressure.cpp rendezvous_under_load
//   zero/negative timeouts  timeout.cpp zero_or_negative_timeout_times_out_at_once_unhandled
//   duration::max()         timeout.cpp duration_max_means_no_deadline
//   requests after stop     shutdown.cpp stop_closes_queued_and_delivers_in_flight_then_run_succeeds,
//                           prompt_close.cpp requests_after_the_run_returned_are_closed_at_once
//   destroyed in a handler  not allowed: a fiber_responder must outlive its run()
//                           (API.md guarantee 11, asserted in debug builds)
// This file adds the batch forms of those, the 1 000 000-request batch, a
// handler that never returns, and a zero channel default timeout.

#define BOOST_TEST_MODULE fiber_bad_input
#include <boost/test/unit_test.hpp>

#include "common.hpp"
#include "../lazy_range.hpp"
#include "../sanitized.hpp"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <cstring>
#include <ranges>
#include <string>

using namespace fiber_test;

// Under a sanitizer the memory and time bounds of the million-request batches
// measure the tool, not the library: AddressSanitizer keeps freed blocks in
// its quarantine (256 MB) instead of reusing them, so VmHWM grows with every
// byte allocated rather than with the live ones, and sanitized code runs 2-15
// times slower. There the bounds are reported, not checked; the plain builds
// (gcc Release, clang, b2) check them.
using duplex_test_support::sanitized;

using duplex_test_support::counting;
using duplex_test_support::proc_status_kb;
using u64 = std::uint64_t;

// 1 000 000 requests in one batch with concurrency 64: every response
// arrives in input order, and the peak memory grows by the results (8 bytes
// per request) plus a bounded amount, far below what per-request channel
// state (a slot, a handler fiber and its stack each) would need.
BOOST_AUTO_TEST_CASE(a_batch_of_a_million_requests_uses_memory_bounded_by_the_concurrency)
{
    watchdog wd(60s);
    constexpr u64 n = 1'000'000;
    channel<u64, u64> ch;
    counter in_flight;
    std::size_t max_in_flight = 0;
    runner run(
        *ch.responder,
        [&](u64 v) {
            max_in_flight = std::max(max_in_flight, ch.responder->stats().in_flight);
            return v * 3;
        },
        dx::fixed_concurrency{16});

    auto warm = ch.client->request_batch(counting(u64(0), u64(1000)), 64);
    BOOST_TEST_REQUIRE(warm.has_value());
    const long hwm0 = proc_status_kb("VmHWM");
    BOOST_TEST_REQUIRE(hwm0 > 0);

    const auto start = clock_type::now();
    auto res = ch.client->request_batch(counting(u64(0), n), 64);
    const double secs = seconds_since(start);
    const long grown_kb = proc_status_kb("VmHWM") - hwm0;
    BOOST_TEST_MESSAGE("1M batch: " << secs << " s, VmHWM +" << grown_kb << " kB, max in flight " << max_in_flight);

    BOOST_TEST_REQUIRE(res.has_value());
    const auto& v = res.value();
    BOOST_TEST_REQUIRE(v.size() == n);
    bool in_order = true;
    for (u64 i = 0; i != n; ++i)
        in_order = in_order && v[i] == i * 3;
    BOOST_TEST(in_order);
    BOOST_TEST(max_in_flight <= 16u);
    if (!sanitized)
        BOOST_TEST(grown_kb < 64 * 1024, "peak memory grew by " << grown_kb << " kB");
    if (!sanitized)
        BOOST_TEST(secs < 10.0);  // a generous bound: the batch must not be quadratic
    BOOST_TEST(ch.responder->stats().completed == n + 1000);

    ch.responder->stop();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// The settled form: 1 000 000 result<u64>; the peak grows by the results,
// staged once while the batch runs and returned once, plus a bounded amount.
BOOST_AUTO_TEST_CASE(a_settled_batch_of_a_million_requests_uses_memory_bounded_by_the_concurrency)
{
    watchdog wd(60s);
    constexpr u64 n = 1'000'000;
    channel<u64, u64> ch;
    runner run(*ch.responder, [](u64 v) { return v + 5; }, dx::fixed_concurrency{16});
    auto warm = ch.client->request_batch_settled(counting(u64(0), u64(1000)), 64);
    BOOST_TEST_REQUIRE(warm.size() == 1000u);
    const long hwm0 = proc_status_kb("VmHWM");
    BOOST_TEST_REQUIRE(hwm0 > 0);
    const auto start = clock_type::now();
    auto res = ch.client->request_batch_settled(counting(u64(0), n), 64);
    const double secs = seconds_since(start);
    const long grown_kb = proc_status_kb("VmHWM") - hwm0;
    const long results_kb = long(n * (sizeof(dx::result<u64>) + sizeof(std::optional<dx::result<u64>>)) / 1024);
    BOOST_TEST_MESSAGE("1M settled batch: " << secs << " s, VmHWM +" << grown_kb << " kB, results " << results_kb
                                            << " kB");
    BOOST_TEST_REQUIRE(res.size() == n);
    bool ok = true;
    for (u64 i = 0; i != n; ++i)
        ok = ok && res[i].has_value() && res[i].value() == i + 5;
    BOOST_TEST(ok);
    if (!sanitized)
        BOOST_TEST(grown_kb < results_kb + 16 * 1024, "peak memory grew by " << grown_kb << " kB");
    if (!sanitized)
        BOOST_TEST(secs < 10.0);
    ch.responder->stop();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// A handler that blocks without end holds one unit of concurrency: its
// request's deadline still fires on time, the other unit keeps serving, and
// stop() closes every queued request and every later one at once. The run
// returns only once the stuck invocation ends (guarantee 5; a fiber_responder
// cannot be destroyed under its run), and then with success.
BOOST_AUTO_TEST_CASE(a_handler_that_never_returns_lets_deadlines_fire_and_stop_close_the_rest)
{
    watchdog wd;
    gate never;  // opened only at the very end, so that the run can return
    counter entered_stuck;
    channel<int, int> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(
        responder,
        [&](int v) {
            if (v < 0) {
                entered_stuck.add();
                never.wait();
            }
            return v * 2;
        },
        dx::fixed_concurrency{2});

    // The stuck request times out on time.
    const auto t0 = clock_type::now();
    auto stuck = ch.client->request(-1, 100ms);
    const auto took = clock_type::now() - t0;
    BOOST_TEST(code_of(stuck) == code(dx::error::timeout));
    BOOST_TEST(took >= 100ms);
    BOOST_TEST(took < 5s);
    BOOST_TEST(responder.stats().in_flight == 1u);  // the invocation still runs

    // The other unit keeps serving.
    for (int i = 0; i != 20; ++i) {
        auto r = ch.client->request(i);
        BOOST_TEST((r.has_value() && r.value() == i * 2), "request " << i);
    }

    // A second stuck one takes the last unit; five requests queue behind.
    std::optional<dx::result<int>> stuck2;
    scoped_fiber f2([&] { stuck2.emplace(ch.client->request(-2)); });
    BOOST_TEST_REQUIRE(entered_stuck.wait_at_least(2));
    std::vector<std::optional<dx::result<int>>> queued(5);
    counter returned;
    std::vector<scoped_fiber> fs;
    for (std::size_t i = 0; i != queued.size(); ++i)
        fs.emplace_back([&, i] {
            queued[i].emplace(ch.client->request(7));
            returned.add();
        });
    BOOST_TEST_REQUIRE(poll_until([&] { return responder.stats().queued == 5; }));

    // stop(): the queued and every later request are closed at once.
    const auto stop_at = clock_type::now();
    responder.stop();
    BOOST_TEST_REQUIRE(returned.wait_at_least(5));
    for (auto& q : queued)
        BOOST_TEST(code_of(*q) == code(dx::error::closed));
    for (int i = 0; i != 3; ++i)
        BOOST_TEST(code_of(ch.client->request(8)) == code(dx::error::closed));
    BOOST_TEST(code_of(ch.client->request_batch(std::vector<int>{1, 2}, 2)) == code(dx::error::closed));
    BOOST_TEST(seconds_since(stop_at) < 1.0);
    BOOST_TEST(!stuck2.has_value());
    BOOST_TEST(!run.done());  // waits for the stuck invocations

    // Once the stuck handlers end, the run returns with success.
    never.open();
    f2.join();
    BOOST_TEST_REQUIRE(stuck2.has_value());
    BOOST_TEST((stuck2->has_value() && stuck2->value() == -4));  // in flight at stop(): delivered
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(run.result() == boost::system::error_code());
    BOOST_TEST(responder.stats().in_flight == 0u);
}

// A batch with a zero or negative timeout (duration::min() included) fails
// with timeout at once and none of its requests reaches the handler.
BOOST_AUTO_TEST_CASE(batches_with_zero_or_negative_timeouts_time_out_at_once_unhandled)
{
    watchdog wd;
    std::vector<int> seen;
    channel<int, int> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    runner run(
        *ch.responder,
        [&](int v) {
            seen.push_back(v);
            return v * 2;
        },
        dx::fixed_concurrency{4});
    const std::vector<int> reqs{1, 2, 3, 4, 5};
    for (duration t : {duration(0ns), duration(-1ns), duration(-1h), duration::min()}) {
        const auto t0 = clock_type::now();
        auto r = ch.client->request_batch(reqs, 2, t);
        BOOST_TEST(code_of(r) == code(dx::error::timeout), "timeout " << t.count() << " ns");
        BOOST_TEST(seconds_since(t0) < 1.0);
    }
    BOOST_TEST(seen.empty());
    auto ok = ch.client->request_batch(reqs, 2, 10s);
    BOOST_TEST_REQUIRE(ok.has_value());
    BOOST_TEST(ok.value() == (std::vector<int>{2, 4, 6, 8, 10}));
    ch.responder->stop();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// duration::max() as a batch's timeout means no deadline, even where the
// channel default (50 ms) ends a request held the same way.
BOOST_AUTO_TEST_CASE(a_batch_with_duration_max_timeout_has_no_deadline)
{
    watchdog wd;
    gate g;
    counter entered;
    channel<int, int> ch(dx::channel_options{8, 50ms, dx::overflow::wait});
    runner run(
        *ch.responder,
        [&](int v) {
            entered.add();
            g.wait();
            return v * 2;
        },
        dx::fixed_concurrency{4});
    std::optional<dx::result<std::vector<int>>> b;
    scoped_fiber fb([&] { b.emplace(ch.client->request_batch(std::vector<int>{1, 2, 3}, 3, duration::max())); });
    BOOST_TEST_REQUIRE(entered.wait_at_least(3));
    // The default-timeout request is held too, and times out.
    auto dflt = ch.client->request(9);
    BOOST_TEST(code_of(dflt) == code(dx::error::timeout));
    // Ten times the default later the batch still waits (a bounded wait on
    // the gate, which nobody opens meanwhile).
    BOOST_TEST(!g.wait_for(500ms));
    BOOST_TEST(!b.has_value());
    g.open();
    fb.join();
    BOOST_TEST_REQUIRE(b->has_value());
    BOOST_TEST(b->value() == (std::vector<int>{2, 4, 6}));
    ch.responder->stop();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// A channel whose default timeout is zero or negative: every request made
// without its own timeout, and every batch, times out at once without
// reaching the handler; a request with its own positive timeout is served.
BOOST_AUTO_TEST_CASE(a_zero_or_negative_channel_default_timeout_times_out_every_default_request_at_once)
{
    watchdog wd;
    for (duration def : {duration(0ns), duration(-1s), duration::min()}) {
        BOOST_TEST_CONTEXT("default timeout " << def.count() << " ns")
        {
            std::vector<int> seen;
            channel<int, int> ch(dx::channel_options{8, def, dx::overflow::wait});
            runner run(
                *ch.responder,
                [&](int v) {
                    seen.push_back(v);
                    return v * 2;
                },
                dx::fixed_concurrency{4});
            const auto t0 = clock_type::now();
            BOOST_TEST(code_of(ch.client->request(1)) == code(dx::error::timeout));
            BOOST_TEST(code_of(ch.client->request_batch(std::vector<int>{1, 2}, 2)) == code(dx::error::timeout));
            auto s = ch.client->request_batch_settled(std::vector<int>{1, 2}, 2);
            BOOST_TEST_REQUIRE(s.size() == 2u);
            for (auto& r : s)
                BOOST_TEST(code_of(r) == code(dx::error::timeout));
            BOOST_TEST(seconds_since(t0) < 1.0);
            BOOST_TEST(seen.empty());
            auto ok = ch.client->request(21, 10s);
            BOOST_TEST((ok.has_value() && ok.value() == 42));
            ch.responder->stop();
            BOOST_TEST_REQUIRE(run.wait_done());
        }
    }
}

// Batches made after stop() (while the run drains, and after it returned)
// fail with closed at once; the settled form settles each element with
// closed; nothing reaches the handler.
BOOST_AUTO_TEST_CASE(batches_after_stop_are_closed_at_once)
{
    watchdog wd;
    gate g;
    counter entered;
    std::vector<int> seen;
    channel<int, int> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    runner run(
        *ch.responder,
        [&](int v) {
            seen.push_back(v);
            entered.add();
            g.wait();
            return v * 2;
        },
        dx::fixed_concurrency{1});
    std::optional<dx::result<int>> running;
    scoped_fiber f([&] { running.emplace(ch.client->request(1)); });
    BOOST_TEST_REQUIRE(entered.wait_at_least(1));
    ch.responder->stop();
    for (int phase = 0; phase != 2; ++phase) {
        const auto t0 = clock_type::now();
        auto b = ch.client->request_batch(std::vector<int>{5, 6, 7}, 2);
        BOOST_TEST(code_of(b) == code(dx::error::closed), "phase " << phase);
        auto s = ch.client->request_batch_settled(std::vector<int>{5, 6, 7}, 2);
        BOOST_TEST_REQUIRE(s.size() == 3u);
        for (auto& r : s)
            BOOST_TEST(code_of(r) == code(dx::error::closed), "phase " << phase);
        BOOST_TEST(seconds_since(t0) < 1.0);
        if (phase == 0) {
            BOOST_TEST(!run.done());
            g.open();
            f.join();
            BOOST_TEST((running->has_value() && running->value() == 2));
            BOOST_TEST_REQUIRE(run.wait_done());
            BOOST_TEST(run.result() == boost::system::error_code());
        }
    }
    BOOST_TEST(seen == std::vector<int>{1});
}

// A rendezvous channel (capacity 0) serves batches far larger than its
// concurrency and the responder's limit, from several fibers at once, in
// input order.
BOOST_AUTO_TEST_CASE(rendezvous_channel_serves_large_concurrent_batches)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{0, 30s, dx::overflow::wait});
    std::size_t max_queued = 0;
    runner run(
        *ch.responder,
        [&](int v) {
            max_queued = std::max(max_queued, ch.responder->stats().queued);
            this_fiber::yield();
            return v + 1;
        },
        dx::fixed_concurrency{3});
    constexpr int n = 2000;
    std::vector<std::optional<dx::result<std::vector<int>>>> bs(4);
    {
        std::vector<scoped_fiber> fs;
        for (std::size_t k = 0; k != bs.size(); ++k)
            fs.emplace_back([&, k] { bs[k].emplace(ch.client->request_batch(counting(0, n), 7 + k)); });
    }
    for (auto& b : bs) {
        BOOST_TEST_REQUIRE(b->has_value());
        bool ok = b->value().size() == std::size_t(n);
        for (int i = 0; ok && i != n; ++i)
            ok = b->value()[std::size_t(i)] == i + 1;
        BOOST_TEST(ok);
    }
    BOOST_TEST(max_queued <= 3u);  // rendezvous: only what the responder asked for is handed over
    BOOST_TEST(ch.responder->stats().completed == 4u * n);
    ch.responder->stop();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Limits of SIZE_MAX ("no limit") in the dynamic strategies serve requests,
// and stop() then ends the run (once the limit became 0, nothing was served
// and stop() hung).
BOOST_AUTO_TEST_CASE(dynamic_strategies_with_size_max_limits_serve_and_stop)
{
    watchdog wd;
    const auto serve_and_stop = [](auto strategy) {
        channel<int, int> ch(dx::channel_options{8, 10s, dx::overflow::wait});
        runner run(*ch.responder, [](int v) { return v * 2; }, strategy);
        for (int i = 0; i != 50; ++i)
            BOOST_TEST_REQUIRE(ch.client->request(i).value() == i * 2);
        BOOST_TEST(ch.responder->stats().concurrency_limit >= std::size_t(1) << 32);
        ch.responder->stop();
        BOOST_TEST_REQUIRE(run.wait_done());
    };
    dx::dynamic_concurrency d;
    d.initial = d.max = SIZE_MAX;
    serve_and_stop(d);
    dx::aimd_concurrency a;
    a.initial = a.max = SIZE_MAX;
    serve_and_stop(a);
}
