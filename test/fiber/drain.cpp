//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// A bounded drain: stop(drain) waits for running handlers at most `drain`;
// then what still runs completes with error::closed, run() returns
// (error::timeout if a handler was still running) even if a handler never
// returns, and what that handler uses stays alive until it ends.

#define BOOST_TEST_MODULE fiber_drain
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <array>
#include <memory>

using namespace fiber_test;

namespace {

// Holds requests with a negative value on `hold`; answers the others after
// sleeping their value in milliseconds. `alive` is shared by every copy of the
// handler: it expires once the run and every invocation let go of it.
struct fixture {
    gate hold;
    counter started;
    counter ended;
    std::weak_ptr<int> alive;

    auto handler()
    {
        auto token = std::make_shared<int>(0);
        alive = token;
        return [this, token](int v) {
            started.add();
            if (v < 0)
                hold.wait();
            else
                this_fiber::sleep_for(std::chrono::milliseconds(v));
            ended.add();
            return v + *token;
        };
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_drain_delivers_what_ends_in_time_and_returns_without_a_stuck_handler)
{
    watchdog wd;
    fixture fx;  // outlives the stuck handler fiber
    channel<int, int> ch;
    std::optional<boost::system::error_code> result;
    counter returned;
    scoped_fiber run([&] {
        auto r = ch.responder->run(fx.handler(), dx::fixed_concurrency{2});
        result = r ? boost::system::error_code() : r.error();
        returned.add();
    });

    std::array<std::optional<dx::result<int>>, 3> got;
    std::vector<scoped_fiber> clients;
    const std::array<int, 3> values{20, -1, 5};  // the third waits in the queue
    for (std::size_t i = 0; i != got.size(); ++i)
        clients.emplace_back([&, i] { got[i] = ch.client->request(values[i], 30s); });
    BOOST_TEST_REQUIRE(fx.started.wait_at_least(2));

    const auto t0 = clock_type::now();
    ch.responder->stop(300ms);
    BOOST_TEST_REQUIRE(returned.wait_at_least(1, 10s));
    const double took = seconds_since(t0);
    BOOST_TEST(took >= 0.25);
    BOOST_TEST(took < 3.0);
    BOOST_TEST_REQUIRE(result.has_value());
    BOOST_TEST(*result == code(dx::error::timeout));  // the held handler still ran
    for (auto& c : clients)
        c.join();
    BOOST_TEST(got[0]->value() == 20);                            // ended within the drain
    BOOST_TEST(code_of(*got[1]) == code(dx::error::closed));      // still running at the end
    BOOST_TEST(code_of(*got[2]) == code(dx::error::closed));      // queued: closed by the stop
    BOOST_TEST(code_of(ch.client->request(7)) == code(dx::error::closed));

    // run() returned with the handler still blocked: what it uses is alive.
    BOOST_TEST(fx.ended.get() == 1u);
    BOOST_TEST(!fx.alive.expired());
    fx.hold.open();
    BOOST_TEST_REQUIRE(fx.ended.wait_at_least(2));
    BOOST_TEST(poll_until([&] { return fx.alive.expired(); }));  // and then it is let go of
    ch.client.reset();
    ch.responder.reset();
}

BOOST_AUTO_TEST_CASE(a_drain_that_everything_beats_returns_success_at_once)
{
    watchdog wd;
    fixture fx;
    channel<int, int> ch;
    runner run(*ch.responder, fx.handler(), dx::fixed_concurrency{2});
    std::optional<dx::result<int>> got;
    scoped_fiber f([&] { got = ch.client->request(30); });
    BOOST_TEST_REQUIRE(fx.started.wait_at_least(1));
    const auto t0 = clock_type::now();
    ch.responder->stop(30s);
    BOOST_TEST_REQUIRE(run.wait_done(10s));
    BOOST_TEST(seconds_since(t0) < 3.0);
    BOOST_TEST(run.result() == boost::system::error_code());
    f.join();
    BOOST_TEST(got->value() == 30);
}

BOOST_AUTO_TEST_CASE(the_earliest_drain_holds_and_a_stop_from_another_thread_reaches_the_run)
{
    watchdog wd;
    fixture fx;
    channel<int, int> ch;
    runner run(*ch.responder, fx.handler(), dx::fixed_concurrency{2});
    std::optional<dx::result<int>> got;
    scoped_fiber f([&] { got = ch.client->request(-1); });
    BOOST_TEST_REQUIRE(fx.started.wait_at_least(1));
    const auto t0 = clock_type::now();
    std::thread([&] {
        ch.responder->stop(100ms);
        ch.responder->stop(30s);
        ch.responder->stop();
    }).join();
    BOOST_TEST_REQUIRE(run.wait_done(10s));
    BOOST_TEST(seconds_since(t0) < 2.0);
    BOOST_TEST(run.result() == code(dx::error::timeout));
    f.join();
    BOOST_TEST(code_of(*got) == code(dx::error::closed));
    fx.hold.open();
    BOOST_TEST_REQUIRE(fx.ended.wait_at_least(1));
    ch.client.reset();
    ch.responder.reset();
    BOOST_TEST(poll_until([&] { return fx.alive.expired(); }));
}

// stop(drain) asked for by a handler: that handler's request ends within the
// drain and is delivered, the queued one is closed at once, and the drain
// bounds the stuck one: run() returns error::timeout without waiting for it.
BOOST_AUTO_TEST_CASE(a_drain_asked_for_by_a_handler_delivers_that_handler_and_bounds_the_others)
{
    watchdog wd;
    gate hold;  // outlives the stuck handler fiber
    counter started;
    counter ended;
    channel<int, int> ch;
    auto* stopper = &*ch.responder;
    std::optional<boost::system::error_code> result;
    counter returned;
    scoped_fiber run([&] {
        auto r = ch.responder->run(
            [&hold, &started, &ended, stopper](int v) {
                started.add();
                if (v == 0)
                    stopper->stop(200ms);
                else
                    hold.wait();
                ended.add();
                return v + 100;
            },
            dx::fixed_concurrency{2});
        result = r ? boost::system::error_code() : r.error();
        returned.add();
    });

    std::array<std::optional<dx::result<int>>, 3> got;
    std::vector<scoped_fiber> clients;
    clients.emplace_back([&] { got[0] = ch.client->request(-1, 30s); });  // stuck
    BOOST_TEST_REQUIRE(started.wait_at_least(1));
    const auto t0 = clock_type::now();
    clients.emplace_back([&] { got[1] = ch.client->request(0, 30s); });  // asks for the drain
    clients.emplace_back([&] { got[2] = ch.client->request(1, 30s); });  // queued (limit 2)
    BOOST_TEST_REQUIRE(returned.wait_at_least(1, 10s));
    const double took = seconds_since(t0);
    BOOST_TEST(took >= 0.15);
    BOOST_TEST(took < 3.0);
    BOOST_TEST_REQUIRE(result.has_value());
    BOOST_TEST(*result == code(dx::error::timeout));
    for (auto& c : clients)
        c.join();
    BOOST_TEST(got[1]->value() == 100);
    BOOST_TEST(code_of(*got[0]) == code(dx::error::closed));
    BOOST_TEST(code_of(*got[2]) == code(dx::error::closed));
    BOOST_TEST(started.get() == 2u);  // the queued one never reached the handler
    hold.open();
    BOOST_TEST_REQUIRE(ended.wait_at_least(2));
    ch.client.reset();
    ch.responder.reset();
}
