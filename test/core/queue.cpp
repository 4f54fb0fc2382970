//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 6 (backpressure) and the FIFO order of the queue: at most
// `capacity` queued, then wait for room (overflow::wait) or queue_full
// (overflow::reject); rendezvous channels (capacity 0); and when the core
// asks the backend to wake the responder.

#define BOOST_TEST_MODULE core_queue
#include <boost/test/unit_test.hpp>

#include "support.hpp"

using namespace core_test;

using core_t = dd::channel_core<int, int, dx::sharded_slab>;

namespace {

// The requests of a take(), in chain order.
std::vector<int> requests_of(const taken<core_t>& t)
{
    std::vector<int> v;
    for (auto* s : t.slots)
        v.push_back(*s->request.get());
    return v;
}

void finish_all(core_t& core, const taken<core_t>& t, int value = 0)
{
    for (auto* s : t.slots)
        (void)finish_value(core, s, value);
}

}  // namespace

BOOST_AUTO_TEST_CASE(beyond_capacity_a_request_waits_for_room_and_is_promoted_when_a_take_frees_it)
{
    rec w[4];
    core_t core(opts(2));
    core.attach_client();
    submit(core, 0, t0 + 10s, w[0], t0);
    submit(core, 1, t0 + 10s, w[1], t0);
    CORE_CHECK_STATS(core, 2, 0, 0, 0, 0, 0);
    BOOST_TEST(core.waiting_for_room() == 0u);

    submit(core, 2, t0 + 10s, w[2], t0);
    submit(core, 3, t0 + 10s, w[3], t0);
    for (auto& x : w)
        BOOST_TEST(x.calls == 0u);  // nobody is refused
    CORE_CHECK_STATS(core, 2, 0, 0, 0, 0, 0);  // waiting for room is not "queued"
    BOOST_TEST(core.waiting_for_room() == 2u);

    auto t = take(core, 1, t0);
    BOOST_TEST(requests_of(t) == std::vector<int>{0}, boost::test_tools::per_element());
    CORE_CHECK_STATS(core, 2, 1, 0, 0, 0, 0);  // 2 moved up into the queue
    BOOST_TEST(core.waiting_for_room() == 1u);

    auto t2 = take(core, 2, t0);
    BOOST_TEST(requests_of(t2) == std::vector<int>{1}, boost::test_tools::per_element());
    CORE_CHECK_STATS(core, 2, 2, 0, 0, 0, 0);
    BOOST_TEST(core.waiting_for_room() == 0u);

    finish_all(core, t);
    finish_all(core, t2);
    auto t3 = take(core, 8, t0);
    BOOST_TEST(requests_of(t3) == (std::vector<int>{2, 3}), boost::test_tools::per_element());
    finish_all(core, t3);
    for (auto& x : w)
        BOOST_TEST(x.calls == 1u);
    CORE_CHECK_STATS(core, 0, 0, 4, 0, 0, 0);
    core.close();
}

BOOST_AUTO_TEST_CASE(cancelling_a_queued_request_promotes_the_oldest_waiter)
{
    rec w[4];
    core_t core(opts(2));
    core.attach_client();
    const auto k0 = submit_k(core, 0, t0 + 10s, w[0], t0);
    submit(core, 1, t0 + 10s, w[1], t0);
    submit(core, 2, t0 + 10s, w[2], t0);
    submit(core, 3, t0 + 10s, w[3], t0);
    BOOST_TEST(core.waiting_for_room() == 2u);

    (void)core.cancel(k0, false);
    BOOST_TEST(w[0].calls == 1u);
    CORE_CHECK_ERR(w[0], dx::error::cancelled);
    CORE_CHECK_STATS(core, 2, 0, 0, 0, 0, 1);
    BOOST_TEST(core.waiting_for_room() == 1u);

    auto t = take(core, 8, t0);
    BOOST_TEST(requests_of(t) == (std::vector<int>{1, 2, 3}), boost::test_tools::per_element());
    finish_all(core, t);
    core.close();
}

BOOST_AUTO_TEST_CASE(expiry_of_a_queued_request_promotes_the_oldest_waiter)
{
    rec w[4];
    core_t core(opts(2));
    core.attach_client();
    submit(core, 0, t0 + 10s, w[0], t0);
    submit(core, 1, t0 + 1s, w[1], t0);
    submit(core, 2, t0 + 10s, w[2], t0);
    submit(core, 3, t0 + 10s, w[3], t0);
    BOOST_TEST(core.waiting_for_room() == 2u);

    BOOST_TEST((core.expire(t0 + 1s) == t0 + 10s));
    BOOST_TEST(w[1].calls == 1u);
    CORE_CHECK_ERR(w[1], dx::error::timeout);
    CORE_CHECK_STATS(core, 2, 0, 0, 0, 1, 0);
    BOOST_TEST(core.waiting_for_room() == 1u);

    auto t = take(core, 8, t0 + 2s);
    BOOST_TEST(requests_of(t) == (std::vector<int>{0, 2, 3}), boost::test_tools::per_element());
    finish_all(core, t);
    core.close();
}

