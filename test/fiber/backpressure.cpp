//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 6 (backpressure) for the Fiber backend: at most `capacity`
// requests are queued; beyond that a request waits for room (overflow::wait,
// the wait counting against its deadline) or fails at once with queue_full
// (overflow::reject). Capacity 0 is a rendezvous: a request waits until the
// responder takes it.

#define BOOST_TEST_MODULE fiber_backpressure
#include <boost/test/unit_test.hpp>

#include "common.hpp"

using namespace fiber_test;

namespace {

// A handler held by a gate for request 0 only, recording what it sees.
struct held_first {
    gate g;
    counter entered;
    std::vector<int> seen;

    auto handler()
    {
        return [this](int v) {
            seen.push_back(v);
            entered.add();
            if (v == 0)
                g.wait();
            return v;
        };
    }
};

}  // namespace

// Capacity 2, reject: with 0 in flight and 1, 2 queued, more requests fail at
// once with queue_full and never reach the handler; once there is room again,
// requests are accepted.
BOOST_AUTO_TEST_CASE(reject_fails_at_once_beyond_capacity)
{
    watchdog wd;
    held_first h;
    channel<int, int> ch(dx::channel_options{2, 30s, dx::overflow::reject});
    auto& responder = *ch.responder;
    runner run(responder, h.handler(), dx::fixed_concurrency{1});

    std::vector<std::optional<dx::result<int>>> rs(3);
    counter returned;
    std::vector<scoped_fiber> fs;
    fs.emplace_back([&] { rs[0].emplace(ch.client->request(0)); returned.add(); });
    BOOST_TEST_REQUIRE(h.entered.wait_at_least(1));
    for (int i = 1; i != 3; ++i)
        fs.emplace_back([&, i] { rs[std::size_t(i)].emplace(ch.client->request(i)); returned.add(); });
    BOOST_TEST_REQUIRE(poll_until([&] { return responder.stats().queued == 2; }));

    for (int i = 3; i != 6; ++i) {
        const auto t0 = clock_type::now();
        auto r = ch.client->request(i);
        BOOST_TEST(code_of(r) == code(dx::error::queue_full));
        BOOST_TEST(clock_type::now() - t0 < 1s);
    }
    auto b = ch.client->request_batch(std::vector<int>{6, 7}, 2);
    BOOST_TEST(code_of(b) == code(dx::error::queue_full));
    BOOST_TEST(responder.stats().queued == 2u);

    h.g.open();
    BOOST_TEST_REQUIRE(returned.wait_at_least(3));
    for (int i = 0; i != 3; ++i)
        BOOST_TEST((rs[std::size_t(i)]->has_value() && rs[std::size_t(i)]->value() == i));
    auto later = ch.client->request(9);
    BOOST_TEST((later.has_value() && later.value() == 9));
    BOOST_TEST((h.seen == std::vector<int>{0, 1, 2, 9}));
    const auto s = responder.stats();
    BOOST_TEST(s.completed == 4u);
    BOOST_TEST(s.failed == 0u);  // queue_full counts in none
    BOOST_TEST(s.timed_out == 0u);
    BOOST_TEST(s.cancelled == 0u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Capacity 2, wait: requests beyond capacity wait for room without being
// counted as queued, and are all served, in the order they were made.
BOOST_AUTO_TEST_CASE(wait_holds_requests_beyond_capacity_until_there_is_room)
{
    watchdog wd;
    held_first h;
    channel<int, int> ch(dx::channel_options{2, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(responder, h.handler(), dx::fixed_concurrency{1});

    constexpr int n = 7;
    std::vector<std::optional<dx::result<int>>> rs(n);
    counter returned, started;
    std::vector<scoped_fiber> fs;
    fs.emplace_back([&] { rs[0].emplace(ch.client->request(0)); returned.add(); });
    BOOST_TEST_REQUIRE(h.entered.wait_at_least(1));
    for (int i = 1; i != n; ++i)
        fs.emplace_back([&, i] {
            started.add();
            rs[std::size_t(i)].emplace(ch.client->request(i));
            returned.add();
        });
    BOOST_TEST_REQUIRE(started.wait_at_least(n - 1));
    let_others_run();
    BOOST_TEST(responder.stats().queued == 2u);
    BOOST_TEST(returned.get() == 0u);

    h.g.open();
    BOOST_TEST_REQUIRE(returned.wait_at_least(n));
    for (int i = 0; i != n; ++i)
        BOOST_TEST((rs[std::size_t(i)]->has_value() && rs[std::size_t(i)]->value() == i));
    BOOST_TEST((h.seen == std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Waiting for room counts against the deadline: a request that never gets
// room times out at its deadline (not before) and never reaches the handler.
BOOST_AUTO_TEST_CASE(waiting_for_room_counts_against_the_deadline)
{
    watchdog wd;
    held_first h;
    channel<int, int> ch(dx::channel_options{1, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(responder, h.handler(), dx::fixed_concurrency{1});

    std::optional<dx::result<int>> r0, r1;
    scoped_fiber f0([&] { r0.emplace(ch.client->request(0)); });
    BOOST_TEST_REQUIRE(h.entered.wait_at_least(1));
    scoped_fiber f1([&] { r1.emplace(ch.client->request(1)); });
    BOOST_TEST_REQUIRE(poll_until([&] { return responder.stats().queued == 1; }));

    const auto t0 = clock_type::now();
    auto r2 = ch.client->request(2, 100ms);
    const auto took = clock_type::now() - t0;
    BOOST_TEST(code_of(r2) == code(dx::error::timeout));
    BOOST_TEST(took >= 100ms);
    BOOST_TEST(took < 5s);

    // The same for a whole-batch deadline.
    const auto t1 = clock_type::now();
    auto b = ch.client->request_batch(std::vector<int>{3, 4}, 2, 80ms);
    BOOST_TEST(code_of(b) == code(dx::error::timeout));
    BOOST_TEST(clock_type::now() - t1 >= 80ms);

    h.g.open();
    f0.join();
    f1.join();
    BOOST_TEST(r0->has_value());
    BOOST_TEST(r1->has_value());
    BOOST_TEST((h.seen == std::vector<int>{0, 1}));
    BOOST_TEST(responder.stats().timed_out == 3u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Many fibers against a small queue: the queue never holds more than its
// capacity (sampled by every handler invocation), and every request is served.
BOOST_AUTO_TEST_CASE(queue_never_exceeds_capacity_under_load)
{
    watchdog wd;
    constexpr std::size_t capacity = 3;
    channel<int, int> ch(dx::channel_options{capacity, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    std::size_t max_queued = 0;
    runner run(
        responder,
        [&](int v) {
            max_queued = std::max(max_queued, responder.stats().queued);
            this_fiber::yield();
            return v;
        },
        dx::fixed_concurrency{2});

    int ok = 0;
    std::vector<scoped_fiber> fs;
    for (int f = 0; f != 20; ++f)
        fs.emplace_back([&, f] {
            for (int i = 0; i != 20; ++i) {
                auto r = ch.client->request(f * 100 + i);
                ok += r.has_value() && r.value() == f * 100 + i;
                max_queued = std::max(max_queued, responder.stats().queued);
            }
        });
    fs.clear();
    BOOST_TEST(ok == 400);
    BOOST_TEST(max_queued <= capacity);
    BOOST_TEST(max_queued >= 1u);  // the queue was used
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Capacity 0: every request waits until the responder takes it. Under load
// from fibers here and on another thread, all are served and the queue never
// holds more than the responder asked for (its limit).
BOOST_AUTO_TEST_CASE(rendezvous_under_load)
{
    watchdog wd;
    constexpr std::size_t limit = 4;
    channel<int, int> ch(dx::channel_options{0, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    std::atomic<std::size_t> max_queued{0};
    auto sample = [&] {
        const std::size_t q = responder.stats().queued;
        std::size_t m = max_queued.load();
        while (q > m && !max_queued.compare_exchange_weak(m, q)) {
        }
    };
    runner run(
        responder,
        [&](int v) {
            sample();
            if (v % 3 == 0)
                this_fiber::sleep_for(200us);
            return v + 1;
        },
        dx::fixed_concurrency{limit});

    std::atomic<int> ok{0};
    auto loop = [&](dx::fiber_client<int, int>& c, int base) {
        for (int i = 0; i != 25; ++i) {
            auto r = c.request(base + i);
            ok += r.has_value() && r.value() == base + i + 1;
            sample();
        }
    };
    counter thread_done;
    std::thread other([&, c = *ch.client]() mutable {
        {
            std::vector<scoped_fiber> fs;
            for (int f = 0; f != 4; ++f)
                fs.emplace_back([&, f] { loop(c, 100000 + f * 100); });
        }
        { auto gone = std::move(c); }
        thread_done.add();
    });
    {
        std::vector<scoped_fiber> fs;
        for (int f = 0; f != 12; ++f)
            fs.emplace_back([&, f] { loop(*ch.client, f * 100); });
    }
    BOOST_TEST_REQUIRE(thread_done.wait_at_least(1, 10s));
    other.join();
    BOOST_TEST(ok.load() == 16 * 25);
    BOOST_TEST(max_queued.load() <= limit);
    const auto s = responder.stats();
    BOOST_TEST(s.completed == 400u);
    BOOST_TEST(s.timed_out == 0u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Capacity 0 with reject: a request is accepted only while the responder
// stands ready to take it. No run yet: queue_full. Idle run: accepted. All
// handler slots busy: queue_full.
BOOST_AUTO_TEST_CASE(rendezvous_with_reject_needs_a_ready_responder)
{
    watchdog wd;
    gate g;
    counter entered;
    channel<int, int> ch(dx::channel_options{0, 30s, dx::overflow::reject});
    auto& responder = *ch.responder;

    BOOST_TEST(code_of(ch.client->request(1)) == code(dx::error::queue_full));

    runner run(
        responder,
        [&](int v) {
            entered.add();
            if (v == 0)
                g.wait();
            return v;
        },
        dx::fixed_concurrency{1});
    let_others_run();  // the run starts and waits, idle
    auto r2 = ch.client->request(2);
    BOOST_TEST((r2.has_value() && r2.value() == 2));

    std::optional<dx::result<int>> r0;
    scoped_fiber f0([&] { r0.emplace(ch.client->request(0)); });
    BOOST_TEST_REQUIRE(entered.wait_at_least(2));
    BOOST_TEST(code_of(ch.client->request(3)) == code(dx::error::queue_full));
    g.open();
    f0.join();
    BOOST_TEST(r0->has_value());
    let_others_run();
    auto r4 = ch.client->request(4);
    BOOST_TEST((r4.has_value() && r4.value() == 4));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Capacity 0 with wait and no run: a request waits (not queued) until its
// deadline; made before the run starts, it is served once the run starts.
BOOST_AUTO_TEST_CASE(rendezvous_waits_for_the_responder)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{0, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    const auto t0 = clock_type::now();
    auto r = ch.client->request(1, 60ms);
    BOOST_TEST(code_of(r) == code(dx::error::timeout));
    BOOST_TEST(clock_type::now() - t0 >= 60ms);

    std::optional<dx::result<int>> early;
    scoped_fiber f([&] { early.emplace(ch.client->request(5)); });
    let_others_run();
    BOOST_TEST(responder.stats().queued == 0u);
    BOOST_TEST(!early.has_value());
    runner run(responder, [](int v) { return v * 2; }, dx::fixed_concurrency{1});
    f.join();
    BOOST_TEST((early->has_value() && early->value() == 10));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}
