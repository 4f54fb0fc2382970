//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 5 (shutdown) for the Fiber backend: stop() stops accepting;
// queued requests complete with closed; in-flight ones finish and are
// delivered; then run() returns success. run() also returns success once
// every client copy is gone and every accepted request is answered. stop()
// works from inside a handler and from another thread; a channel runs once.

#define BOOST_TEST_MODULE fiber_shutdown
#include <boost/test/unit_test.hpp>

#include "common.hpp"

using namespace fiber_test;

// Three requests in flight, four queued: stop() closes the queued four, the
// three finish and are delivered, then the run returns success.
BOOST_AUTO_TEST_CASE(stop_closes_queued_and_delivers_in_flight_then_run_succeeds)
{
    watchdog wd;
    gate g;
    counter entered;
    channel<int, int> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(
        responder,
        [&](int v) {
            entered.add();
            g.wait();
            this_fiber::sleep_for(20ms);  // still running well after stop()
            return v + 1;
        },
        dx::fixed_concurrency{3});

    std::vector<std::optional<dx::result<int>>> rs(7);
    counter returned;
    std::vector<scoped_fiber> fs;
    for (int i = 0; i != 7; ++i)
        fs.emplace_back([&, i] {
            rs[std::size_t(i)].emplace(ch.client->request(i));
            returned.add();
        });
    BOOST_TEST_REQUIRE(entered.wait_at_least(3));
    BOOST_TEST_REQUIRE(poll_until([&] { return responder.stats().queued == 4; }));

    responder.stop();
    BOOST_TEST_REQUIRE(returned.wait_at_least(4));
    for (int i = 3; i != 7; ++i)
        BOOST_TEST(code_of(*rs[std::size_t(i)]) == code(dx::error::closed), "request " << i);
    BOOST_TEST(!run.done());
    BOOST_TEST(responder.stats().in_flight == 3u);

    // New requests are refused while the in-flight ones finish.
    auto refused = ch.client->request(100);
    BOOST_TEST(code_of(refused) == code(dx::error::closed));

    g.open();
    BOOST_TEST_REQUIRE(returned.wait_at_least(7));
    for (int i = 0; i != 3; ++i)
        BOOST_TEST((rs[std::size_t(i)]->has_value() && rs[std::size_t(i)]->value() == i + 1), "request " << i);
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(run.result() == boost::system::error_code());
    BOOST_TEST(entered.get() == 3u);
    const auto s = responder.stats();
    BOOST_TEST(s.completed == 3u);
    BOOST_TEST(s.queued == 0u);
    BOOST_TEST(s.in_flight == 0u);
}

// The run (here on the test's own main context) returns success by itself
// once the last client copy is gone and every request was answered; not
// before, while a copy remains.
BOOST_AUTO_TEST_CASE(run_returns_when_every_client_copy_is_gone_and_all_answered)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{4, 30s, dx::overflow::wait});
    std::vector<int> answered;
    std::optional<dx::fiber_client<int, int>> last;
    std::vector<scoped_fiber> fs;
    counter finished;
    for (int f = 0; f != 4; ++f)
        fs.emplace_back([&, f, c = *ch.client]() mutable {
            for (int i = 0; i != 10; ++i) {
                auto r = c.request(f * 100 + i);
                if (r)
                    answered.push_back(r.value());
            }
            { auto gone = std::move(c); }
            finished.add();
        });
    // One more copy, dropped by a fiber only after the four finished.
    scoped_fiber dropper([&, c = *ch.client]() mutable {
        finished.wait_at_least(4, 10s);
        let_others_run();
        auto r = c.request(-1);
        BOOST_TEST((r.has_value() && r.value() == -1));
        { auto gone = std::move(c); }
    });
    ch.client.reset();

    auto r = ch.responder->run([](int v) {
        this_fiber::yield();
        return v;
    });
    BOOST_TEST(finished.get() == 4u);
    BOOST_TEST(r.has_value());
    BOOST_TEST(answered.size() == 40u);
    BOOST_TEST(ch.responder->stats().completed == 41u);
}

// While a client copy exists the run goes on, even idle.
BOOST_AUTO_TEST_CASE(run_does_not_return_while_a_client_copy_remains)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{4, 30s, dx::overflow::wait});
    runner run(*ch.responder, [](int v) { return v; }, dx::fixed_concurrency{2});
    auto copy = *ch.client;
    ch.client.reset();
    BOOST_TEST(copy.request(5).has_value());
    this_fiber::sleep_for(20ms);  // only to show that nothing ends the idle run
    BOOST_TEST(!run.done());
    {
        auto moved = std::move(copy);  // a moved-from client is not a copy
        this_fiber::sleep_for(10ms);
        BOOST_TEST(!run.done());
    }
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(run.result() == boost::system::error_code());
}