BOOST_AUTO_TEST_CASE(waiting_for_room_counts_against_the_deadline)
{
    rec w[3];
    core_t core(opts(1));
    core.attach_client();
    submit(core, 0, t0 + 10s, w[0], t0);
    submit(core, 1, t0 + 2s, w[1], t0);
    submit(core, 2, t0 + 3s, w[2], t0);
    BOOST_TEST(core.waiting_for_room() == 2u);

    BOOST_TEST((core.expire(t0 + 2s) == t0 + 3s));
    BOOST_TEST(w[1].calls == 1u);
    CORE_CHECK_ERR(w[1], dx::error::timeout);
    BOOST_TEST(core.waiting_for_room() == 1u);
    CORE_CHECK_STATS(core, 1, 0, 0, 0, 1, 0);

    BOOST_TEST((core.expire(t0 + 3s) == t0 + 10s));
    CORE_CHECK_ERR(w[2], dx::error::timeout);
    BOOST_TEST(core.waiting_for_room() == 0u);
    CORE_CHECK_STATS(core, 1, 0, 0, 0, 2, 0);
    BOOST_TEST(w[0].calls == 0u);
    core.close();
}

BOOST_AUTO_TEST_CASE(cancelling_a_waiter_leaves_the_queue_alone)
{
    rec w[3];
    core_t core(opts(1));
    core.attach_client();
    submit(core, 0, t0 + 10s, w[0], t0);
    const auto k1 = submit_k(core, 1, t0 + 10s, w[1], t0);
    submit(core, 2, t0 + 10s, w[2], t0);
    (void)core.cancel(k1, false);
    CORE_CHECK_ERR(w[1], dx::error::cancelled);
    BOOST_TEST(core.waiting_for_room() == 1u);
    CORE_CHECK_STATS(core, 1, 0, 0, 0, 0, 1);
    auto t = take(core, 8, t0);
    BOOST_TEST(requests_of(t) == (std::vector<int>{0, 2}), boost::test_tools::per_element());
    finish_all(core, t);
    core.close();
}

BOOST_AUTO_TEST_CASE(reject_completes_with_queue_full_at_once_and_counts_nowhere)
{
    rec w[5];
    core_t core(opts(2, dx::overflow::reject));
    core.attach_client();
    submit(core, 0, t0 + 10s, w[0], t0);
    submit(core, 1, t0 + 10s, w[1], t0);
    const dd::effects fx = submit(core, 2, t0 + 1s, w[2], t0);
    BOOST_TEST(w[2].calls == 1u);  // inside submit
    CORE_CHECK_ERR(w[2], dx::error::queue_full);
    BOOST_TEST(!fx.wake_responder);
    BOOST_TEST(!fx.rearm_timer);  // a refused request never arms the timer
    BOOST_TEST(core.waiting_for_room() == 0u);
    CORE_CHECK_STATS(core, 2, 0, 0, 0, 0, 0);
    BOOST_TEST((core.next_deadline() == t0 + 10s));

    // Room frees up: the next request is accepted.
    auto t = take(core, 1, t0);
    submit(core, 3, t0 + 10s, w[3], t0);
    BOOST_TEST(w[3].calls == 0u);
    CORE_CHECK_STATS(core, 2, 1, 0, 0, 0, 0);
    submit(core, 4, t0 + 10s, w[4], t0);
    CORE_CHECK_ERR(w[4], dx::error::queue_full);
    finish_all(core, t);
    t = take(core, 8, t0);
    BOOST_TEST(requests_of(t) == (std::vector<int>{1, 3}), boost::test_tools::per_element());
    finish_all(core, t);
    for (auto& x : w)
        BOOST_TEST(x.calls == 1u);
    CORE_CHECK_STATS(core, 0, 0, 3, 0, 0, 0);
    core.close();
}

