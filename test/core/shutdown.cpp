//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantees 4 and 5 (prompt close, shutdown): stop() closes what was not
// started at once and lets running requests deliver; close() ends everything
// at once and drops late results; the run ends (take().done) when stopped or
// when every client is gone, and only once nothing runs.

#define BOOST_TEST_MODULE core_shutdown
#include <boost/test/unit_test.hpp>

#include "support.hpp"

using namespace core_test;

using core_t = dd::channel_core<int, int, dx::sharded_slab>;

BOOST_AUTO_TEST_CASE(stop_closes_queued_and_waiting_at_once_and_lets_running_ones_deliver)
{
    rec run, queued, waiting, after;
    core_t core(opts(1));
    core.attach_client();
    submit(core, 0, t0 + 10s, run, t0);
    auto t = take(core, 1, t0);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    submit(core, 1, t0 + 10s, queued, t0);
    submit(core, 2, t0 + 10s, waiting, t0);
    BOOST_TEST(!core.closed());

    const dd::effects fx = core.stop();
    BOOST_TEST(!fx.wake_responder);  // it is at its limit, busy: it will take() again by itself
    BOOST_TEST(queued.calls == 1u);
    CORE_CHECK_ERR(queued, dx::error::closed);
    BOOST_TEST(waiting.calls == 1u);
    CORE_CHECK_ERR(waiting, dx::error::closed);
    BOOST_TEST(run.calls == 0u);
    CORE_CHECK_STATS(core, 0, 1, 0, 0, 0, 0);  // closed counts nowhere
    BOOST_TEST(core.waiting_for_room() == 0u);
    BOOST_TEST((core.next_deadline() == t0 + 10s));  // the running one keeps its deadline

    // New requests are refused with closed, at once.
    const dd::effects fx2 = submit(core, 3, t0 + 10s, after, t0);
    BOOST_TEST(after.calls == 1u);
    CORE_CHECK_ERR(after, dx::error::closed);
    BOOST_TEST(!fx2.wake_responder);
    BOOST_TEST(!fx2.rearm_timer);

    // The run is not over while a handler runs.
    auto t2 = take(core, 1, t0);
    BOOST_TEST(t2.size() == 0u);
    BOOST_TEST(!t2.tr.done);
    t2 = take(core, 4, t0);
    BOOST_TEST(!t2.tr.done);

    BOOST_TEST((finish_value(core, t[0], 42) == dd::run_outcome::delivered));
    BOOST_TEST(run.calls == 1u);
    BOOST_TEST(run.value() == 42);
    CORE_CHECK_STATS(core, 0, 0, 1, 0, 0, 0);

    auto t3 = take(core, 4, t0);
    BOOST_TEST(t3.size() == 0u);
    BOOST_TEST(t3.tr.done);
    BOOST_TEST(core.closed());
    BOOST_TEST(queued.calls == 1u);
    BOOST_TEST(waiting.calls == 1u);
    BOOST_TEST(after.calls == 1u);
}

BOOST_AUTO_TEST_CASE(stop_of_an_idle_responder_wakes_it_and_the_run_ends)
{
    core_t core(opts(4));
    core.attach_client();
    auto t = take(core, 4, t0);
    BOOST_TEST(!t.tr.done);
    BOOST_TEST(core.stop().wake_responder);
    BOOST_TEST(!core.closed());  // stopped, closed once the run ends
    t = take(core, 4, t0);
    BOOST_TEST(t.tr.done);
    BOOST_TEST(core.closed());
    // Stopping again is harmless.
    BOOST_TEST(!core.stop().wake_responder);
}

BOOST_AUTO_TEST_CASE(stop_before_the_run_started)
{
    rec a, b;
    core_t core(opts(4));
    core.attach_client();
    submit(core, 0, t0 + 10s, a, t0);
    (void)core.stop();
    CORE_CHECK_ERR(a, dx::error::closed);
    submit(core, 1, t0 + 10s, b, t0);
    CORE_CHECK_ERR(b, dx::error::closed);
    auto t = take(core, 4, t0);
    BOOST_TEST(t.size() == 0u);
    BOOST_TEST(t.tr.done);
    BOOST_TEST(a.calls == 1u);
    BOOST_TEST(b.calls == 1u);
}

BOOST_AUTO_TEST_CASE(close_ends_everything_at_once_including_running_requests)
{
    rec run1, run2, queued, waiting, after;
    core_t core(opts(1));
    core.attach_client();
    submit(core, 0, t0 + 10s, run1, t0);
    submit(core, 1, t0 + 10s, run2, t0);
    auto t = take(core, 2, t0);
    BOOST_TEST_REQUIRE(t.size() == 2u);
    submit(core, 2, t0 + 10s, queued, t0);
    submit(core, 3, t0 + 10s, waiting, t0);

    (void)core.close();
    for (rec* r : {&run1, &run2, &queued, &waiting}) {
        BOOST_TEST(r->calls == 1u);
        CORE_CHECK_ERR(*r, dx::error::closed);
    }
    BOOST_TEST(core.closed());
    CORE_CHECK_STATS(core, 0, 2, 0, 0, 0, 0);  // handlers still run; closed counts nowhere
    BOOST_TEST(core.waiting_for_room() == 0u);
    BOOST_TEST((core.next_deadline() == time_point::max()));

    submit(core, 4, t0 + 10s, after, t0);
    CORE_CHECK_ERR(after, dx::error::closed);

    // Expiry can no longer touch them.
    BOOST_TEST((core.expire(t0 + 1h) == time_point::max()));

    auto t2 = take(core, 4, t0);
    BOOST_TEST(!t2.tr.done);  // two handlers still run
    BOOST_TEST((finish_value(core, t[1], 1) == dd::run_outcome::closed));
    BOOST_TEST(!take(core, 4, t0).tr.done);
    BOOST_TEST((finish_value(core, t[0], 0) == dd::run_outcome::closed));
    for (rec* r : {&run1, &run2, &queued, &waiting, &after}) {
        BOOST_TEST(r->calls == 1u);
        CORE_CHECK_ERR(*r, dx::error::closed);
    }
    CORE_CHECK_STATS(core, 0, 0, 0, 0, 0, 0);
    BOOST_TEST(take(core, 4, t0).tr.done);
}

