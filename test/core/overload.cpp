//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Priorities, flows and overload control (API.md, second edition), on the
// sans-io core with a virtual clock: the taking order (priority, then round
// robin over flows, then oldest first, or newest first while overloaded with
// lifo), room by priority (displacement, promotion), the overload state and
// shedding, and what the timer is asked to wait for.

#define BOOST_TEST_MODULE core_overload
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <string>

using namespace core_test;

using core_t = dd::channel_core<int, int, dx::sharded_slab>;
using dx::priority;

namespace {

std::vector<int> requests_of(const taken<core_t>& t)
{
    std::vector<int> v;
    for (auto* s : t.slots)
        v.push_back(*s->request.get());
    return v;
}

void finish_all(core_t& core, const taken<core_t>& t)
{
    for (auto* s : t.slots)
        (void)finish_value(core, s, 0);
}

// Takes one request at a time (finishing each) until the queue is empty: the taking order.
std::vector<int> drain_one_by_one(core_t& core, time_point now)
{
    std::vector<int> order;
    for (;;) {
        auto t = take(core, 1, now);
        if (t.size() == 0)
            break;
        order.push_back(*t[0]->request.get());
        finish_all(core, t);
    }
    return order;
}

dx::channel_options overload_opts(std::size_t capacity, duration interval, duration target, bool shed, bool lifo,
                                  dx::overflow on_full = dx::overflow::wait)
{
    dx::channel_options o = opts(capacity, on_full, 10s);
    o.overload = dx::overload_options{.interval = interval, .target = target, .shed = shed, .lifo = lifo};
    return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_highest_priority_is_taken_first)
{
    rec w[5];
    core_t core(opts(8));
    core.attach_client();
    submit(core, 0, t0 + 10s, w[0], t0, priority::low);
    submit(core, 1, t0 + 10s, w[1], t0, priority::normal);
    submit(core, 2, t0 + 10s, w[2], t0, priority::critical);
    submit(core, 3, t0 + 10s, w[3], t0, priority::high);
    submit(core, 4, t0 + 10s, w[4], t0, priority::critical);
    BOOST_TEST(drain_one_by_one(core, t0) == (std::vector<int>{2, 4, 3, 1, 0}), boost::test_tools::per_element());
    // One take of all: the same order along the chain.
    for (int i = 0; i != 5; ++i)
        submit(core, i, t0 + 10s, w[i], t0, static_cast<priority>(i % 4));
    auto t = take(core, 8, t0);
    BOOST_TEST(requests_of(t) == (std::vector<int>{3, 2, 1, 0, 4}), boost::test_tools::per_element());
    finish_all(core, t);
    core.close();
}

BOOST_AUTO_TEST_CASE(among_equal_priorities_flows_take_turns_and_each_flow_is_oldest_first)
{
    rec w[9];
    core_t core(opts(16));
    core.attach_client();
    // Flow 7 floods first; flows 1 and 9 come later, 9 twice.
    submit(core, 0, t0 + 10s, w[0], t0, priority::normal, 7);
    submit(core, 1, t0 + 10s, w[1], t0, priority::normal, 7);
    submit(core, 2, t0 + 10s, w[2], t0, priority::normal, 7);
    submit(core, 3, t0 + 10s, w[3], t0, priority::normal, 7);
    submit(core, 4, t0 + 10s, w[4], t0, priority::normal, 1);
    submit(core, 5, t0 + 10s, w[5], t0, priority::normal, 9);
    submit(core, 6, t0 + 10s, w[6], t0, priority::normal, 9);
    // A higher priority still goes first, whatever its flow.
    submit(core, 7, t0 + 10s, w[7], t0, priority::high, 7);
    BOOST_TEST(drain_one_by_one(core, t0) == (std::vector<int>{7, 0, 4, 5, 1, 6, 2, 3}),
               boost::test_tools::per_element());
    for (auto& x : w)
        BOOST_TEST(x.calls <= 1u);
    core.close();
}

BOOST_AUTO_TEST_CASE(a_flow_that_arrives_waits_for_its_turn_and_a_one_flow_level_is_fifo_again_once_empty)
{
    rec w[8];
    core_t core(opts(16));
    core.attach_client();
    submit(core, 0, t0 + 10s, w[0], t0, priority::normal, 1);
    submit(core, 1, t0 + 10s, w[1], t0, priority::normal, 2);
    submit(core, 2, t0 + 10s, w[2], t0, priority::normal, 1);
    auto t = take(core, 1, t0);  // flow 1's turn
    BOOST_TEST(requests_of(t) == std::vector<int>{0}, boost::test_tools::per_element());
    finish_all(core, t);
    submit(core, 3, t0 + 10s, w[3], t0, priority::normal, 3);  // joins behind flow 1
    BOOST_TEST(drain_one_by_one(core, t0) == (std::vector<int>{1, 2, 3}), boost::test_tools::per_element());
    // Empty again: one flow is plain FIFO.
    submit(core, 4, t0 + 10s, w[4], t0, priority::normal, 5);
    submit(core, 5, t0 + 10s, w[5], t0, priority::normal, 5);
    submit(core, 6, t0 + 10s, w[6], t0, priority::normal, 5);
    BOOST_TEST(drain_one_by_one(core, t0) == (std::vector<int>{4, 5, 6}), boost::test_tools::per_element());
    core.close();
}

BOOST_AUTO_TEST_CASE(cancelling_or_expiring_a_flow_s_first_or_last_request_keeps_the_round_intact)
{
    rec w[7];
    core_t core(opts(16));
    core.attach_client();
    submit(core, 0, t0 + 10s, w[0], t0, priority::normal, 1);
    const auto k1 = submit_k(core, 1, t0 + 10s, w[1], t0);  // flow 0
    submit(core, 2, t0 + 10s, w[2], t0, priority::normal, 1);
    submit(core, 3, t0 + 1s, w[3], t0, priority::normal, 1);  // expires
    submit(core, 4, t0 + 10s, w[4], t0, priority::normal, 2);
    submit(core, 5, t0 + 10s, w[5], t0, priority::normal, 2);
    const auto c1 = core.cancel(k1, false);  // flow 0 had only this one
    (void)c1;
    CORE_CHECK_ERR(w[1], dx::error::cancelled);
    (void)core.expire(t0 + 1s);
    CORE_CHECK_ERR(w[3], dx::error::timeout);
    BOOST_TEST(drain_one_by_one(core, t0 + 1s) == (std::vector<int>{0, 4, 2, 5}), boost::test_tools::per_element());
    for (auto& x : w)
        BOOST_TEST(x.calls <= 1u);
    core.close();
}

BOOST_AUTO_TEST_CASE(a_full_queue_lets_a_higher_priority_displace_the_newest_of_the_lowest)
{
    rec w[6];
    core_t core(opts(3, dx::overflow::reject));
    core.attach_client();
    submit(core, 0, t0 + 10s, w[0], t0, priority::normal);
    submit(core, 1, t0 + 10s, w[1], t0, priority::low);
    submit(core, 2, t0 + 10s, w[2], t0, priority::low);
    // Equal priority never displaces: reject says queue_full.
    submit(core, 3, t0 + 10s, w[3], t0, priority::low);
    CORE_CHECK_ERR(w[3], dx::error::queue_full);
    // Higher: the most recently queued of the lowest priority goes, at once.
    submit(core, 4, t0 + 10s, w[4], t0, priority::high);
    BOOST_TEST(w[4].calls == 0u);
    CORE_CHECK_ERR(w[2], dx::error::overloaded);
    BOOST_TEST(w[1].calls == 0u);
    submit(core, 5, t0 + 10s, w[5], t0, priority::critical);
    CORE_CHECK_ERR(w[1], dx::error::overloaded);
    const auto st = core.stats();
    BOOST_TEST(st.shed == 2u);
    BOOST_TEST(st.queued == 3u);
    BOOST_TEST(st.cancelled == 0u);
    BOOST_TEST(st.timed_out == 0u);
    BOOST_TEST(drain_one_by_one(core, t0) == (std::vector<int>{5, 4, 0}), boost::test_tools::per_element());
    BOOST_TEST(core.stats().completed == 3u);
    for (auto& x : w)
        BOOST_TEST(x.calls == 1u);
    core.close();
}

BOOST_AUTO_TEST_CASE(displacement_happens_whatever_on_full_says_and_waiters_get_room_highest_priority_first)
{
    rec w[6];
    core_t core(opts(1, dx::overflow::wait));
    core.attach_client();
    submit(core, 0, t0 + 10s, w[0], t0, priority::critical);
    submit(core, 1, t0 + 10s, w[1], t0, priority::low);     // waits for room
    submit(core, 2, t0 + 10s, w[2], t0, priority::high);    // waits: nothing queued below high
    submit(core, 3, t0 + 10s, w[3], t0, priority::normal);  // waits
    submit(core, 4, t0 + 10s, w[4], t0, priority::high);    // waits, behind 2
    BOOST_TEST(core.waiting_for_room() == 4u);
    BOOST_TEST(drain_one_by_one(core, t0) == (std::vector<int>{0, 2, 4, 3, 1}), boost::test_tools::per_element());

    // overflow::wait does not protect a queued request from displacement.
    submit(core, 5, t0 + 10s, w[5], t0, priority::low);
    submit(core, 0, t0 + 10s, w[0], t0, priority::normal);
    CORE_CHECK_ERR(w[5], dx::error::overloaded);
    BOOST_TEST(core.waiting_for_room() == 0u);
    BOOST_TEST(drain_one_by_one(core, t0) == std::vector<int>{0}, boost::test_tools::per_element());
    core.close();
}

BOOST_AUTO_TEST_CASE(without_overload_options_nothing_is_shed_however_long_the_queue_stands)
{
    rec w[4];
    core_t core(opts(8, dx::overflow::wait, 10s));
    core.attach_client();
    (void)take(core, 1, t0);  // a run is going
    for (int i = 0; i != 4; ++i)
        submit(core, i, t0 + 10s, w[i], t0);
    BOOST_TEST(core.expire(t0 + 5s) == t0 + 10s);
    BOOST_TEST(core.stats().shed == 0u);
    BOOST_TEST(drain_one_by_one(core, t0 + 5s) == (std::vector<int>{0, 1, 2, 3}), boost::test_tools::per_element());
    core.close();
}

BOOST_AUTO_TEST_CASE(overloaded_after_interval_of_standing_queue_then_requests_waiting_past_target_are_shed_oldest_first)
{
    rec w[6];
    core_t core(overload_opts(16, 100ms, 5ms, true, false));
    core.attach_client();
    // The run starts and takes request 0, which holds the only place in flight.
    // A request submitted with shedding on asks the timer to look at it no
    // later than its target (it could be shed then).
    const dd::effects fx = submit(core, 0, t0 + 10s, w[0], t0);
    BOOST_TEST(fx.rearm_timer);
    BOOST_TEST(core.expire(t0) == t0 + 10s);  // no run yet: nothing can be shed
    auto t = take(core, 1, t0);
    BOOST_TEST(t.size() == 1u);
    BOOST_TEST(submit(core, 1, t0 + 10s, w[1], t0 + 1ms).rearm_timer);
    submit(core, 2, t0 + 10s, w[2], t0 + 2ms);
    submit(core, 3, t0 + 10s, w[3], t0 + 60ms);
    // Not overloaded yet (the queue has stood 49 ms): nothing shed; the timer
    // comes back when the queue will have stood for the interval.
    BOOST_TEST(core.expire(t0 + 50ms) == t0 + 1ms + 100ms);
    BOOST_TEST(core.stats().shed == 0u);
    // Overloaded now: 1 and 2 waited longer than 5 ms, and so did 3.
    submit(core, 4, t0 + 10s, w[4], t0 + 98ms);
    const time_point next = core.expire(t0 + 101ms);
    CORE_CHECK_ERR(w[1], dx::error::overloaded);
    CORE_CHECK_ERR(w[2], dx::error::overloaded);
    CORE_CHECK_ERR(w[3], dx::error::overloaded);
    BOOST_TEST(w[4].calls == 0u);  // waited 3 ms: kept
    BOOST_TEST(w[1].seq < w[2].seq);
    BOOST_TEST(w[2].seq < w[3].seq);  // oldest first
    // 4 passes its target 5 ms after it came (the queue is still overloaded).
    BOOST_TEST(next == t0 + 98ms + 5ms + duration(1));
    BOOST_TEST(core.expire(t0 + 98ms + 5ms) == t0 + 98ms + 5ms + duration(1));
    BOOST_TEST(w[4].calls == 0u);  // exactly the target is not longer than it
    (void)core.expire(next);
    CORE_CHECK_ERR(w[4], dx::error::overloaded);
    const auto st = core.stats();
    BOOST_TEST(st.shed == 4u);
    BOOST_TEST(st.timed_out == 0u);
    BOOST_TEST(st.cancelled == 0u);
    BOOST_TEST(st.queued == 0u);
    BOOST_TEST(st.in_flight == 1u);
    finish_all(core, t);
    BOOST_TEST(core.stats().completed == 1u);
    core.close();
}

BOOST_AUTO_TEST_CASE(the_responder_sheds_as_it_takes_and_a_break_in_the_queue_resets_the_overload_clock)
{
    rec w[8];
    core_t core(overload_opts(16, 100ms, 5ms, true, false));
    core.attach_client();
    submit(core, 0, t0 + 10s, w[0], t0);
    auto t = take(core, 1, t0);
    submit(core, 1, t0 + 10s, w[1], t0 + 10ms);
    submit(core, 2, t0 + 10s, w[2], t0 + 108ms);
    finish_all(core, t);
    // At 111 ms the queue has stood 101 ms: 1 is shed as the responder
    // takes, 2 (waited 3 ms) is handed over.
    auto t2 = take(core, 4, t0 + 111ms);
    BOOST_TEST(requests_of(t2) == std::vector<int>{2}, boost::test_tools::per_element());
    CORE_CHECK_ERR(w[1], dx::error::overloaded);
    finish_all(core, t2);
    // The queue emptied at 111 ms: a new standing queue is not overloaded for another interval.
    submit(core, 3, t0 + 10s, w[3], t0 + 112ms);
    submit(core, 4, t0 + 10s, w[4], t0 + 112ms);
    auto t3 = take(core, 1, t0 + 112ms);
    BOOST_TEST(requests_of(t3) == std::vector<int>{3}, boost::test_tools::per_element());
    BOOST_TEST(core.expire(t0 + 200ms) == t0 + 212ms);
    BOOST_TEST(w[4].calls == 0u);
    (void)core.expire(t0 + 212ms);
    CORE_CHECK_ERR(w[4], dx::error::overloaded);
    finish_all(core, t3);
    BOOST_TEST(core.stats().shed == 2u);
    BOOST_TEST(core.stats().completed == 3u);
    core.close();
}

BOOST_AUTO_TEST_CASE(no_run_no_overload_and_requests_waiting_for_room_are_not_in_the_queue)
{
    rec w[4];
    core_t core(overload_opts(1, 10ms, 1ms, true, false));
    core.attach_client();
    submit(core, 0, t0 + 10s, w[0], t0);
    submit(core, 1, t0 + 10s, w[1], t0);  // waits for room
    // No run yet: the queue may stand.
    BOOST_TEST(core.expire(t0 + 1s) == t0 + 10s);
    BOOST_TEST(w[0].calls == 0u);
    // The run starts at 1 s: 0 is taken, 1 enters the queue now (its wait
    // for room did not count).
    auto t = take(core, 1, t0 + 1s);
    BOOST_TEST(requests_of(t) == std::vector<int>{0}, boost::test_tools::per_element());
    BOOST_TEST(core.expire(t0 + 1s + 5ms) == t0 + 1s + 10ms);
    BOOST_TEST(w[1].calls == 0u);
    (void)core.expire(t0 + 1s + 10ms);
    CORE_CHECK_ERR(w[1], dx::error::overloaded);
    finish_all(core, t);
    core.close();
}

BOOST_AUTO_TEST_CASE(lifo_takes_the_newest_of_a_flow_only_while_overloaded)
{
    rec w[8];
    core_t core(overload_opts(16, 100ms, 5ms, false, true));
    core.attach_client();
    submit(core, 0, t0 + 10s, w[0], t0);
    auto t = take(core, 1, t0);
    submit(core, 1, t0 + 10s, w[1], t0 + 1ms);
    submit(core, 2, t0 + 10s, w[2], t0 + 2ms);
    submit(core, 3, t0 + 10s, w[3], t0 + 3ms);
    finish_all(core, t);
    // Not overloaded (stood 49 ms): oldest first.
    auto t2 = take(core, 1, t0 + 50ms);
    BOOST_TEST(requests_of(t2) == std::vector<int>{1}, boost::test_tools::per_element());
    finish_all(core, t2);
    // Overloaded (stood 101 ms, no shedding): newest first.
    submit(core, 4, t0 + 10s, w[4], t0 + 90ms, priority::normal, 5);
    submit(core, 5, t0 + 10s, w[5], t0 + 95ms, priority::normal, 5);
    BOOST_TEST(core.expire(t0 + 101ms) == t0 + 10s);  // without shed, the timer keeps deadlines only
    BOOST_TEST(drain_one_by_one(core, t0 + 101ms) == (std::vector<int>{3, 5, 2, 4}), boost::test_tools::per_element());
    BOOST_TEST(core.stats().shed == 0u);
    core.close();
}

BOOST_AUTO_TEST_CASE(a_closed_channel_ends_queued_requests_of_every_flow_and_priority_with_closed)
{
    rec w[6];
    core_t core(overload_opts(16, 100ms, 5ms, true, true));
    core.attach_client();
    for (int i = 0; i != 6; ++i)
        submit(core, i, t0 + 10s, w[i], t0, static_cast<priority>(i % 4), static_cast<std::uint64_t>(i % 3));
    core.close();
    for (auto& x : w) {
        BOOST_TEST(x.calls == 1u);
        CORE_CHECK_ERR(x, dx::error::closed);
    }
    BOOST_TEST(core.stats().shed == 0u);
    BOOST_TEST((core.next_deadline() == time_point::max()));
}

BOOST_AUTO_TEST_CASE(bad_overload_options_are_clamped_negative_interval_and_target_mean_zero)
{
    rec w[2];
    core_t core(overload_opts(16, -5s, -1ms, true, false));
    core.attach_client();
    submit(core, 0, t0 + 10s, w[0], t0);
    auto t = take(core, 1, t0);
    submit(core, 1, t0 + 10s, w[1], t0 + 1ms);
    // Overloaded as soon as the queue is non-empty; any wait is too long.
    BOOST_TEST(core.expire(t0 + 1ms) == t0 + 1ms + duration(1));
    (void)core.expire(t0 + 1ms + duration(1));
    CORE_CHECK_ERR(w[1], dx::error::overloaded);
    finish_all(core, t);
    core.close();
}
