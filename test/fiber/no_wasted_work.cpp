//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 3 (no wasted work) for the Fiber backend: a request whose
// deadline passed while it was still queued (or waiting for room), or that a
// fail-fast batch cancelled while still queued, is never handed to the
// handler; the responder goes on serving the others.
//
// Fiber handlers cannot be cancelled once running (there is no cancellation
// slot), so the in-flight part of guarantee 3 does not apply here.

#define BOOST_TEST_MODULE fiber_no_wasted_work
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/system/errc.hpp>

using namespace fiber_test;

namespace {

boost::system::error_code io_error()
{
    return boost::system::errc::make_error_code(boost::system::errc::io_error);
}

}  // namespace

// Request 0 holds the only handler slot; 1 and 2 wait in the queue
// (capacity 2) and 3 and 4 wait for room, all with 50 ms deadlines. They all
// time out (no earlier than their deadline) without reaching the handler;
// once 0 is released the responder serves the next request.
BOOST_AUTO_TEST_CASE(expired_while_queued_or_waiting_for_room_never_reaches_handler)
{
    watchdog wd;
    gate g;
    std::vector<int> seen;
    channel<int, int> ch(dx::channel_options{2, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(
        responder,
        [&](int v) {
            seen.push_back(v);
            if (v == 0)
                g.wait();
            return v;
        },
        dx::fixed_concurrency{1});

    std::optional<dx::result<int>> r0;
    scoped_fiber f0([&] { r0.emplace(ch.client->request(0)); });
    BOOST_TEST_REQUIRE(poll_until([&] { return seen.size() == 1; }));

    std::vector<std::optional<dx::result<int>>> rs(5);
    std::vector<duration> took(5);
    counter returned;
    std::vector<scoped_fiber> fs;
    for (int i = 1; i <= 4; ++i)
        fs.emplace_back([&, i] {
            const auto t0 = clock_type::now();
            rs[std::size_t(i)].emplace(ch.client->request(i, 50ms));
            took[std::size_t(i)] = clock_type::now() - t0;
            returned.add();
        });
    BOOST_TEST_REQUIRE(returned.wait_at_least(4));
    for (int i = 1; i <= 4; ++i) {
        BOOST_TEST(code_of(*rs[std::size_t(i)]) == code(dx::error::timeout), "request " << i);
        BOOST_TEST(took[std::size_t(i)] >= 50ms, "request " << i << " after " << seconds(took[std::size_t(i)]));
        BOOST_TEST(took[std::size_t(i)] < 5s);
    }
    BOOST_TEST(responder.stats().queued == 0u);

    g.open();
    f0.join();
    BOOST_TEST(r0->has_value());
    auto r9 = ch.client->request(9);
    BOOST_TEST((r9.has_value() && r9.value() == 9));
    BOOST_TEST((seen == std::vector<int>{0, 9}));
    const auto s = responder.stats();
    BOOST_TEST(s.timed_out == 4u);
    BOOST_TEST(s.completed == 2u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

namespace {

// The responder itself finds an expired request at the head of its queue:
// the handler of request 0 blocks the whole thread (std::this_thread, on
// purpose) past the 50 ms deadline of request 1, so no fiber of this thread
// can expire it first; when the handler returns, the responder's next take()
// meets it. It must be completed with timeout, not handed over, and the
// requests behind it (2 and 3, with 1 s deadlines) must be served.
void expired_at_the_head_when_the_responder_takes(std::size_t capacity)
{
    gate g;
    std::vector<int> seen;
    channel<int, int> ch(dx::channel_options{capacity, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(
        responder,
        [&](int v) {
            seen.push_back(v);
            if (v == 0) {
                g.wait();
                std::this_thread::sleep_for(150ms);  // blocks every fiber of this thread
            }
            return v;
        },
        dx::fixed_concurrency{1});

    std::optional<dx::result<int>> r0, r1, r2, r3;
    scoped_fiber f0([&] { r0.emplace(ch.client->request(0)); });
    BOOST_TEST_REQUIRE(poll_until([&] { return seen.size() == 1; }));
    counter submitted;
    scoped_fiber f1([&] {
        submitted.add();
        r1.emplace(ch.client->request(1, 50ms));
    });
    scoped_fiber f2([&] {
        submitted.add();
        r2.emplace(ch.client->request(2, 1s));
    });
    scoped_fiber f3([&] {
        submitted.add();
        r3.emplace(ch.client->request(3, 1s));
    });
    BOOST_TEST_REQUIRE(submitted.wait_at_least(3));
    let_others_run();
    const auto t0 = clock_type::now();
    g.open();
    f0.join();
    f1.join();
    f2.join();
    f3.join();
    BOOST_TEST_MESSAGE("capacity " << capacity << ": all returned after " << seconds_since(t0) << " s");

    BOOST_TEST(r0->has_value());
    BOOST_TEST(code_of(*r1) == code(dx::error::timeout));
    BOOST_TEST(code_of(*r2) == boost::system::error_code(), "request 2 behind the expired one was not served");
    BOOST_TEST(code_of(*r3) == boost::system::error_code(), "request 3 behind the expired one was not served");
    BOOST_TEST((seen == std::vector<int>{0, 2, 3}));
    const auto s = responder.stats();
    BOOST_TEST(s.queued == 0u);
    BOOST_TEST(s.timed_out == 1u);
    BOOST_TEST(s.completed == 3u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

}  // namespace

// The expired request is in the queue (capacity 8).
BOOST_AUTO_TEST_CASE(expired_in_queue_found_by_responder_is_dropped_and_the_rest_served)
{
    watchdog wd;
    expired_at_the_head_when_the_responder_takes(8);
}

// The expired request waits for room (capacity 0: every request waits in the
// room list until the responder takes it).
BOOST_AUTO_TEST_CASE(expired_waiting_for_room_found_by_responder_is_dropped_and_the_rest_served)
{
    watchdog wd;
    expired_at_the_head_when_the_responder_takes(0);
}

// A fail-fast batch whose first request fails: the batch's other requests,
// queued or waiting for room behind it, are cancelled and never handled.
BOOST_AUTO_TEST_CASE(fail_fast_cancelled_requests_never_reach_handler)
{
    watchdog wd;
    gate g;
    std::vector<int> seen;
    channel<int, int> ch(dx::channel_options{3, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(
        responder,
        [&](int v) -> dx::result<int> {
            seen.push_back(v);
            g.wait();
            if (v == 0)
                return io_error();
            return v;
        },
        dx::fixed_concurrency{1});

    std::vector<int> reqs;
    for (int i = 0; i != 10; ++i)
        reqs.push_back(i);
    std::optional<dx::result<std::vector<int>>> out;
    scoped_fiber batch([&] { out.emplace(ch.client->request_batch(reqs, 10)); });
    // 0 in the handler, 1-3 queued, 4-9 waiting for room.
    BOOST_TEST_REQUIRE(poll_until([&] { return seen.size() == 1 && responder.stats().queued == 3; }));
    g.open();
    batch.join();
    BOOST_TEST(code_of(*out) == io_error());
    BOOST_TEST((seen == std::vector<int>{0}));

    // The responder goes on.
    auto r = ch.client->request(42);
    BOOST_TEST((r.has_value() && r.value() == 42));
    BOOST_TEST((seen == std::vector<int>{0, 42}));
    const auto s = responder.stats();
    BOOST_TEST(s.cancelled == 9u);
    BOOST_TEST(s.failed == 1u);
    BOOST_TEST(s.completed == 1u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// A batch whose whole-batch deadline passes while most of its requests are
// still queued: they time out there and never reach the handler.
BOOST_AUTO_TEST_CASE(batch_deadline_passed_in_queue_never_reaches_handler)
{
    watchdog wd;
    gate g;
    std::vector<int> seen;
    channel<int, int> ch(dx::channel_options{4, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(
        responder,
        [&](int v) {
            seen.push_back(v);
            if (v == 0)
                g.wait();
            return v;
        },
        dx::fixed_concurrency{1});

    const auto t0 = clock_type::now();
    auto out = ch.client->request_batch(std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}, 8, 100ms);
    const auto took = clock_type::now() - t0;
    BOOST_TEST(code_of(out) == code(dx::error::timeout));
    BOOST_TEST(took >= 100ms, "after " << seconds(took));
    BOOST_TEST(took < 5s);
    g.open();
    auto r = ch.client->request(99);
    BOOST_TEST((r.has_value() && r.value() == 99));
    BOOST_TEST((seen == std::vector<int>{0, 99}));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// A request made with a deadline already passed never reaches the handler,
// also on a rendezvous channel and while the responder is idle.
BOOST_AUTO_TEST_CASE(already_expired_requests_never_reach_handler)
{
    watchdog wd;
    for (std::size_t capacity : {std::size_t(0), std::size_t(4)}) {
        std::vector<int> seen;
        channel<int, int> ch(dx::channel_options{capacity, 30s, dx::overflow::wait});
        runner run(
            *ch.responder,
            [&](int v) {
                seen.push_back(v);
                return v;
            },
            dx::fixed_concurrency{2});
        let_others_run();  // the responder is idle now
        for (int i = 0; i != 5; ++i) {
            auto r = ch.client->request(i, 0ns);
            BOOST_TEST(code_of(r) == code(dx::error::timeout));
            auto n = ch.client->request(i + 10, -5ms);
            BOOST_TEST(code_of(n) == code(dx::error::timeout));
        }
        auto ok = ch.client->request(77);
        BOOST_TEST((ok.has_value() && ok.value() == 77));
        BOOST_TEST((seen == std::vector<int>{77}), "capacity " << capacity);
        BOOST_TEST(ch.responder->stats().timed_out == 10u);
        ch.client.reset();
        BOOST_TEST_REQUIRE(run.wait_done());
    }
}

// A burst take and a deadline meet: the run loop takes up to its limit at
// once and hands the requests to worker fibers, whose handlers here hold the
// thread (as CPU-bound work does) for 50 ms each. A request counts as started
// when its handler starts, and its deadline is checked then: none of the
// requests taken together may reach the handler after its deadline.
BOOST_AUTO_TEST_CASE(requests_taken_together_are_checked_for_their_deadline_when_their_handler_starts)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{16, 10s, dx::overflow::wait});
    std::vector<clock_type::time_point> started(8);
    std::vector<int> seen;
    std::vector<std::optional<dx::result<int>>> r(8);
    std::vector<scoped_fiber> clients;
    const auto t0 = clock_type::now();
    for (int i = 0; i != 8; ++i)
        clients.emplace_back([&, i] { r[std::size_t(i)].emplace(ch.client->request(i, 120ms)); });
    BOOST_TEST_REQUIRE(poll_until([&] { return ch.responder->stats().queued == 8u; }));
    runner run(
        *ch.responder,
        [&](int v) {
            started[std::size_t(v)] = clock_type::now();
            seen.push_back(v);
            std::this_thread::sleep_for(50ms);  // the handler's own work, holding the thread
            return v;
        },
        dx::fixed_concurrency{16});
    for (auto& c : clients)
        c.join();
    for (int v : seen) {
        BOOST_TEST_CONTEXT("request " << v)
        BOOST_TEST(started[std::size_t(v)] - t0 < 120ms + 10ms, "handler started after "
                                                                   << seconds(started[std::size_t(v)] - t0) << " s");
    }
    BOOST_TEST(seen.size() <= 3u);  // at 0, 50 and 100 ms
    for (std::size_t i = 0; i != 8; ++i) {
        BOOST_TEST_CONTEXT("request " << i)
        {
            const bool handled = std::find(seen.begin(), seen.end(), int(i)) != seen.end();
            if (!handled)
                BOOST_TEST(code_of(*r[i]) == code(dx::error::timeout));
        }
    }
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(ch.responder->stats().in_flight == 0u);
}
