//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// responder_stats: every request that ends is counted in at most one of
// completed / failed / timed_out / cancelled (closed and queue_full in none);
// `queued` counts the queue only (not the room list); `in_flight` counts
// handler invocations, including those whose request already ended.

#define BOOST_TEST_MODULE core_stats
#include <boost/test/unit_test.hpp>

#include "support.hpp"

using namespace core_test;

using core_t = dd::channel_core<int, int, dx::sharded_slab>;

BOOST_AUTO_TEST_CASE(a_fresh_core_reports_zeroes)
{
    core_t core(opts(4));
    const dx::responder_stats s = core.stats();
    BOOST_TEST(s.queued == 0u);
    BOOST_TEST(s.in_flight == 0u);
    BOOST_TEST(s.concurrency_limit == 0u);
    BOOST_TEST(s.completed == 0u);
    BOOST_TEST(s.failed == 0u);
    BOOST_TEST(s.timed_out == 0u);
    BOOST_TEST(s.cancelled == 0u);
    BOOST_TEST(core.waiting_for_room() == 0u);
}

BOOST_AUTO_TEST_CASE(each_ended_request_is_counted_once_in_the_right_total)
{
    rec done_value, done_error, done_custom_error;
    rec to_submit, to_queued, to_waiting, to_running;
    rec ca_presubmit, ca_queued, ca_waiting, ca_running;
    rec closed_queued, closed_after, full;
    core_t core(opts(2, dx::overflow::wait));
    core_t rejecting(opts(0, dx::overflow::reject));
    core.attach_client();
    rejecting.attach_client();

    // completed / failed
    submit(core, 0, t0 + 10s, done_value, t0);
    submit(core, 1, t0 + 10s, done_error, t0);
    auto t = take(core, 8, t0);
    BOOST_TEST_REQUIRE(t.size() == 2u);
    CORE_CHECK_STATS(core, 0, 2, 0, 0, 0, 0);
    (void)finish_value(core, t[0], 1);
    CORE_CHECK_STATS(core, 0, 1, 1, 0, 0, 0);
    (void)finish_error(core, t[1], dx::make_error_code(dx::error::handler_failed));
    CORE_CHECK_STATS(core, 0, 0, 1, 1, 0, 0);
    // A handler's own error code is a failure too.
    submit(core, 2, t0 + 10s, done_custom_error, t0);
    t = take(core, 8, t0);
    (void)finish_error(core, t[0], error_code(ENOENT, boost::system::generic_category()));
    BOOST_TEST(done_custom_error.error() == error_code(ENOENT, boost::system::generic_category()));
    CORE_CHECK_STATS(core, 0, 0, 1, 2, 0, 0);

    // timed_out: at submit, queued, waiting, running (its late value is no completion)
    submit(core, 3, t0, to_submit, t0);
    CORE_CHECK_STATS(core, 0, 0, 1, 2, 1, 0);
    submit(core, 4, t0 + 5s, to_running, t0);
    t = take(core, 8, t0);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    submit(core, 5, t0 + 5s, to_queued, t0);
    submit(core, 6, t0 + 10s, closed_queued, t0);
    submit(core, 7, t0 + 5s, to_waiting, t0);
    CORE_CHECK_STATS(core, 2, 1, 1, 2, 1, 0);
    BOOST_TEST(core.waiting_for_room() == 1u);
    (void)core.expire(t0 + 5s);
    CORE_CHECK_STATS(core, 1, 1, 1, 2, 4, 0);  // in_flight still 1: the handler runs on
    BOOST_TEST(core.waiting_for_room() == 0u);
    (void)finish_value(core, t[0], 4);
    CORE_CHECK_STATS(core, 1, 0, 1, 2, 4, 0);  // not completed

    // cancelled: before submit, queued, waiting, running (its late error is no failure)
    {
        auto* s = core.prepare();
        (void)core.cancel(core.key_of(s), false);
        core.submit(s, 8, t0 + 10s, ca_presubmit, t0 + 5s);
    }
    CORE_CHECK_STATS(core, 1, 0, 1, 2, 4, 1);
    const auto kq = submit_k(core, 9, t0 + 10s, ca_queued, t0 + 5s);
    const auto kw = submit_k(core, 10, t0 + 10s, ca_waiting, t0 + 5s);
    BOOST_TEST(core.waiting_for_room() == 1u);
    CORE_CHECK_STATS(core, 2, 0, 1, 2, 4, 1);
    (void)core.cancel(kw, false);
    (void)core.cancel(kq, false);
    CORE_CHECK_STATS(core, 1, 0, 1, 2, 4, 3);
    const auto kr = submit_k(core, 11, t0 + 10s, ca_running, t0 + 5s);
    t = take(core, 8, t0 + 5s);  // closed_queued (6) and ca_running (11)
    BOOST_TEST_REQUIRE(t.size() == 2u);
    CORE_CHECK_STATS(core, 0, 2, 1, 2, 4, 3);
    (void)core.cancel(kr, true);
    CORE_CHECK_STATS(core, 0, 2, 1, 2, 4, 4);
    (void)finish_error(core, t[1], dx::make_error_code(dx::error::handler_failed));
    CORE_CHECK_STATS(core, 0, 1, 1, 2, 4, 4);  // not failed

    // closed (by close, while running) and queue_full count nowhere
    (void)core.close();
    (void)finish_value(core, t[0], 6);
    CORE_CHECK_STATS(core, 0, 0, 1, 2, 4, 4);
    submit(core, 12, t0 + 10s, closed_after, t0 + 5s);
    CORE_CHECK_STATS(core, 0, 0, 1, 2, 4, 4);
    submit(rejecting, 13, t0 + 10s, full, t0);
    CORE_CHECK_ERR(full, dx::error::queue_full);
    CORE_CHECK_STATS(rejecting, 0, 0, 0, 0, 0, 0);

    for (rec* r : {&done_value, &done_error, &done_custom_error, &to_submit, &to_queued, &to_waiting, &to_running,
                   &ca_presubmit, &ca_queued, &ca_waiting, &ca_running, &closed_queued, &closed_after, &full})
        BOOST_TEST(r->calls == 1u);
    for (rec* r : {&to_submit, &to_queued, &to_waiting, &to_running})
        CORE_CHECK_ERR(*r, dx::error::timeout);
    for (rec* r : {&ca_presubmit, &ca_queued, &ca_waiting, &ca_running})
        CORE_CHECK_ERR(*r, dx::error::cancelled);
    for (rec* r : {&closed_queued, &closed_after})
        CORE_CHECK_ERR(*r, dx::error::closed);
    rejecting.close();
}

