//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantees 1 and 2 (exactly once, right recipient) at the level of slot
// generations: a result or a cancel meant for an older request never reaches
// the newer request that reuses its slot.

#define BOOST_TEST_MODULE core_generations
#include <boost/test/unit_test.hpp>

#include "support.hpp"

using namespace core_test;

template <class Storage>
using core_of = dd::channel_core<int, int, Storage>;

BOOST_AUTO_TEST_CASE_TEMPLATE(late_finish_after_timeout_is_dropped_and_reuse_reaches_only_the_new_request, Storage,
                              storage_policies)
{
    rec a, b;
    core_of<Storage> core(opts(8));
    core.attach_client();

    const dd::slot_key ka = submit_k(core, 1, t0 + 5s, a, t0);
    auto t = take(core, 4, t0);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    auto* sa = t[0];
    BOOST_TEST(core_of<Storage>::take_request(sa) == 1);

    (void)core.expire(t0 + 5s);
    BOOST_TEST(a.calls == 1u);
    CORE_CHECK_ERR(a, dx::error::timeout);
    CORE_CHECK_STATS(core, 0, 1, 0, 0, 1, 0);  // the handler still runs

    // The late result is dropped; the timed-out waiter is not completed again.
    BOOST_TEST((core.finish(sa, dx::result<int>(42)) == dd::run_outcome::timed_out));
    BOOST_TEST(a.calls == 1u);
    CORE_CHECK_ERR(a, dx::error::timeout);
    CORE_CHECK_STATS(core, 0, 0, 0, 0, 1, 0);

    // The slot is reused by the next request, under a new generation.
    auto* sb = core.prepare();
    BOOST_TEST(sb == sa);
    const dd::slot_key kb = core.key_of(sb);
    BOOST_TEST(kb.index == ka.index);
    BOOST_TEST(kb.generation != ka.generation);
    core.submit(sb, 2, t0 + 50s, b, t0 + 6s);

    // A stale cancel (the old key) does not touch the new request, even terminally.
    const auto out = core.cancel(ka, true);
    BOOST_TEST(out.forward == nullptr);
    BOOST_TEST(b.calls == 0u);
    CORE_CHECK_STATS(core, 1, 0, 0, 0, 1, 0);

    t = take(core, 4, t0 + 6s);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    BOOST_TEST(t[0] == sb);
    BOOST_TEST((finish_value(core, t[0], 20) == dd::run_outcome::delivered));
    BOOST_TEST(b.calls == 1u);
    BOOST_TEST_REQUIRE(b.has_value());
    BOOST_TEST(b.value() == 20);
    BOOST_TEST(a.calls == 1u);  // the old waiter saw nothing more
    CORE_CHECK_ERR(a, dx::error::timeout);
    core.close();
}

BOOST_AUTO_TEST_CASE_TEMPLATE(late_finish_after_terminal_cancel_is_dropped_and_reuse_is_safe, Storage,
                              storage_policies)
{
    rec a, b;
    core_of<Storage> core(opts(8));
    core.attach_client();

    const dd::slot_key ka = submit_k(core, 1, t0 + 5s, a, t0);
    auto t = take(core, 4, t0);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    auto* sa = t[0];
    const std::uint32_t tag_a = sa->run_tag;
    (void)core_of<Storage>::take_request(sa);

    const auto out = core.cancel(ka, true);
    BOOST_TEST(out.forward == sa);
    BOOST_TEST(out.run_tag == tag_a);
    BOOST_TEST(a.calls == 1u);
    CORE_CHECK_ERR(a, dx::error::cancelled);

    BOOST_TEST((core.finish(sa, dx::result<int>(42)) == dd::run_outcome::cancelled));
    BOOST_TEST(a.calls == 1u);
    core.reclaim_finished();  // as the responder's next take() would

    // The slot comes back for b; a forwarded cancellation that arrives late
    // can tell b's run from a's by the run tag.
    const dd::slot_key kb = submit_k(core, 2, t0 + 50s, b, t0);
    BOOST_TEST(kb.index == ka.index);
    BOOST_TEST(kb.generation != ka.generation);
    t = take(core, 4, t0);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    BOOST_TEST(t[0] == sa);
    BOOST_TEST(t[0]->run_tag != tag_a);

    BOOST_TEST(core.cancel(ka, true).forward == nullptr);  // stale
    BOOST_TEST(b.calls == 0u);
    BOOST_TEST((finish_value(core, t[0], 7) == dd::run_outcome::delivered));
    BOOST_TEST(b.calls == 1u);
    BOOST_TEST(b.value() == 7);
    BOOST_TEST(a.calls == 1u);
    CORE_CHECK_STATS(core, 0, 0, 1, 0, 0, 1);
    core.close();
}