// The last client copies are dropped on other threads: the run, on this
// thread, notices and returns.
BOOST_AUTO_TEST_CASE(run_returns_when_the_last_copies_go_on_other_threads)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{4, 30s, dx::overflow::wait});
    runner run(*ch.responder, [](int v) { return v * 3; }, dx::fixed_concurrency{2});
    std::atomic<int> ok{0};
    counter threads_done;
    std::vector<std::thread> threads;
    for (int t = 0; t != 2; ++t)
        threads.emplace_back([&, t, c = *ch.client]() mutable {
            for (int i = 0; i != 20; ++i) {
                auto r = c.request(t * 100 + i);
                ok += r.has_value() && r.value() == 3 * (t * 100 + i);
            }
            { auto gone = std::move(c); }
            threads_done.add();
        });
    ch.client.reset();
    BOOST_TEST_REQUIRE(threads_done.wait_at_least(2, 10s));
    for (auto& t : threads)
        t.join();
    BOOST_TEST(ok.load() == 40);
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(run.result() == boost::system::error_code());
}

// A handler calls stop(): the queued requests are closed at once, its own
// response is delivered, the other running handler finishes and is delivered
// too, and then the run returns success.
BOOST_AUTO_TEST_CASE(stop_from_inside_a_handler)
{
    watchdog wd;
    gate g0, g1;
    counter entered;
    channel<int, int> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(
        responder,
        [&](int v) {
            entered.add();
            if (v == 0)
                g0.wait();
            if (v == 1) {
                g1.wait();
                responder.stop();
                this_fiber::yield();  // still running after stop()
            }
            return v + 10;
        },
        dx::fixed_concurrency{2});

    std::optional<dx::result<int>> r0, r1;
    std::vector<std::optional<dx::result<int>>> queued(3);
    counter returned;
    scoped_fiber f0([&] {
        r0.emplace(ch.client->request(0));
        returned.add();
    });
    BOOST_TEST_REQUIRE(entered.wait_at_least(1));
    scoped_fiber f1([&] {
        r1.emplace(ch.client->request(1));
        returned.add();
    });
    BOOST_TEST_REQUIRE(entered.wait_at_least(2));
    std::vector<scoped_fiber> fs;
    for (int i = 0; i != 3; ++i)
        fs.emplace_back([&, i] {
            queued[std::size_t(i)].emplace(ch.client->request(5 + i));
            returned.add();
        });
    BOOST_TEST_REQUIRE(poll_until([&] { return responder.stats().queued == 3; }));

    g1.open();  // handler 1 stops the responder
    BOOST_TEST_REQUIRE(returned.wait_at_least(4));
    for (auto& r : queued)
        BOOST_TEST(code_of(*r) == code(dx::error::closed));
    BOOST_TEST((r1->has_value() && r1->value() == 11));
    BOOST_TEST(!r0.has_value());
    BOOST_TEST(!run.done());

    g0.open();
    BOOST_TEST_REQUIRE(returned.wait_at_least(5));
    BOOST_TEST((r0->has_value() && r0->value() == 10));
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(run.result() == boost::system::error_code());
    BOOST_TEST(entered.get() == 2u);
}

// stop() from a plain thread while handlers run: they finish and are
// delivered, and the run returns success.
BOOST_AUTO_TEST_CASE(stop_from_another_thread_lets_in_flight_requests_finish)
{
    watchdog wd;
    gate g;
    counter entered;
    channel<int, int> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(
        responder,
        [&](int v) {
            entered.add();
            g.wait();
            return -v;
        },
        dx::fixed_concurrency{4});
    std::vector<std::optional<dx::result<int>>> rs(6);
    counter returned;
    std::vector<scoped_fiber> fs;
    for (int i = 0; i != 6; ++i)
        fs.emplace_back([&, i] {
            rs[std::size_t(i)].emplace(ch.client->request(i));
            returned.add();
        });
    BOOST_TEST_REQUIRE(entered.wait_at_least(4));
    BOOST_TEST_REQUIRE(poll_until([&] { return responder.stats().queued == 2; }));

    std::atomic<bool> stopped{false};
    std::thread stopper([&] {
        responder.stop();
        stopped = true;
    });
    BOOST_TEST_REQUIRE(returned.wait_at_least(2));
    BOOST_TEST_REQUIRE(poll_until([&] { return stopped.load(); }));
    stopper.join();
    BOOST_TEST(!run.done());
    g.open();
    BOOST_TEST_REQUIRE(returned.wait_at_least(6));
    int values = 0, closed = 0;
    for (int i = 0; i != 6; ++i) {
        auto& r = *rs[std::size_t(i)];
        if (r.has_value()) {
            ++values;
            BOOST_TEST(r.value() == -i);
        } else {
            closed += r.error() == code(dx::error::closed);
        }
    }
    BOOST_TEST(values == 4);
    BOOST_TEST(closed == 2);
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(run.result() == boost::system::error_code());
}