BOOST_AUTO_TEST_CASE(rendezvous_request_waits_until_the_responder_takes_it)
{
    rec w[3];
    core_t core(opts(0));
    core.attach_client();
    dd::effects fx = submit(core, 0, t0 + 10s, w[0], t0);
    BOOST_TEST(!fx.wake_responder);  // the responder never asked for work yet
    submit(core, 1, t0 + 10s, w[1], t0);
    CORE_CHECK_STATS(core, 0, 0, 0, 0, 0, 0);
    BOOST_TEST(core.waiting_for_room() == 2u);
    BOOST_TEST(w[0].calls == 0u);

    auto t = take(core, 1, t0);
    BOOST_TEST(requests_of(t) == std::vector<int>{0}, boost::test_tools::per_element());
    CORE_CHECK_STATS(core, 0, 1, 0, 0, 0, 0);  // capacity 0: nothing moves into the queue
    BOOST_TEST(core.waiting_for_room() == 1u);
    finish_all(core, t, 10);
    BOOST_TEST(w[0].value() == 10);

    t = take(core, 1, t0);
    BOOST_TEST(requests_of(t) == std::vector<int>{1}, boost::test_tools::per_element());
    BOOST_TEST(core.waiting_for_room() == 0u);

    // The responder now has room for more (limit 3, 1 running) and the queue
    // ran dry: the next request is handed over and wakes it.
    auto t2 = take(core, 3, t0);
    BOOST_TEST(t2.size() == 0u);
    fx = submit(core, 2, t0 + 10s, w[2], t0);
    BOOST_TEST(fx.wake_responder);
    auto t3 = take(core, 3, t0);
    BOOST_TEST(requests_of(t3) == std::vector<int>{2}, boost::test_tools::per_element());
    finish_all(core, t);
    finish_all(core, t3);
    for (auto& x : w)
        BOOST_TEST(x.calls == 1u);
    core.close();
}

BOOST_AUTO_TEST_CASE(rendezvous_with_reject_accepts_only_while_the_responder_is_idle)
{
    rec w[6];
    core_t core(opts(0, dx::overflow::reject));
    core.attach_client();

    // Before the responder asked for work: refused.
    dd::effects fx = submit(core, 0, t0 + 10s, w[0], t0);
    CORE_CHECK_ERR(w[0], dx::error::queue_full);
    BOOST_TEST(!fx.wake_responder);

    // The responder took nothing and has spare limit: idle, a request is handed over.
    auto t = take(core, 1, t0);
    BOOST_TEST(t.size() == 0u);
    BOOST_TEST(!t.tr.done);
    fx = submit(core, 1, t0 + 10s, w[1], t0);
    BOOST_TEST(w[1].calls == 0u);
    BOOST_TEST(fx.wake_responder);
    CORE_CHECK_STATS(core, 1, 0, 0, 0, 0, 0);

    // The responder is now woken (no longer idle) and the one place is taken: refused.
    fx = submit(core, 2, t0 + 10s, w[2], t0);
    CORE_CHECK_ERR(w[2], dx::error::queue_full);
    BOOST_TEST(!fx.wake_responder);

    t = take(core, 1, t0);
    BOOST_TEST(requests_of(t) == std::vector<int>{1}, boost::test_tools::per_element());
    // At its limit (1 of 1 running) the responder is not idle: refused.
    fx = submit(core, 3, t0 + 10s, w[3], t0);
    CORE_CHECK_ERR(w[3], dx::error::queue_full);
    BOOST_TEST(!fx.wake_responder);
    finish_all(core, t);

    // After a stop() the responder is not idle either.
    auto t2 = take(core, 1, t0);
    BOOST_TEST(t2.size() == 0u);
    (void)core.stop();
    fx = submit(core, 4, t0 + 10s, w[4], t0);
    CORE_CHECK_ERR(w[4], dx::error::closed);
    for (int i = 0; i != 5; ++i)
        BOOST_TEST(w[i].calls == 1u);
    CORE_CHECK_STATS(core, 0, 0, 1, 0, 0, 0);
    core.close();
}

// A rendezvous responder that asked for `n` requests (take() with n spare)
// stands ready for n of them: the core records that as its demand
// (channel_core::demand_, checked by handoff_possible()).
BOOST_AUTO_TEST_CASE(rendezvous_with_reject_accepts_as_many_as_the_idle_responder_has_room_for)
{
    rec w[3];
    core_t core(opts(0, dx::overflow::reject));
    core.attach_client();
    auto t = take(core, 2, t0);  // idle with room for two
    BOOST_TEST(t.size() == 0u);
    submit(core, 0, t0 + 10s, w[0], t0);
    BOOST_TEST(w[0].calls == 0u);
    submit(core, 1, t0 + 10s, w[1], t0);
    BOOST_TEST(w[1].calls == 0u);  // the responder has room for it
    submit(core, 2, t0 + 10s, w[2], t0);
    CORE_CHECK_ERR(w[2], dx::error::queue_full);  // but not for a third
    t = take(core, 2, t0);
    finish_all(core, t);
    core.close();
    for (auto& x : w)
        BOOST_TEST(x.calls == 1u);
}

