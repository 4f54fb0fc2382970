//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// A request counts as started when its handler starts. The responder may take
// several requests at once (take() with `started` below the count); those it
// does not start at once are `taken`, and begin() checks each when its turn
// comes: its deadline, a cancellation of any type, stop() and close() all end
// it without reaching the handler, exactly as if it were still queued.

#define BOOST_TEST_MODULE core_start
#include <boost/test/unit_test.hpp>

#include "support.hpp"

using namespace core_test;

using core_t = dd::channel_core<int, int, dx::sharded_slab>;

namespace {

struct burst {
    std::vector<core_t::slot_type*> slots;
    core_t::take_result tr;
};

// A channel with one client and requests 0 .. n-1 queued (deadline t0 + 10 s), request i waited on by w[i].
template <std::size_t N>
void queue_requests(core_t& core, rec (&w)[N])
{
    core.attach_client();
    for (std::size_t i = 0; i != N; ++i)
        submit(core, int(i), t0 + 10s, w[i], t0);
}

burst take_burst(core_t& core, std::size_t limit, time_point now, std::size_t started)
{
    burst b;
    b.tr = core.take(limit, now, SIZE_MAX, started);
    for (auto* s = b.tr.first; s; s = s->chain)
        b.slots.push_back(s);
    return b;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_first_starts_at_once_and_the_others_start_at_begin)
{
    rec w[3];
    core_t core(opts(8));
    queue_requests(core, w);
    auto b = take_burst(core, 8, t0, 1);
    BOOST_TEST_REQUIRE(b.slots.size() == 3u);
    BOOST_TEST(core.stats().in_flight == 3u);
    BOOST_TEST(core_t::take_request(b.slots[0]) == 0);
    BOOST_TEST((finish_value(core, b.slots[0], 10) == dd::run_outcome::delivered));
    for (int i = 1; i != 3; ++i) {
        BOOST_TEST_REQUIRE(core.begin(b.slots[std::size_t(i)], t0 + 1s));
        BOOST_TEST(core_t::take_request(b.slots[std::size_t(i)]) == i);
        BOOST_TEST((finish_value(core, b.slots[std::size_t(i)], 10 + i) == dd::run_outcome::delivered));
    }
    for (int i = 0; i != 3; ++i) {
        BOOST_TEST(w[i].calls == 1u);
        BOOST_TEST((w[i].has_value() && w[i].value() == 10 + i));
    }
    BOOST_TEST(core.stats().in_flight == 0u);
    BOOST_TEST(core.stats().completed == 3u);
    core.close();
}

BOOST_AUTO_TEST_CASE(a_taken_request_whose_deadline_passed_never_starts)
{
    rec w[3];
    core_t core(opts(8));
    core.attach_client();
    submit(core, 0, t0 + 10s, w[0], t0);
    submit(core, 1, t0 + 100ms, w[1], t0);
    submit(core, 2, t0 + 10s, w[2], t0);
    auto b = take_burst(core, 8, t0, 1);
    BOOST_TEST_REQUIRE(b.slots.size() == 3u);
    (void)core_t::take_request(b.slots[0]);
    (void)finish_value(core, b.slots[0], 0);  // the first handler ran for 150 ms
    BOOST_TEST(!core.begin(b.slots[1], t0 + 150ms));
    BOOST_TEST(w[1].calls == 1u);
    CORE_CHECK_ERR(w[1], dx::error::timeout);
    BOOST_TEST(core.begin(b.slots[2], t0 + 150ms));
    (void)core_t::take_request(b.slots[2]);
    (void)finish_value(core, b.slots[2], 2);
    const auto st = core.stats();
    BOOST_TEST(st.timed_out == 1u);
    BOOST_TEST(st.in_flight == 0u);
    BOOST_TEST((core.earliest_deadline() == time_point::max()));
    core.close();
}

BOOST_AUTO_TEST_CASE(a_taken_request_expired_by_the_timer_never_starts)
{
    rec w[2];
    core_t core(opts(8));
    core.attach_client();
    submit(core, 0, t0 + 10s, w[0], t0);
    submit(core, 1, t0 + 100ms, w[1], t0);
    auto b = take_burst(core, 8, t0, 1);
    BOOST_TEST_REQUIRE(b.slots.size() == 2u);
    (void)core.expire(t0 + 100ms);  // the timer, while the first handler runs
    BOOST_TEST(w[1].calls == 1u);
    CORE_CHECK_ERR(w[1], dx::error::timeout);
    BOOST_TEST(!core.begin(b.slots[1], t0 + 100ms));
    BOOST_TEST(w[1].calls == 1u);  // not twice
    (void)core_t::take_request(b.slots[0]);
    (void)finish_value(core, b.slots[0], 0);
    BOOST_TEST(core.stats().in_flight == 0u);
    BOOST_TEST(core.stats().timed_out == 1u);
    core.close();
}

BOOST_AUTO_TEST_CASE(every_cancellation_type_ends_a_taken_request)
{
    for (bool in_flight_too : {false, true}) {
        rec w[2];
        core_t core(opts(8));
        core.attach_client();
        submit(core, 0, t0 + 10s, w[0], t0);
        const dd::slot_key k = submit_k(core, 1, t0 + 10s, w[1], t0);
        auto b = take_burst(core, 8, t0, 1);
        BOOST_TEST_REQUIRE(b.slots.size() == 2u);
        const auto out = core.cancel(k, in_flight_too);
        BOOST_TEST(out.forward == nullptr);  // no handler to tell
        BOOST_TEST(w[1].calls == 1u);
        CORE_CHECK_ERR(w[1], dx::error::cancelled);
        BOOST_TEST(!core.begin(b.slots[1], t0));
        BOOST_TEST(core.cancel(k, true).forward == nullptr);  // the key is stale now
        (void)core_t::take_request(b.slots[0]);
        (void)finish_value(core, b.slots[0], 0);
        BOOST_TEST(core.stats().cancelled == 1u);
        BOOST_TEST(core.stats().in_flight == 0u);
        core.close();
    }
}

BOOST_AUTO_TEST_CASE(stop_closes_taken_requests_and_lets_the_started_one_deliver)
{
    rec w[3];
    core_t core(opts(8));
    queue_requests(core, w);
    auto b = take_burst(core, 8, t0, 1);
    BOOST_TEST_REQUIRE(b.slots.size() == 3u);
    (void)core_t::take_request(b.slots[0]);
    core.stop();  // from inside the first handler
    for (int i = 1; i != 3; ++i) {
        BOOST_TEST(w[i].calls == 1u);
        CORE_CHECK_ERR(w[i], dx::error::closed);
        BOOST_TEST(!core.begin(b.slots[std::size_t(i)], t0));
    }
    BOOST_TEST(!core.take(8, t0).done);  // the first still runs
    BOOST_TEST((finish_value(core, b.slots[0], 0) == dd::run_outcome::delivered));
    BOOST_TEST((w[0].has_value() && w[0].value() == 0));
    BOOST_TEST(core.take(8, t0).done);
}

BOOST_AUTO_TEST_CASE(a_request_taken_before_stop_but_begun_after_it_is_closed)
{
    // stop() may also come between take() and begin() from elsewhere: the
    // request is closed either at stop() (above) or, here, already at stop()
    // and begin() only lets go of the slot.
    rec w[2];
    core_t core(opts(8));
    queue_requests(core, w);
    auto b = take_burst(core, 8, t0, 0);
    BOOST_TEST_REQUIRE(b.slots.size() == 2u);
    core.stop();
    for (int i = 0; i != 2; ++i) {
        CORE_CHECK_ERR(w[i], dx::error::closed);
        BOOST_TEST(!core.begin(b.slots[std::size_t(i)], t0));
        BOOST_TEST(w[i].calls == 1u);
    }
    BOOST_TEST(core.take(8, t0).done);
}

BOOST_AUTO_TEST_CASE(close_ends_taken_requests_too)
{
    rec w[2];
    core_t core(opts(8));
    queue_requests(core, w);
    auto b = take_burst(core, 8, t0, 0);
    core.close();
    for (int i = 0; i != 2; ++i) {
        CORE_CHECK_ERR(w[i], dx::error::closed);
        BOOST_TEST(!core.begin(b.slots[std::size_t(i)], t0));
    }
    BOOST_TEST(core.stats().in_flight == 0u);
}

// The lazy timer (a backend whose run holds its event loop anyway): with
// nothing pending it waits for a horizon of one default timeout, keeps a
// pending wait, and a lazy wait that ends with nothing pending is not renewed.
// A default timeout of zero or less keeps nothing lazily.
BOOST_AUTO_TEST_CASE(a_lazy_timer_wakes_an_idle_channel_at_most_once)
{
    core_t core(opts(8, dx::overflow::wait, 2s));
    core.attach_client();
    BOOST_TEST((core.next_deadline(t0, true, false) == t0 + 2s));
    BOOST_TEST((core.next_deadline(t0 + 1s, true, false) == t0 + 2s));  // kept
    BOOST_TEST((core.expire(t0 + 2s) == time_point::max()));
    BOOST_TEST((core.next_deadline(t0 + 2s, true, true) == time_point::max()));  // not renewed
    BOOST_TEST((core.next_deadline(t0 + 2s, false, false) == time_point::max()));

    rec w;
    const dd::effects fx = submit(core, 1, t0 + 5s, w, t0 + 3s);
    BOOST_TEST(fx.rearm_timer);
    BOOST_TEST((core.next_deadline(t0 + 3s, true, false) == t0 + 5s));
    (void)core.expire(t0 + 5s);
    CORE_CHECK_ERR(w, dx::error::timeout);
    // A deadline's wait ended with nothing left: one lazy horizon, then none.
    BOOST_TEST((core.next_deadline(t0 + 5s, true, true) == t0 + 7s));
    (void)core.expire(t0 + 7s);
    BOOST_TEST((core.next_deadline(t0 + 7s, true, true) == time_point::max()));
    core.close();

    for (duration d : {duration::zero(), duration(-1s), duration::max()}) {
        core_t c(opts(8, dx::overflow::wait, d));
        BOOST_TEST((c.next_deadline(t0, true, false) == time_point::max()));
    }
}