BOOST_AUTO_TEST_CASE(stop_closes_without_counting_and_in_flight_ones_count_when_they_end)
{
    rec a, b, c;
    core_t core(opts(4));
    core.attach_client();
    submit(core, 0, t0 + 10s, a, t0);
    submit(core, 1, t0 + 10s, b, t0);
    submit(core, 2, t0 + 10s, c, t0);
    auto t = take(core, 2, t0);
    CORE_CHECK_STATS(core, 1, 2, 0, 0, 0, 0);
    (void)core.stop();
    CORE_CHECK_STATS(core, 0, 2, 0, 0, 0, 0);
    (void)finish_value(core, t[0], 0);
    (void)finish_error(core, t[1], dx::make_error_code(dx::error::handler_failed));
    CORE_CHECK_STATS(core, 0, 0, 1, 1, 0, 0);
    BOOST_TEST(take(core, 2, t0).tr.done);
    CORE_CHECK_STATS(core, 0, 0, 1, 1, 0, 0);
}

BOOST_AUTO_TEST_CASE(queued_and_in_flight_follow_every_step)
{
    rec w[6];
    core_t core(opts(3));
    core.attach_client();
    for (int i = 0; i != 6; ++i) {
        submit(core, i, t0 + 10s, w[i], t0);
        BOOST_TEST(core.stats().queued == std::min<std::size_t>(std::size_t(i) + 1, 3u));
        BOOST_TEST(core.waiting_for_room() == (i >= 3 ? std::size_t(i) - 2 : 0u));
    }
    auto t = take(core, 2, t0);
    CORE_CHECK_STATS(core, 3, 2, 0, 0, 0, 0);
    BOOST_TEST(core.waiting_for_room() == 1u);
    (void)finish_value(core, t[0], 0);
    CORE_CHECK_STATS(core, 3, 1, 1, 0, 0, 0);
    auto t2 = take(core, 4, t0);
    BOOST_TEST(t2.size() == 3u);
    CORE_CHECK_STATS(core, 1, 4, 1, 0, 0, 0);
    BOOST_TEST(core.waiting_for_room() == 0u);
    (void)finish_value(core, t[1], 0);
    for (auto* s : t2.slots)
        (void)finish_value(core, s, 0);
    CORE_CHECK_STATS(core, 1, 0, 5, 0, 0, 0);
    t = take(core, 4, t0);
    (void)finish_value(core, t[0], 0);
    CORE_CHECK_STATS(core, 0, 0, 6, 0, 0, 0);
    core.close();
}