BOOST_AUTO_TEST_CASE_TEMPLATE(late_finish_after_close_is_dropped, Storage, storage_policies)
{
    rec a;
    core_of<Storage> core(opts(8));
    core.attach_client();
    submit(core, 1, t0 + 5s, a, t0);
    auto t = take(core, 4, t0);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    (void)core.close();
    BOOST_TEST(a.calls == 1u);
    CORE_CHECK_ERR(a, dx::error::closed);
    BOOST_TEST((finish_value(core, t[0], 3) == dd::run_outcome::closed));
    BOOST_TEST(a.calls == 1u);
    CORE_CHECK_ERR(a, dx::error::closed);
    CORE_CHECK_STATS(core, 0, 0, 0, 0, 0, 0);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(stale_key_of_a_queued_request_that_timed_out_does_not_cancel_the_reuser, Storage,
                              storage_policies)
{
    rec a, b;
    core_of<Storage> core(opts(8));
    core.attach_client();
    const dd::slot_key ka = submit_k(core, 1, t0 + 1s, a, t0);
    (void)core.expire(t0 + 1s);
    BOOST_TEST(a.calls == 1u);
    CORE_CHECK_ERR(a, dx::error::timeout);

    const dd::slot_key kb = submit_k(core, 2, t0 + 10s, b, t0 + 1s);
    BOOST_TEST(kb.index == ka.index);  // the freed slot is reused at once
    BOOST_TEST(kb.generation != ka.generation);

    BOOST_TEST(core.cancel(ka, false).forward == nullptr);
    BOOST_TEST(core.cancel(ka, true).forward == nullptr);
    BOOST_TEST(b.calls == 0u);
    CORE_CHECK_STATS(core, 1, 0, 0, 0, 1, 0);

    auto t = take(core, 4, t0 + 2s);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    BOOST_TEST(core_of<Storage>::take_request(t[0]) == 2);
    (void)core.finish(t[0], dx::result<int>(5));
    BOOST_TEST(b.calls == 1u);
    BOOST_TEST(b.value() == 5);
    BOOST_TEST(a.calls == 1u);
    core.close();
}

BOOST_AUTO_TEST_CASE_TEMPLATE(stale_key_after_delivery_does_nothing, Storage, storage_policies)
{
    rec a, b;
    core_of<Storage> core(opts(8));
    core.attach_client();
    const dd::slot_key ka = submit_k(core, 1, t0 + 10s, a, t0);
    auto t = take(core, 4, t0);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    (void)finish_value(core, t[0], 1);
    BOOST_TEST(a.calls == 1u);

    // Cancelling a delivered request: nothing happens, nothing is counted.
    BOOST_TEST(core.cancel(ka, true).forward == nullptr);
    BOOST_TEST(a.calls == 1u);
    BOOST_TEST(a.has_value());
    CORE_CHECK_STATS(core, 0, 0, 1, 0, 0, 0);

    // Nor does it mark the slot for whoever prepares it next.
    auto* sb = core.prepare();
    BOOST_TEST(core.key_of(sb).index == ka.index);
    BOOST_TEST(core.cancel(ka, false).forward == nullptr);
    core.submit(sb, 2, t0 + 10s, b, t0);
    BOOST_TEST(b.calls == 0u);
    CORE_CHECK_STATS(core, 1, 0, 1, 0, 0, 0);
    core.close();
    BOOST_TEST(b.calls == 1u);
    CORE_CHECK_ERR(b, dx::error::closed);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(cancel_between_prepare_and_submit_completes_as_cancelled_at_submit, Storage,
                              storage_policies)
{
    for (bool in_flight_too : {false, true}) {
        rec a, b;
        core_of<Storage> core(opts(8));
        core.attach_client();
        auto* s = core.prepare();
        const dd::slot_key k = core.key_of(s);
        const auto out = core.cancel(k, in_flight_too);
        BOOST_TEST(out.forward == nullptr);
        CORE_CHECK_STATS(core, 0, 0, 0, 0, 0, 0);  // nothing ended yet

        const dd::effects fx = core.submit(s, 1, t0 + 10s, a, t0);
        BOOST_TEST(a.calls == 1u);  // completed inside submit
        CORE_CHECK_ERR(a, dx::error::cancelled);
        BOOST_TEST(!fx.wake_responder);
        BOOST_TEST(!fx.rearm_timer);
        CORE_CHECK_STATS(core, 0, 0, 0, 0, 0, 1);
        BOOST_TEST(core.waiting_for_room() == 0u);
        BOOST_TEST(take(core, 4, t0).size() == 0u);  // never reaches the handler
        BOOST_TEST(core.next_deadline() == time_point::max());

        // The slot was given back, with its mark cleared: the next request in it runs.
        auto* s2 = core.prepare();
        BOOST_TEST(s2 == s);
        BOOST_TEST(core.key_of(s2).generation != k.generation);
        core.submit(s2, 2, t0 + 10s, b, t0);
        BOOST_TEST(b.calls == 0u);
        auto t = take(core, 4, t0);
        BOOST_TEST_REQUIRE(t.size() == 1u);
        (void)finish_value(core, t[0], 2);
        BOOST_TEST(b.calls == 1u);
        BOOST_TEST(b.value() == 2);
        BOOST_TEST(a.calls == 1u);
        core.close();
    }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(cancel_of_a_prepared_slot_then_unprepare_leaves_no_mark, Storage, storage_policies)
{
    rec b;
    core_of<Storage> core(opts(8));
    core.attach_client();
    auto* s = core.prepare();
    const dd::slot_key k = core.key_of(s);
    (void)core.cancel(k, false);
    core.unprepare(s);
    BOOST_TEST(core.cancel(k, false).forward == nullptr);  // stale now

    auto* s2 = core.prepare();
    BOOST_TEST(s2 == s);
    BOOST_TEST(core.key_of(s2).generation != k.generation);
    core.submit(s2, 1, t0 + 10s, b, t0);
    BOOST_TEST(b.calls == 0u);  // not cancelled by the old mark
    CORE_CHECK_STATS(core, 1, 0, 0, 0, 0, 0);
    core.close();
    BOOST_TEST(b.calls == 1u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(unprepare_makes_the_key_stale, Storage, storage_policies)
{
    rec b;
    core_of<Storage> core(opts(8));
    core.attach_client();
    auto* s = core.prepare();
    const dd::slot_key k = core.key_of(s);
    core.unprepare(s);
    BOOST_TEST(core.cancel(k, true).forward == nullptr);
    const dd::slot_key k2 = submit_k(core, 1, t0 + 10s, b, t0);
    BOOST_TEST(k2.index == k.index);
    BOOST_TEST(k2.generation != k.generation);
    BOOST_TEST(b.calls == 0u);
    CORE_CHECK_STATS(core, 1, 0, 0, 0, 0, 0);
    core.close();
}

BOOST_AUTO_TEST_CASE_TEMPLATE(double_cancel_completes_once, Storage, storage_policies)
{
    rec a, r;
    core_of<Storage> core(opts(8));
    core.attach_client();
    const dd::slot_key ka = submit_k(core, 1, t0 + 10s, a, t0);
    (void)core.cancel(ka, false);
    (void)core.cancel(ka, false);
    (void)core.cancel(ka, true);
    BOOST_TEST(a.calls == 1u);
    CORE_CHECK_STATS(core, 0, 0, 0, 0, 0, 1);

    const dd::slot_key kr = submit_k(core, 2, t0 + 10s, r, t0);
    auto t = take(core, 4, t0);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    (void)core.cancel(kr, true);
    (void)core.cancel(kr, true);
    BOOST_TEST(r.calls == 1u);
    CORE_CHECK_STATS(core, 0, 1, 0, 0, 0, 2);
    BOOST_TEST((finish_value(core, t[0], 1) == dd::run_outcome::cancelled));
    BOOST_TEST(r.calls == 1u);
    core.close();
}

BOOST_AUTO_TEST_CASE_TEMPLATE(generation_moves_on_every_reuse, Storage, storage_policies)
{
    rec w[6];
    core_of<Storage> core(opts(8));
    core.attach_client();
    std::vector<dd::slot_key> keys;
    // Six lives of one slot, each ending a different way.
    keys.push_back(submit_k(core, 0, t0 + 10s, w[0], t0));
    (void)finish_value(core, take(core, 1, t0)[0], 0);  // delivered
    core.reclaim_finished();  // as the responder's next take() would
    keys.push_back(submit_k(core, 1, t0 + 1s, w[1], t0));
    (void)core.expire(t0 + 1s);  // timed out while queued
    keys.push_back(submit_k(core, 2, t0 + 10s, w[2], t0));
    (void)core.cancel(keys.back(), false);  // cancelled while queued
    keys.push_back(submit_k(core, 3, t0, w[3], t0));  // timed out at submit
    {
        auto* s = core.prepare();
        keys.push_back(core.key_of(s));
        core.unprepare(s);  // never submitted
    }
    keys.push_back(submit_k(core, 5, t0 + 10s, w[5], t0));
    auto t = take(core, 1, t0);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    (void)core.expire(t0 + 10s);  // timed out while running
    (void)finish_value(core, t[0], 5);
    core.reclaim_finished();
    auto* s = core.prepare();
    keys.push_back(core.key_of(s));
    core.unprepare(s);

    for (std::size_t i = 1; i < keys.size(); ++i) {
        BOOST_TEST(keys[i].index == keys[0].index);
        BOOST_TEST(keys[i].generation != keys[i - 1].generation);
        for (std::size_t j = 0; j < i; ++j)
            BOOST_TEST(keys[i].generation != keys[j].generation);
    }
    for (std::size_t i = 0; i != 6; ++i)
        if (i != 4)
            BOOST_TEST(w[i].calls == 1u);
    core.close();
}

// Completions run after the core's lock is released: a completion may call
// back into the core (as a batch does: it submits the next request from
// inside a completion). A lock held across complete() would deadlock here;
// the timeout turns that into a failure.
BOOST_TEST_DECORATOR(*boost::unit_test::timeout(20))
BOOST_AUTO_TEST_CASE_TEMPLATE(completion_may_reenter_the_core, Storage, storage_policies)
{
    rec a, b, c;
    core_of<Storage> core(opts(8));
    core.attach_client();
    std::size_t seen_queued = 99;
    a.hook = [&](rec&) {
        seen_queued = core.stats().queued;
        submit(core, 2, t0 + 10s, b, t0);
    };
    const dd::slot_key ka = submit_k(core, 1, t0 + 10s, a, t0);
    (void)core.cancel(ka, false);
    BOOST_TEST(a.calls == 1u);
    BOOST_TEST(seen_queued == 0u);
    CORE_CHECK_STATS(core, 1, 0, 0, 0, 0, 1);

    // From a completion run by expire() and by finish().
    b.hook = [&](rec&) { submit(core, 3, t0 + 50s, c, t0 + 10s); };
    BOOST_TEST((core.expire(t0 + 10s) == time_point::max()));  // c is not in the heap yet
    BOOST_TEST(b.calls == 1u);
    CORE_CHECK_ERR(b, dx::error::timeout);
    CORE_CHECK_STATS(core, 1, 0, 0, 0, 1, 1);
    c.hook = [&](rec&) { (void)core.stats(); (void)core.next_deadline(); };
    auto t = take(core, 4, t0 + 10s);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    (void)finish_value(core, t[0], 3);
    BOOST_TEST(c.calls == 1u);
    BOOST_TEST(c.value() == 3);
    core.close();
}
