//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Priorities, flows and overload control (API.md, second edition), Fiber
// backend: the taking order, displacement from a full queue, shedding while
// overloaded (promptly, while the handler is busy), adaptive LIFO, and what
// the limiter and the counters hear of it.

#define BOOST_TEST_MODULE fiber_overload
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/fiber.hpp>
#include <boost/duplex/priority.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

using namespace fiber_test;
using dx::priority;

namespace {

using client_type = dx::fiber_client<int, int>;

// A request sent from a fiber of its own, with its outcome and how long it took.
struct sent {
    std::optional<dx::result<int>> r;
    clock_type::duration took{};
    scoped_fiber f;

    void send(const client_type& c, int x, counter& done)
    {
        f = scoped_fiber([this, c = client_type(c), x, &done]() mutable {
            const auto t0 = clock_type::now();
            r.emplace(c.request(x));
            took = clock_type::now() - t0;
            done.add();
        });
    }

    bool is(dx::error e) const { return r && !r->has_value() && r->error() == code(e); }
    bool holds(int v) const { return r && r->has_value() && r->value() == v; }
};

struct counting_limiter {
    std::size_t* told;
    std::size_t limit() const { return 1; }
    void on_complete(std::chrono::nanoseconds, bool) { ++*told; }
};

dx::channel_options with_overload(dx::overload_options ov, std::size_t capacity = 64)
{
    dx::channel_options o{.capacity = capacity, .timeout = 10s};
    o.overload = ov;
    return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(queued_requests_are_handled_highest_priority_first)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{.capacity = 64, .timeout = 10s});
    const client_type& c = *ch.client;
    counter done;
    std::array<sent, 5> s;
    s[0].send(c.with_priority(priority::low), 0, done);
    s[1].send(c, 1, done);
    s[2].send(c.with_priority(priority::critical), 2, done);
    s[3].send(c.with_priority(priority::high), 3, done);
    s[4].send(c.with_priority(priority::critical), 4, done);
    let_others_run();
    BOOST_TEST(ch.responder->stats().queued == 5u);  // the queue stands before the run
    std::vector<int> handled;
    runner run(*ch.responder, [&](int x) { handled.push_back(x); return x; }, dx::fixed_concurrency{1});
    BOOST_TEST_REQUIRE(done.wait_at_least(5));
    BOOST_TEST(handled == (std::vector<int>{2, 4, 3, 1, 0}), boost::test_tools::per_element());
    for (int i = 0; i != 5; ++i)
        BOOST_TEST(s[static_cast<std::size_t>(i)].holds(i));
    BOOST_TEST((c.get_priority() == priority::normal));
    ch.client.reset();
    BOOST_TEST(run.wait_done());
}

BOOST_AUTO_TEST_CASE(flows_of_equal_priority_take_turns)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{.capacity = 64, .timeout = 10s});
    const client_type flooder = ch.client->with_flow(1);
    const client_type quiet = ch.client->with_flow(2);
    BOOST_TEST(quiet.get_flow() == 2u);
    counter done;
    std::array<sent, 5> s;
    s[0].send(flooder, 10, done);
    s[1].send(flooder, 11, done);
    s[2].send(flooder, 12, done);
    s[3].send(quiet, 20, done);
    s[4].send(quiet, 21, done);
    let_others_run();
    std::vector<int> handled;
    runner run(*ch.responder, [&](int x) { handled.push_back(x); return x; }, dx::fixed_concurrency{1});
    BOOST_TEST_REQUIRE(done.wait_at_least(5));
    BOOST_TEST(handled == (std::vector<int>{10, 20, 11, 21, 12}), boost::test_tools::per_element());
    ch.responder->stop();  // copies of the client are still about
    BOOST_TEST(run.wait_done());
}

