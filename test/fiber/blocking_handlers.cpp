//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Fiber handlers may block their own fiber: each invocation runs in a fiber
// of its own, so a handler that sleeps (this_fiber::sleep_for), takes a fiber
// mutex, waits on a fiber condition, or makes a request on another channel
// (or its own) whose responder runs on the same thread blocks neither the
// responder nor the other handlers nor any other fiber of the thread.
//
// Several of these would deadlock if a handler blocked its thread: the
// watchdog turns such a hang into a failure.

#define BOOST_TEST_MODULE fiber_blocking_handlers
#include <boost/test/unit_test.hpp>

#include "common.hpp"

using namespace fiber_test;

// Eight handlers sleep 100 ms each, all at the same time (limit 8), while a
// ticker fiber of the same thread keeps ticking through their sleep.
BOOST_AUTO_TEST_CASE(sleeping_handlers_overlap_and_other_fibers_run)
{
    watchdog wd;
    std::atomic<bool> stop_ticking{false};
    long ticks = 0;
    scoped_fiber ticker([&] {
        while (!stop_ticking) {
            ++ticks;
            this_fiber::sleep_for(1ms);
        }
    });
    counter sleeping;
    int ticked_during_sleep = 0;
    channel<int, int> ch(dx::channel_options{16, 30s, dx::overflow::wait});
    runner run(
        *ch.responder,
        [&](int v) {
            sleeping.add();
            const long before = ticks;
            this_fiber::sleep_for(100ms);
            ticked_during_sleep += ticks > before;
            sleeping.sub();
            return v;
        },
        dx::fixed_concurrency{8});
    int ok = 0;
    {
        std::vector<scoped_fiber> fs;
        for (int i = 0; i != 8; ++i)
            fs.emplace_back([&, i] { ok += ch.client->request(i).has_value(); });
    }
    stop_ticking = true;
    ticker.join();
    BOOST_TEST(ok == 8);
    BOOST_TEST(sleeping.max() == 8u);  // all eight slept at once
    BOOST_TEST(ticked_during_sleep == 8);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// A handler blocked on a fiber mutex the test holds: another request is
// served meanwhile, and the blocked one finishes once the test unlocks.
BOOST_AUTO_TEST_CASE(handler_blocked_on_a_fiber_mutex_blocks_nobody_else)
{
    watchdog wd;
    fibers::mutex m;
    counter locking;
    channel<int, int> ch(dx::channel_options{16, 30s, dx::overflow::wait});
    runner run(
        *ch.responder,
        [&](int v) {
            if (v == 1) {
                locking.add();
                std::unique_lock lk(m);
            }
            return v;
        },
        dx::fixed_concurrency{2});
    std::unique_lock held(m);
    std::optional<dx::result<int>> blocked;
    scoped_fiber f([&] { blocked.emplace(ch.client->request(1)); });
    BOOST_TEST_REQUIRE(locking.wait_at_least(1));
    for (int i = 2; i != 12; ++i) {
        auto r = ch.client->request(i);  // served by the other handler slot, one after another
        BOOST_TEST((r.has_value() && r.value() == i));
    }
    BOOST_TEST(!blocked.has_value());
    held.unlock();
    f.join();
    BOOST_TEST((blocked->has_value() && blocked->value() == 1));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Two handlers meet: the one for "wait" waits on a fiber condition that only
// the one for "signal" sets. Both must be running at once, on one thread.
BOOST_AUTO_TEST_CASE(handlers_wait_for_each_other)
{
    watchdog wd;
    gate met;
    channel<std::string, std::string> ch(dx::channel_options{16, 30s, dx::overflow::wait});
    runner run(
        *ch.responder,
        [&](std::string s) {
            if (s == "wait") {
                met.wait();
                return std::string("waited");
            }
            met.open();
            return std::string("signalled");
        },
        dx::fixed_concurrency{2});
    std::optional<dx::result<std::string>> w;
    scoped_fiber f([&] { w.emplace(ch.client->request("wait")); });
    let_others_run();
    auto s = ch.client->request("signal");
    f.join();
    BOOST_TEST((s.has_value() && s.value() == "signalled"));
    BOOST_TEST((w->has_value() && w->value() == "waited"));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// A handler woken from another thread: it waits on a fiber condition that a
// plain thread sets later.
BOOST_AUTO_TEST_CASE(handler_woken_by_another_thread)
{
    watchdog wd;
    gate g;
    counter waiting;
    channel<int, int> ch(dx::channel_options{16, 30s, dx::overflow::wait});
    runner run(
        *ch.responder,
        [&](int v) {
            waiting.add();
            g.wait();
            return v;
        },
        dx::fixed_concurrency{2});
    std::optional<dx::result<int>> r;
    scoped_fiber f([&] { r.emplace(ch.client->request(5)); });
    BOOST_TEST_REQUIRE(waiting.wait_at_least(1));
    std::atomic<bool> opened{false};
    std::thread opener([&] {
        g.open();
        opened = true;
    });
    f.join();
    BOOST_TEST((r->has_value() && r->value() == 5));
    BOOST_TEST_REQUIRE(poll_until([&] { return opened.load(); }));
    opener.join();
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// A handler of channel A makes a request on channel B, whose responder runs in
// another fiber of the same thread; and B's handler on channel C in turn.
BOOST_AUTO_TEST_CASE(handler_requests_another_channel_served_on_the_same_thread)
{
    watchdog wd;
    channel<int, int> c_ch(dx::channel_options{4, 30s, dx::overflow::wait});
    channel<int, int> b_ch(dx::channel_options{4, 30s, dx::overflow::wait});
    channel<int, int> a_ch(dx::channel_options{4, 30s, dx::overflow::wait});
    runner c_run(
        *c_ch.responder,
        [](int v) {
            this_fiber::sleep_for(1ms);
            return v + 1;
        },
        dx::fixed_concurrency{2});
    runner b_run(
        *b_ch.responder,
        [c = *c_ch.client](int v) mutable -> dx::result<int> {
            auto r = c.request(v * 10);
            if (!r)
                return r.error();
            return r.value() + 2;
        },
        dx::fixed_concurrency{3});
    runner a_run(
        *a_ch.responder,
        [b = *b_ch.client](int v) mutable -> dx::result<int> {
            auto r = b.request(v);
            if (!r)
                return r.error();
            return r.value() * 2;
        },
        dx::fixed_concurrency{4});
    c_ch.client.reset();
    b_ch.client.reset();

    int ok = 0;
    {
        std::vector<scoped_fiber> fs;
        for (int f = 0; f != 10; ++f)
            fs.emplace_back([&, f] {
                for (int i = 0; i != 5; ++i) {
                    const int v = f * 10 + i;
                    auto r = a_ch.client->request(v);
                    ok += r.has_value() && r.value() == (v * 10 + 1 + 2) * 2;
                }
            });
    }
    BOOST_TEST(ok == 50);
    // Ending A drops the client of B its handler held, which ends B, which ends C.
    a_ch.client.reset();
    BOOST_TEST_REQUIRE(a_run.wait_done());
    a_run.join();
    a_ch.responder.reset();  // destroys the handler (and B's client) with the run's state
    BOOST_TEST_REQUIRE(b_run.wait_done());
    b_run.join();
    b_ch.responder.reset();
    BOOST_TEST_REQUIRE(c_run.wait_done());
}

// A handler makes a request on its own channel (recursion through the
// channel), which needs a second handler fiber to serve it while the first
// is blocked. The handler holds a client copy, so the run ends by stop().
BOOST_AUTO_TEST_CASE(handler_requests_its_own_channel)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(
        responder,
        [c = *ch.client](int n) mutable -> dx::result<int> {
            if (n == 0)
                return 0;
            auto r = c.request(n - 1);
            if (!r)
                return r.error();
            return r.value() + n;
        },
        dx::fixed_concurrency{5});
    auto r = ch.client->request(4);  // 4 + 3 + 2 + 1 + 0, five handlers deep
    BOOST_TEST((r.has_value() && r.value() == 10));
    responder.stop();
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(run.result() == boost::system::error_code());
}