// stop() before the run: the run returns success at once, even with client
// copies alive; requests made before are closed, and so are later ones.
BOOST_AUTO_TEST_CASE(stop_before_run)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{4, 30s, dx::overflow::wait});
    std::optional<dx::result<int>> early;
    scoped_fiber f([&] { early.emplace(ch.client->request(1)); });
    let_others_run();
    ch.responder->stop();
    ch.responder->stop();  // twice is harmless
    f.join();
    BOOST_TEST(code_of(*early) == code(dx::error::closed));
    bool called = false;
    auto r = ch.responder->run([&](int v) {
        called = true;
        return v;
    });
    BOOST_TEST(r.has_value());
    BOOST_TEST(!called);
    BOOST_TEST(code_of(ch.client->request(2)) == code(dx::error::closed));
}

// A channel runs once: a second run() during the first returns
// invalid_argument, after it returns closed; neither disturbs the first.
BOOST_AUTO_TEST_CASE(a_second_run_is_refused)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{4, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(responder, [](int v) { return v; }, dx::fixed_concurrency{2});
    let_others_run();
    auto during = responder.run([](int v) { return v + 1; });
    BOOST_TEST(code_of(during) == code(dx::error::invalid_argument));
    auto r = ch.client->request(3);
    BOOST_TEST((r.has_value() && r.value() == 3));
    responder.stop();
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(run.result() == boost::system::error_code());
    auto after = responder.run([](int v) { return v + 1; });
    BOOST_TEST(code_of(after) == code(dx::error::closed));
}

// After a shutdown, a handler still running that calls stop() again, or the
// test calling it again, changes nothing.
BOOST_AUTO_TEST_CASE(stop_is_idempotent_during_and_after_the_run)
{
    watchdog wd;
    gate g;
    counter entered;
    channel<int, int> ch(dx::channel_options{4, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(
        responder,
        [&](int v) {
            entered.add();
            g.wait();
            responder.stop();
            return v;
        },
        dx::fixed_concurrency{2});
    std::optional<dx::result<int>> r;
    scoped_fiber f([&] { r.emplace(ch.client->request(8)); });
    BOOST_TEST_REQUIRE(entered.wait_at_least(1));
    responder.stop();
    responder.stop();
    g.open();
    f.join();
    BOOST_TEST((r->has_value() && r->value() == 8));
    BOOST_TEST_REQUIRE(run.wait_done());
    responder.stop();
    BOOST_TEST(run.result() == boost::system::error_code());
}

// stop() and a burst take meet: the run loop took every queued request at
// once (a limit of 16) and the first handler, which holds the thread as
// CPU-bound work does, stops the responder. The others were taken but not
// started: they complete with closed and never reach the handler.
BOOST_AUTO_TEST_CASE(stop_inside_a_handler_closes_the_requests_taken_with_it_but_not_started)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{16, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    std::vector<int> seen;
    std::vector<std::optional<dx::result<int>>> r(6);
    std::vector<scoped_fiber> clients;
    for (int i = 0; i != 6; ++i)
        clients.emplace_back([&, i] { r[std::size_t(i)].emplace(ch.client->request(i)); });
    BOOST_TEST_REQUIRE(poll_until([&] { return responder.stats().queued == 6u; }));
    runner run(
        responder,
        [&](int v) {
            seen.push_back(v);
            if (v == 0)
                responder.stop();
            return v * 2;
        },
        dx::fixed_concurrency{16});
    for (auto& c : clients)
        c.join();
    BOOST_TEST((r[0]->has_value() && r[0]->value() == 0));
    for (std::size_t i = 1; i != 6; ++i)
        BOOST_TEST_CONTEXT("request " << i)
        BOOST_TEST(code_of(*r[i]) == code(dx::error::closed));
    BOOST_TEST(seen == (std::vector<int>{0}));
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(run.result() == boost::system::error_code());
}
