//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Bad input (issue #6, item 4) at the sans-io core, on a virtual clock:
// a client that outlives its responder by hours of virtual time, and
// deadlines hours away that still fire to the nanosecond.
//
// The other bad-input items are covered by the backend tests (see
// test/asio/bad_input.cpp and test/fiber/bad_input.cpp, and the files they
// name).

#define BOOST_TEST_MODULE core_bad_input
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <boost/duplex/detail/core/slot.hpp>

#include <array>

using namespace core_test;

using core_t = dd::channel_core<int, int, dx::sharded_slab>;
using locked_core_t = dd::channel_core<int, int, dx::locked_slab>;

// The responder is destroyed (close()) with requests queued, waiting for
// room and running, all with deadlines hours away: each completes with
// closed at once. Then the client lives on for hours of virtual time: the
// clock passing arms nothing and completes nothing again, every new request
// is refused with closed at the moment it is made (never at its deadline,
// even one hours away or none), the late result of the handler that ran at
// close is dropped, and stale cancellations do nothing.
BOOST_AUTO_TEST_CASE_TEMPLATE(a_client_outliving_its_responder_by_hours_is_refused_at_once_every_time, Storage,
                              storage_policies)
{
    using C = dd::channel_core<int, int, Storage>;
    C core(opts(1, dx::overflow::wait, std::chrono::hours(5)));
    core.attach_client();
    rec running, queued, waiting;
    submit(core, 0, t0 + 5h, running, t0);
    auto t = take(core, 1, t0);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    const dd::slot_key queued_key = submit_k(core, 1, t0 + 5h, queued, t0);
    submit(core, 2, time_point::max(), waiting, t0);
    BOOST_TEST(core.waiting_for_room() == 1u);

    // The responder goes away one hour in.
    const time_point gone = t0 + 1h;
    BOOST_TEST(core.expire(gone) == t0 + 5h);  // nothing due yet
    core.close();
    BOOST_TEST(core.closed());
    for (rec* r : {&running, &queued, &waiting}) {
        BOOST_TEST(r->calls == 1u);
        CORE_CHECK_ERR(*r, dx::error::closed);
    }
    BOOST_TEST((core.next_deadline() == time_point::max()));  // no timer to keep alive
    // Closed counts nowhere; the handler invocation still runs (in_flight).
    CORE_CHECK_STATS(core, 0, 1, 0, 0, 0, 0);

    // The handler that was running finishes three hours later: dropped.
    BOOST_TEST((finish_value(core, t[0], 7) == dd::run_outcome::closed));
    BOOST_TEST(running.calls == 1u);
    CORE_CHECK_STATS(core, 0, 0, 0, 0, 0, 0);

    // Hours of virtual time pass: the old deadlines (t0 + 5h) fire nothing.
    for (int h = 2; h <= 48; ++h) {
        const time_point now = t0 + std::chrono::hours(h);
        BOOST_TEST((core.expire(now) == time_point::max()));
        BOOST_TEST((core.next_deadline() == time_point::max()));
    }
    for (rec* r : {&running, &queued, &waiting})
        BOOST_TEST(r->calls == 1u);

    // A stale cancellation of a request that ended at close does nothing.
    (void)core.cancel(queued_key, true);
    BOOST_TEST(queued.calls == 1u);
    CORE_CHECK_ERR(queued, dx::error::closed);

    // Requests made hours later, with deadlines hours away, none, or already
    // passed: each refused with closed at once; nothing enters the heap, no
    // wake-up or timer is asked for, and the take side stays done.
    std::array<rec, 300> later;
    for (std::size_t i = 0; i != later.size(); ++i) {
        const time_point now = t0 + 49h + std::chrono::minutes(i);
        const time_point dl = i % 3 == 0 ? now + 3h : i % 3 == 1 ? time_point::max() : now - 1s;
        const dd::effects fx = submit(core, int(i), dl, later[i], now);
        BOOST_TEST_REQUIRE(later[i].calls == 1u, "request " << i);
        // closed wins over timeout: the channel is gone, whatever the deadline.
        CORE_CHECK_ERR(later[i], dx::error::closed);
        BOOST_TEST(!fx.wake_responder);
        BOOST_TEST(!fx.rearm_timer);
    }
    BOOST_TEST((core.next_deadline() == time_point::max()));
    BOOST_TEST((core.expire(t0 + 1000h) == time_point::max()));
    for (auto& r : later)
        BOOST_TEST(r.calls == 1u);
    auto t2 = take(core, 4, t0 + 1000h);
    BOOST_TEST(t2.size() == 0u);
    CORE_CHECK_STATS(core, 0, 0, 0, 0, 0, 0);

    // The client finally goes, days later: harmless.
    (void)core.detach_client();
    BOOST_TEST(core.closed());
}

