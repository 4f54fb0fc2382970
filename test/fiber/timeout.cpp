//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Deadlines of the Fiber backend: the default timeout comes from
// channel_options, a per-request timeout overrides it (shorter or longer),
// duration::max() means none, zero or less times out at once without reaching
// the handler; a deadline fires neither early nor very late (bounds: >= the
// timeout, < 5 s), in the queue or in flight, for fibers and plain threads;
// requests made before the run starts wait for it.

#define BOOST_TEST_MODULE fiber_timeout
#include <boost/test/unit_test.hpp>

#include "common.hpp"

using namespace fiber_test;

namespace {

constexpr auto late_bound = 5s;

struct held_handler {
    gate g;
    counter entered;
    std::vector<int> seen;

    auto operator()()
    {
        return [this](int v) {
            seen.push_back(v);
            entered.add();
            if (v < 100)
                g.wait();  // requests below 100 are held until the test opens the gate
            return v;
        };
    }
};

template <class F>
duration timed(F&& f)
{
    const auto t0 = clock_type::now();
    f();
    return clock_type::now() - t0;
}

}  // namespace

// The channel's default timeout applies to a request in flight and to one
// still queued behind it.
BOOST_AUTO_TEST_CASE(default_timeout_comes_from_the_options)
{
    watchdog wd;
    held_handler h;
    channel<int, int> ch(dx::channel_options{8, 100ms, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(responder, h(), dx::fixed_concurrency{1});

    std::optional<dx::result<int>> in_flight;
    duration in_flight_took{};
    scoped_fiber f([&] { in_flight_took = timed([&] { in_flight.emplace(ch.client->request(1)); }); });
    BOOST_TEST_REQUIRE(h.entered.wait_at_least(1));
    std::optional<dx::result<int>> queued;
    const auto queued_took = timed([&] { queued.emplace(ch.client->request(2)); });
    f.join();
    BOOST_TEST(code_of(*in_flight) == code(dx::error::timeout));
    BOOST_TEST(in_flight_took >= 100ms);
    BOOST_TEST(in_flight_took < late_bound);
    BOOST_TEST(code_of(*queued) == code(dx::error::timeout));
    BOOST_TEST(queued_took >= 100ms);
    BOOST_TEST(queued_took < late_bound);
    BOOST_TEST((h.seen == std::vector<int>{1}));
    h.g.open();
    const auto s = responder.stats();
    BOOST_TEST(s.timed_out == 2u);
    BOOST_TEST(s.completed == 0u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(responder.stats().completed == 0u);  // the late response was dropped, not counted
}

// A per-request timeout shorter than the default (30 s) fires at its own time.
BOOST_AUTO_TEST_CASE(per_request_timeout_overrides_a_longer_default)
{
    watchdog wd;
    held_handler h;
    channel<int, int> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    runner run(*ch.responder, h(), dx::fixed_concurrency{1});
    std::optional<dx::result<int>> r;
    const auto took = timed([&] { r.emplace(ch.client->request(1, 120ms)); });
    BOOST_TEST(code_of(*r) == code(dx::error::timeout));
    BOOST_TEST(took >= 120ms);
    BOOST_TEST(took < late_bound);
    h.g.open();
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// A per-request timeout longer than the default (50 ms) lets a 200 ms handler answer.
BOOST_AUTO_TEST_CASE(per_request_timeout_overrides_a_shorter_default)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{8, 50ms, dx::overflow::wait});
    runner run(
        *ch.responder,
        [](int v) {
            this_fiber::sleep_for(200ms);
            return v;
        },
        dx::fixed_concurrency{2});
    auto r = ch.client->request(7, 10s);
    BOOST_TEST((r.has_value() && r.value() == 7));
    auto d = ch.client->request(8);  // the default still applies to others
    BOOST_TEST(code_of(d) == code(dx::error::timeout));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// duration::max() means no deadline, per request and as the channel default;
// huge timeouts saturate instead of overflowing.
BOOST_AUTO_TEST_CASE(duration_max_means_no_deadline)
{
    watchdog wd;
    {
        channel<int, int> ch(dx::channel_options{8, 50ms, dx::overflow::wait});
        runner run(
            *ch.responder,
            [](int v) {
                this_fiber::sleep_for(250ms);
                return v;
            },
            dx::fixed_concurrency{4});
        std::optional<dx::result<int>> a, b;
        scoped_fiber fa([&] { a.emplace(ch.client->request(1, duration::max())); });
        scoped_fiber fb([&] { b.emplace(ch.client->request(2, duration::max() - 1ns)); });
        auto c = ch.client->request(3, std::chrono::hours(24 * 365 * 100));
        fa.join();
        fb.join();
        BOOST_TEST((a->has_value() && a->value() == 1));
        BOOST_TEST((b->has_value() && b->value() == 2));
        BOOST_TEST((c.has_value() && c.value() == 3));
        ch.client.reset();
        BOOST_TEST_REQUIRE(run.wait_done());
    }
    {
        channel<int, int> ch(dx::channel_options{8, duration::max(), dx::overflow::wait});
        runner run(
            *ch.responder,
            [](int v) {
                this_fiber::sleep_for(200ms);
                return v;
            },
            dx::fixed_concurrency{4});
        auto r = ch.client->request(5);
        BOOST_TEST((r.has_value() && r.value() == 5));
        auto b = ch.client->request_batch(std::vector<int>{1, 2}, 2, duration::max());
        BOOST_TEST(b.has_value());
        ch.client.reset();
        BOOST_TEST_REQUIRE(run.wait_done());
    }
}

// Zero or negative timeouts complete with timeout at once and never reach the
// handler: per request, as the channel default, for batches.
BOOST_AUTO_TEST_CASE(zero_or_negative_timeout_times_out_at_once_unhandled)
{
    watchdog wd;
    {
        std::vector<int> seen;
        channel<int, int> ch(dx::channel_options{8, 30s, dx::overflow::wait});
        runner run(
            *ch.responder,
            [&](int v) {
                seen.push_back(v);
                return v;
            },
            dx::fixed_concurrency{2});
        const duration timeouts[] = {0ns, -1ns, -1s, duration::min()};
        for (auto t : timeouts) {
            std::optional<dx::result<int>> r;
            const auto took = timed([&] { r.emplace(ch.client->request(1, t)); });
            BOOST_TEST(code_of(*r) == code(dx::error::timeout));
            BOOST_TEST(took < 1s);
        }
        std::optional<dx::result<std::vector<int>>> b;
        const auto took = timed([&] { b.emplace(ch.client->request_batch(std::vector<int>{1, 2, 3}, 3, 0ns)); });
        BOOST_TEST(code_of(*b) == code(dx::error::timeout));
        BOOST_TEST(took < 1s);
        BOOST_TEST(seen.empty());
        // 4 requests, and the batch's first (fail-fast: the others are then never made).
        BOOST_TEST(ch.responder->stats().timed_out == 5u);
        ch.client.reset();
        BOOST_TEST_REQUIRE(run.wait_done());
    }
    {
        std::vector<int> seen;
        channel<int, int> ch(dx::channel_options{8, 0ns, dx::overflow::wait});
        runner run(
            *ch.responder,
            [&](int v) {
                seen.push_back(v);
                return v;
            },
            dx::fixed_concurrency{2});
        BOOST_TEST(code_of(ch.client->request(1)) == code(dx::error::timeout));
        auto st = ch.client->request_batch_settled(std::vector<int>{1, 2}, 2);
        BOOST_TEST_REQUIRE(st.size() == 2u);
        BOOST_TEST(code_of(st[0]) == code(dx::error::timeout));
        BOOST_TEST(code_of(st[1]) == code(dx::error::timeout));
        BOOST_TEST(ch.client->request(2, 1s).has_value());  // a per-request timeout overrides it
        BOOST_TEST((seen == std::vector<int>{2}));
        ch.client.reset();
        BOOST_TEST_REQUIRE(run.wait_done());
    }
}

// Many fibers with different deadlines, all held in the queue: each fires no
// earlier than its own deadline, and not very late.
BOOST_AUTO_TEST_CASE(many_deadlines_each_fire_in_bounds)
{
    watchdog wd;
    held_handler h;
    channel<int, int> ch(dx::channel_options{64, 30s, dx::overflow::wait});
    runner run(*ch.responder, h(), dx::fixed_concurrency{1});
    std::optional<dx::result<int>> blocker;
    scoped_fiber b([&] { blocker.emplace(ch.client->request(0)); });
    BOOST_TEST_REQUIRE(h.entered.wait_at_least(1));

    constexpr int n = 20;
    std::vector<duration> took(n);
    std::vector<std::optional<dx::result<int>>> rs(n);
    {
        std::vector<scoped_fiber> fs;
        for (int i = 0; i != n; ++i)
            fs.emplace_back([&, i] {
                const auto timeout = 30ms + 10ms * ((i * 7) % n);  // not in submission order
                took[std::size_t(i)] = timed([&] { rs[std::size_t(i)].emplace(ch.client->request(i + 1, timeout)); });
                BOOST_TEST(took[std::size_t(i)] >= timeout, "request " << i);
            });
    }
    for (int i = 0; i != n; ++i) {
        BOOST_TEST(code_of(*rs[std::size_t(i)]) == code(dx::error::timeout));
        BOOST_TEST(took[std::size_t(i)] < late_bound);
    }
    h.g.open();
    b.join();
    BOOST_TEST(blocker->has_value());
    BOOST_TEST((h.seen == std::vector<int>{0}));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// A plain thread's request (its main context waits) times out in bounds too:
// nothing on the responder's thread has to expire it.
BOOST_AUTO_TEST_CASE(deadline_of_a_plain_thread_fires_in_bounds)
{
    watchdog wd;
    held_handler h;
    channel<int, int> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    runner run(*ch.responder, h(), dx::fixed_concurrency{1});
    std::optional<dx::result<int>> r;
    duration took{};
    std::atomic<bool> done{false};
    std::thread t([&, c = *ch.client]() mutable {
        took = timed([&] { r.emplace(c.request(1, 100ms)); });
        { auto gone = std::move(c); }
        done = true;
    });
    BOOST_TEST_REQUIRE(poll_until([&] { return done.load(); }));
    t.join();
    BOOST_TEST(code_of(*r) == code(dx::error::timeout));
    BOOST_TEST(took >= 100ms);
    BOOST_TEST(took < late_bound);
    h.g.open();
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Requests made before the run starts queue and are served once it runs,
// within their deadline.
BOOST_AUTO_TEST_CASE(requests_made_before_the_run_wait_for_it)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{8, 2s, dx::overflow::wait});
    std::vector<std::optional<dx::result<int>>> rs(3);
    std::vector<scoped_fiber> fs;
    for (int i = 0; i != 3; ++i)
        fs.emplace_back([&, i] { rs[std::size_t(i)].emplace(ch.client->request(i)); });
    let_others_run();
    BOOST_TEST(ch.responder->stats().queued == 3u);
    this_fiber::sleep_for(30ms);  // the run starts some time later
    runner run(*ch.responder, [](int v) { return v + 100; }, dx::fixed_concurrency{2});
    fs.clear();
    for (int i = 0; i != 3; ++i)
        BOOST_TEST((rs[std::size_t(i)]->has_value() && rs[std::size_t(i)]->value() == i + 100));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// A request that timed out in flight: its handler's late result is dropped;
// the responder counts it as timed out, not completed.
BOOST_AUTO_TEST_CASE(timed_out_in_flight_late_result_is_dropped)
{
    watchdog wd;
    gate g;
    counter entered, ended;
    channel<int, int> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(
        responder,
        [&](int v) {
            entered.add();
            g.wait();
            ended.add();
            return v;
        },
        dx::fixed_concurrency{1});
    auto r = ch.client->request(1, 50ms);
    BOOST_TEST(code_of(r) == code(dx::error::timeout));
    BOOST_TEST(responder.stats().in_flight == 1u);  // the handler still runs
    g.open();
    BOOST_TEST_REQUIRE(ended.wait_at_least(1));
    BOOST_TEST_REQUIRE(poll_until([&] { return responder.stats().in_flight == 0; }));
    const auto s = responder.stats();
    BOOST_TEST(s.timed_out == 1u);
    BOOST_TEST(s.completed == 0u);
    auto next = ch.client->request(2);
    BOOST_TEST((next.has_value() && next.value() == 2));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// A deadline and a finished request meet: the first request's deadline
// (50 ms) leaves with its answer, then a request without a deadline holds the
// only handler slot, and a third request's 100 ms deadline must still fire on
// time although the responder is busy and the deadline it last waited for has
// gone. (The first core forgot that its timer target had gone with the
// answered request, took the later deadline for covered and slept until the
// busy handler ended: a 100 ms deadline fired after 2 s.)
BOOST_AUTO_TEST_CASE(a_deadline_after_an_answered_request_fires_on_time_while_the_handler_is_busy)
{
    watchdog wd;
    held_handler h;  // values below 100 are held by the gate
    channel<int, int> ch(dx::channel_options{8, duration::max(), dx::overflow::wait});
    runner run(*ch.responder, h(), dx::fixed_concurrency{1});

    BOOST_TEST(ch.client->request(100, 50ms).value() == 100);  // answered at once

    std::optional<dx::result<int>> holder;
    scoped_fiber f([&] { holder.emplace(ch.client->request(1, duration::max())); });
    BOOST_TEST_REQUIRE(h.entered.wait_at_least(2));  // the holder's handler runs

    std::optional<dx::result<int>> r;
    const auto took = timed([&] { r.emplace(ch.client->request(101, 100ms)); });
    BOOST_TEST(code_of(*r) == code(dx::error::timeout));
    BOOST_TEST(took >= 100ms);
    BOOST_TEST(took < 1s);

    h.g.open();
    f.join();
    BOOST_TEST(holder->value() == 1);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}