BOOST_AUTO_TEST_CASE(a_full_queue_lets_a_higher_priority_displace_the_newest_lowest_at_once)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{.capacity = 2, .timeout = 10s, .on_full = dx::overflow::reject});
    const client_type low = ch.client->with_priority(priority::low);
    counter done;
    std::array<sent, 4> s;
    s[0].send(low, 0, done);
    s[1].send(low, 1, done);
    s[2].send(low, 2, done);  // equal priority: queue_full
    s[3].send(*ch.client, 3, done);  // normal: displaces 1
    BOOST_TEST_REQUIRE(done.wait_at_least(2));
    BOOST_TEST(s[1].is(dx::error::overloaded));
    BOOST_TEST(s[2].is(dx::error::queue_full));
    BOOST_TEST(ch.responder->stats().shed == 1u);
    std::vector<int> handled;
    runner run(*ch.responder, [&](int x) { handled.push_back(x); return x; }, dx::fixed_concurrency{1});
    BOOST_TEST_REQUIRE(done.wait_at_least(4));
    BOOST_TEST(handled == (std::vector<int>{3, 0}), boost::test_tools::per_element());
    const auto st = ch.responder->stats();
    BOOST_TEST(st.shed == 1u);
    BOOST_TEST(st.completed == 2u);
    ch.responder->stop();  // copies of the client are still about
    BOOST_TEST(run.wait_done());
}

BOOST_AUTO_TEST_CASE(while_overloaded_requests_waiting_past_the_target_are_shed_promptly_and_never_handled)
{
    watchdog wd;
    channel<int, int> ch(with_overload({.interval = 20ms, .target = 5ms}));
    gate g;
    std::vector<int> handled;
    std::size_t told = 0;
    runner run(
        *ch.responder,
        [&](int x) {
            handled.push_back(x);
            if (x == 0)
                g.wait();  // holds the only place in flight: the queue stands
            return x;
        },
        counting_limiter{&told});
    counter first_done, done;
    sent first;
    first.send(*ch.client, 0, first_done);
    while (handled.empty())
        this_fiber::yield();
    std::array<sent, 4> s;
    for (int i = 0; i != 4; ++i)
        s[static_cast<std::size_t>(i)].send(*ch.client, i + 1, done);
    BOOST_TEST_REQUIRE(done.wait_at_least(4));
    for (auto& x : s) {
        BOOST_TEST(x.is(dx::error::overloaded));
        BOOST_TEST(x.took < 2s);  // generous: expected about 25 ms, the deadline is 10 s away
    }
    BOOST_TEST(first_done.get() == 0u);
    g.open();
    BOOST_TEST_REQUIRE(first_done.wait_at_least(1));
    BOOST_TEST(first.holds(0));
    BOOST_TEST(handled == std::vector<int>{0}, boost::test_tools::per_element());
    const auto st = ch.responder->stats();
    BOOST_TEST(st.shed == 4u);
    BOOST_TEST(st.completed == 1u);
    BOOST_TEST(st.timed_out == 0u);
    BOOST_TEST(told == 1u);  // the limiter hears nothing of shed requests
    ch.client.reset();
    BOOST_TEST(run.wait_done());
}

BOOST_AUTO_TEST_CASE(with_lifo_an_overloaded_responder_takes_the_newest_first)
{
    watchdog wd;
    channel<int, int> ch(with_overload({.interval = 1ms, .target = 10s, .shed = false, .lifo = true}));
    gate g;
    std::vector<int> handled;
    runner run(
        *ch.responder,
        [&](int x) {
            handled.push_back(x);
            if (x == 0)
                g.wait();
            return x;
        },
        dx::fixed_concurrency{1});
    counter done;
    sent first;
    first.send(*ch.client, 0, done);
    while (handled.empty())
        this_fiber::yield();
    std::array<sent, 3> s;
    for (int i = 0; i != 3; ++i)
        s[static_cast<std::size_t>(i)].send(*ch.client, i + 1, done);
    let_others_run();
    this_fiber::sleep_for(50ms);  // the queue must stand for the interval: that is the condition itself
    g.open();
    BOOST_TEST_REQUIRE(done.wait_at_least(4));
    BOOST_TEST(handled == (std::vector<int>{0, 3, 2, 1}), boost::test_tools::per_element());
    BOOST_TEST(ch.responder->stats().shed == 0u);
    ch.client.reset();
    BOOST_TEST(run.wait_done());
}

BOOST_AUTO_TEST_CASE(below_capacity_overload_control_sheds_nothing)
{
    watchdog wd;
    channel<int, int> ch(with_overload({}));
    runner run(*ch.responder, [](int x) { return x + 1; }, dx::fixed_concurrency{4});
    for (int i = 0; i != 500; ++i) {
        auto r = ch.client->request(i);
        BOOST_TEST_REQUIRE(r.has_value());
        BOOST_TEST(r.value() == i + 1);
    }
    BOOST_TEST(ch.responder->stats().shed == 0u);
    ch.client.reset();
    BOOST_TEST(run.wait_done());
}