// The same after stop() rather than close(): a stopped run that ended
// (nothing running, the client still there) refuses requests made hours
// later with closed at once, and its run stays over.
BOOST_AUTO_TEST_CASE(a_client_outliving_a_stopped_run_by_hours_is_refused_at_once)
{
    core_t core(opts(4));
    core.attach_client();
    rec a;
    submit(core, 1, t0 + 2h, a, t0);
    auto t = take(core, 4, t0);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    core.stop();
    BOOST_TEST((finish_value(core, t[0], 10) == dd::run_outcome::delivered));
    BOOST_TEST(a.calls == 1u);
    BOOST_TEST(a.has_value());
    BOOST_TEST(take(core, 4, t0).tr.done);

    for (int h = 1; h <= 72; ++h) {
        rec r;
        const time_point now = t0 + std::chrono::hours(h);
        BOOST_TEST((core.expire(now) == time_point::max()));
        submit(core, h, now + 1h, r, now);
        BOOST_TEST(r.calls == 1u);
        CORE_CHECK_ERR(r, dx::error::closed);
    }
    CORE_CHECK_STATS(core, 0, 0, 1, 0, 0, 0);
    (void)core.detach_client();
}

// Deadlines hours away on the virtual clock are exact: a request due in 3 h
// that the busy responder never takes times out at t0 + 3h, not a nanosecond
// earlier, and one with no deadline (duration::max()) is still queued days
// later and is served then.
BOOST_AUTO_TEST_CASE(deadlines_hours_away_fire_exactly_and_no_deadline_waits_for_days)
{
    core_t core(opts(4));
    core.attach_client();
    rec busy, due, forever;
    submit(core, 0, dd::deadline_after(t0, duration::max()), busy, t0);
    auto t = take(core, 1, t0);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    submit(core, 1, dd::deadline_after(t0, 3h), due, t0);
    submit(core, 2, dd::deadline_after(t0, duration::max()), forever, t0);
    BOOST_TEST((core.next_deadline() == t0 + 3h));

    BOOST_TEST((core.expire(t0 + 3h - 1ns) == t0 + 3h));
    BOOST_TEST(due.calls == 0u);
    BOOST_TEST((core.expire(t0 + 3h) == time_point::max()));
    BOOST_TEST(due.calls == 1u);
    CORE_CHECK_ERR(due, dx::error::timeout);

    BOOST_TEST((core.expire(t0 + 24h * 30) == time_point::max()));
    BOOST_TEST(forever.calls == 0u);
    BOOST_TEST(busy.calls == 0u);
    BOOST_TEST((finish_value(core, t[0], 1) == dd::run_outcome::delivered));
    auto t2 = take(core, 1, t0 + 24h * 30);
    BOOST_TEST_REQUIRE(t2.size() == 1u);
    BOOST_TEST((finish_value(core, t2[0], 2) == dd::run_outcome::delivered));
    BOOST_TEST(forever.calls == 1u);
    BOOST_TEST(forever.has_value());
    CORE_CHECK_STATS(core, 0, 0, 2, 0, 1, 0);
    (void)core.detach_client();
}

// deadline_after never overflows for extreme timeouts: duration::max() and
// anything past the end of the clock mean "no deadline", duration::min()
// and other negative timeouts give a deadline in the past (so submit
// completes with timeout at once), never a wrapped-around future one.
BOOST_AUTO_TEST_CASE(extreme_timeouts_neither_overflow_nor_wrap_around)
{
    BOOST_TEST((dd::deadline_after(t0, duration::max()) == time_point::max()));
    BOOST_TEST((dd::deadline_after(t0, duration::max() - 1ns) == time_point::max()));
    BOOST_TEST((dd::deadline_after(t0, duration::zero()) == t0));
    BOOST_TEST((dd::deadline_after(t0, -1ns) < t0));
    BOOST_TEST((dd::deadline_after(t0, duration::min()) < t0));
    BOOST_TEST((dd::deadline_after(t0, duration::min() / 2) < t0));

    core_t core(opts(4));
    core.attach_client();
    for (duration d : {duration::zero(), duration(-1ns), duration(-5h), duration::min() / 2, duration::min()}) {
        rec r;
        const dd::effects fx = submit(core, 1, dd::deadline_after(t0, d), r, t0);
        BOOST_TEST(r.calls == 1u);
        CORE_CHECK_ERR(r, dx::error::timeout);
        BOOST_TEST(!fx.wake_responder);
    }
    BOOST_TEST(take(core, 4, t0).size() == 0u);
    CORE_CHECK_STATS(core, 0, 0, 0, 0, 5, 0);
    (void)core.detach_client();
}