BOOST_AUTO_TEST_CASE(wake_responder_only_when_it_was_idle)
{
    rec w[8];
    core_t core(opts(2));
    core.attach_client();

    // Before the first take() the responder is not waiting for work.
    dd::effects fx = submit(core, 0, t0 + 10s, w[0], t0);
    BOOST_TEST(!fx.wake_responder);

    // A take that found work leaves the responder busy: it comes back for
    // more by itself. Only a take that finds nothing, with room to spare,
    // leaves it idle.
    auto t = take(core, 4, t0);  // takes 0
    BOOST_TEST(t.size() == 1u);
    BOOST_TEST(take(core, 4, t0).size() == 0u);  // nothing more, room to spare: idle
    fx = submit(core, 1, t0 + 10s, w[1], t0);
    BOOST_TEST(fx.wake_responder);  // the first request after idling wakes it
    fx = submit(core, 2, t0 + 10s, w[2], t0);
    BOOST_TEST(!fx.wake_responder);  // already woken
    fx = submit(core, 3, t0 + 10s, w[3], t0);  // waits for room
    BOOST_TEST(!fx.wake_responder);
    BOOST_TEST(core.waiting_for_room() == 1u);

    auto t2 = take(core, 4, t0);  // 1, 2, 3: now 4 running, at the limit
    BOOST_TEST(requests_of(t2) == (std::vector<int>{1, 2, 3}), boost::test_tools::per_element());
    fx = submit(core, 4, t0 + 10s, w[4], t0);
    BOOST_TEST(!fx.wake_responder);  // at its limit, the responder is not idle

    finish_all(core, t);
    auto t3 = take(core, 4, t0);  // takes 4 (4 running again): not idle
    BOOST_TEST(requests_of(t3) == std::vector<int>{4}, boost::test_tools::per_element());
    fx = submit(core, 5, t0 + 10s, w[5], t0);
    BOOST_TEST(!fx.wake_responder);

    finish_all(core, t2);
    auto t4 = take(core, 4, t0);  // takes 5
    BOOST_TEST(requests_of(t4) == std::vector<int>{5}, boost::test_tools::per_element());
    BOOST_TEST(take(core, 4, t0).size() == 0u);  // 2 running, room, nothing queued: idle
    fx = submit(core, 6, t0 + 10s, w[6], t0);
    BOOST_TEST(fx.wake_responder);

    // A request that ends at submit (timeout) does not wake anyone.
    auto t5 = take(core, 4, t0);
    BOOST_TEST(requests_of(t5) == std::vector<int>{6}, boost::test_tools::per_element());
    fx = submit(core, 7, t0, w[7], t0);
    CORE_CHECK_ERR(w[7], dx::error::timeout);
    BOOST_TEST(!fx.wake_responder);

    finish_all(core, t3);
    finish_all(core, t4);
    finish_all(core, t5);
    for (auto& x : w)
        BOOST_TEST(x.calls == 1u);
    core.close();
}

BOOST_AUTO_TEST_CASE(stop_and_last_client_gone_wake_an_idle_responder_only)
{
    {
        core_t core(opts(2));
        core.attach_client();
        auto t = take(core, 4, t0);
        BOOST_TEST(t.size() == 0u);
        BOOST_TEST(core.stop().wake_responder);
        BOOST_TEST(!core.stop().wake_responder);  // already woken
        BOOST_TEST(take(core, 4, t0).tr.done);
    }
    {
        rec w;
        core_t core(opts(2));
        core.attach_client();
        submit(core, 0, t0 + 10s, w, t0);
        auto t = take(core, 1, t0);  // at its limit: not idle
        BOOST_TEST(!core.stop().wake_responder);
        finish_all(core, t);
        BOOST_TEST(take(core, 1, t0).tr.done);
    }
    {
        core_t core(opts(2));
        core.attach_client();
        core.attach_client();
        auto t = take(core, 4, t0);
        BOOST_TEST(!core.detach_client().wake_responder);  // one client left
        BOOST_TEST(core.detach_client().wake_responder);
        BOOST_TEST(take(core, 4, t0).tr.done);
    }
    {
        core_t core(opts(2));
        core.attach_client();
        auto t = take(core, 4, t0);
        BOOST_TEST(core.close().wake_responder);
        BOOST_TEST(take(core, 4, t0).tr.done);
    }
}

BOOST_AUTO_TEST_CASE(queue_is_fifo_across_the_room_list)
{
    rec w[10];
    core_t core(opts(3));
    core.attach_client();
    for (int i = 0; i != 10; ++i)
        submit(core, i, t0 + 10s, w[i], t0);
    BOOST_TEST(core.waiting_for_room() == 7u);
    std::vector<int> order;
    // Take them one or two at a time, finishing as we go.
    for (int round = 0; round != 20 && order.size() < 10; ++round) {
        auto t = take(core, 1 + std::size_t(round % 2), t0);
        for (int r : requests_of(t))
            order.push_back(r);
        finish_all(core, t);
        BOOST_TEST(core.stats().queued <= 3u);
    }
    std::vector<int> expected{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    BOOST_TEST(order == expected, boost::test_tools::per_element());
    core.close();
}