BOOST_AUTO_TEST_CASE(close_after_stop_drops_the_results_stop_would_have_delivered)
{
    rec run;
    core_t core(opts(4));
    core.attach_client();
    submit(core, 0, t0 + 10s, run, t0);
    auto t = take(core, 2, t0);
    (void)core.stop();
    BOOST_TEST(run.calls == 0u);
    (void)core.close();
    BOOST_TEST(run.calls == 1u);
    CORE_CHECK_ERR(run, dx::error::closed);
    BOOST_TEST((finish_value(core, t[0], 0) == dd::run_outcome::closed));
    BOOST_TEST(run.calls == 1u);
    BOOST_TEST(take(core, 4, t0).tr.done);
}

BOOST_AUTO_TEST_CASE(run_ends_when_every_client_is_gone_and_everything_is_answered)
{
    rec a, b, late;
    core_t core(opts(4));
    core.attach_client();
    core.attach_client();
    submit(core, 0, t0 + 10s, a, t0);
    submit(core, 1, t0 + 10s, b, t0);
    BOOST_TEST(!core.detach_client().wake_responder);
    BOOST_TEST(!core.detach_client().wake_responder);  // not idle: it never asked for work yet

    // Requests accepted before the last client left are still served.
    auto t = take(core, 1, t0);
    BOOST_TEST(t.size() == 1u);
    BOOST_TEST(!t.tr.done);
    BOOST_TEST(a.calls == 0u);
    (void)finish_value(core, t[0], 10);
    BOOST_TEST(a.value() == 10);
    t = take(core, 1, t0);
    BOOST_TEST(t.size() == 1u);
    BOOST_TEST(!t.tr.done);
    BOOST_TEST(!take(core, 1, t0).tr.done);  // b still runs
    (void)finish_value(core, t[0], 11);
    BOOST_TEST(b.value() == 11);

    t = take(core, 1, t0);
    BOOST_TEST(t.tr.done);
    BOOST_TEST(core.closed());
    submit(core, 2, t0 + 10s, late, t0);
    CORE_CHECK_ERR(late, dx::error::closed);
    CORE_CHECK_STATS(core, 0, 0, 2, 0, 0, 0);
}

BOOST_AUTO_TEST_CASE(detach_of_the_last_client_wakes_an_idle_responder)
{
    core_t core(opts(4));
    core.attach_client();
    core.attach_client();
    auto t = take(core, 4, t0);
    BOOST_TEST(!t.tr.done);
    BOOST_TEST(!core.detach_client().wake_responder);  // one left
    BOOST_TEST(!take(core, 4, t0).tr.done);
    BOOST_TEST(core.detach_client().wake_responder);
    BOOST_TEST(take(core, 4, t0).tr.done);
    BOOST_TEST(core.closed());
}

BOOST_AUTO_TEST_CASE(detach_of_the_last_client_while_a_handler_runs)
{
    rec a;
    core_t core(opts(4));
    core.attach_client();
    submit(core, 0, t0 + 10s, a, t0);
    auto t = take(core, 4, t0);
    BOOST_TEST(t.size() == 1u);
    BOOST_TEST(take(core, 4, t0).size() == 0u);  // 1 running, room to spare, nothing queued: idle
    BOOST_TEST(core.detach_client().wake_responder);
    auto t2 = take(core, 4, t0);
    BOOST_TEST(!t2.tr.done);  // a still runs
    (void)finish_value(core, t[0], 1);
    BOOST_TEST(a.calls == 1u);
    BOOST_TEST(a.has_value());
    BOOST_TEST(take(core, 4, t0).tr.done);
}

BOOST_AUTO_TEST_CASE(a_client_arriving_again_keeps_the_run_alive)
{
    rec a;
    core_t core(opts(4));
    core.attach_client();
    core.attach_client();  // a copy
    (void)core.detach_client();  // the original goes
    BOOST_TEST(!take(core, 4, t0).tr.done);
    submit(core, 0, t0 + 10s, a, t0);
    auto t = take(core, 4, t0);
    BOOST_TEST(t.size() == 1u);
    (void)finish_value(core, t[0], 5);
    BOOST_TEST(a.value() == 5);
    BOOST_TEST(!take(core, 4, t0).tr.done);
    BOOST_TEST(core.detach_client().wake_responder);
    BOOST_TEST(take(core, 4, t0).tr.done);
}

BOOST_AUTO_TEST_CASE(pending_timeouts_are_not_needed_to_end_a_closed_run)
{
    // Prompt close: nothing waits for a deadline (here an hour away).
    rec w[6];
    core_t core(opts(2));
    core.attach_client();
    for (int i = 0; i != 6; ++i)
        submit(core, i, t0 + 1h, w[i], t0);
    auto t = take(core, 2, t0);
    (void)core.close();
    for (auto& x : w) {
        BOOST_TEST(x.calls == 1u);
        CORE_CHECK_ERR(x, dx::error::closed);
    }
    for (auto* s : t.slots)
        (void)finish_value(core, s, 0);
    BOOST_TEST(take(core, 2, t0).tr.done);
}
