//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantees 3 and 10 (no wasted work, cancellation): a cancelled request
// that was not yet handed out never reaches the handler, whatever the kind of
// cancellation; a running one is cancelled only terminally (in_flight_too),
// then completes at once, the backend is told what to forward, and the late
// result is dropped.

#define BOOST_TEST_MODULE core_cancel
#include <boost/test/unit_test.hpp>

#include "support.hpp"

using namespace core_test;

using core_t = dd::channel_core<int, int, dx::sharded_slab>;

namespace {

std::vector<int> requests_of(const taken<core_t>& t)
{
    std::vector<int> v;
    for (auto* s : t.slots)
        v.push_back(*s->request.get());
    return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(cancel_of_a_queued_request_cancels_it_and_it_is_never_taken)
{
    for (bool in_flight_too : {false, true}) {
        rec a, b;
        core_t core(opts(8));
        core.attach_client();
        const auto ka = submit_k(core, 1, t0 + 10s, a, t0);
        submit(core, 2, t0 + 10s, b, t0);
        const auto out = core.cancel(ka, in_flight_too);
        BOOST_TEST(out.forward == nullptr);  // nothing runs: nothing to forward
        BOOST_TEST(a.calls == 1u);
        CORE_CHECK_ERR(a, dx::error::cancelled);
        CORE_CHECK_STATS(core, 1, 0, 0, 0, 0, 1);
        BOOST_TEST((core.next_deadline() == t0 + 10s));

        auto t = take(core, 8, t0);
        BOOST_TEST(requests_of(t) == std::vector<int>{2}, boost::test_tools::per_element());
        (void)finish_value(core, t[0], 2);
        BOOST_TEST(a.calls == 1u);
        BOOST_TEST(b.calls == 1u);
        CORE_CHECK_STATS(core, 0, 0, 1, 0, 0, 1);
        core.close();
    }
}

BOOST_AUTO_TEST_CASE(cancel_of_a_request_waiting_for_room_cancels_it_and_it_is_never_taken)
{
    for (bool in_flight_too : {false, true}) {
        rec a, b, c;
        core_t core(opts(1));
        core.attach_client();
        submit(core, 1, t0 + 10s, a, t0);
        const auto kb = submit_k(core, 2, t0 + 10s, b, t0);
        submit(core, 3, t0 + 10s, c, t0);
        BOOST_TEST(core.waiting_for_room() == 2u);
        const auto out = core.cancel(kb, in_flight_too);
        BOOST_TEST(out.forward == nullptr);
        BOOST_TEST(b.calls == 1u);
        CORE_CHECK_ERR(b, dx::error::cancelled);
        BOOST_TEST(core.waiting_for_room() == 1u);
        CORE_CHECK_STATS(core, 1, 0, 0, 0, 0, 1);

        auto t = take(core, 8, t0);
        BOOST_TEST(requests_of(t) == (std::vector<int>{1, 3}), boost::test_tools::per_element());
        for (auto* s : t.slots)
            (void)finish_value(core, s, 0);
        BOOST_TEST(a.calls == 1u);
        BOOST_TEST(b.calls == 1u);
        BOOST_TEST(c.calls == 1u);
        core.close();
    }
}

BOOST_AUTO_TEST_CASE(non_terminal_cancel_of_a_running_request_does_nothing)
{
    rec a;
    core_t core(opts(8));
    core.attach_client();
    const auto ka = submit_k(core, 1, t0 + 10s, a, t0);
    auto t = take(core, 8, t0);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    const auto out = core.cancel(ka, false);
    BOOST_TEST(out.forward == nullptr);
    BOOST_TEST(out.run_tag == 0u);
    BOOST_TEST(a.calls == 0u);
    CORE_CHECK_STATS(core, 0, 1, 0, 0, 0, 0);

    BOOST_TEST((finish_value(core, t[0], 11) == dd::run_outcome::delivered));
    BOOST_TEST(a.calls == 1u);
    BOOST_TEST(a.value() == 11);
    CORE_CHECK_STATS(core, 0, 0, 1, 0, 0, 0);
    core.close();
}

BOOST_AUTO_TEST_CASE(terminal_cancel_of_a_running_request_completes_now_and_drops_the_late_result)
{
    rec a, b;
    core_t core(opts(8));
    core.attach_client();
    const auto ka = submit_k(core, 1, t0 + 10s, a, t0);
    submit(core, 2, t0 + 20s, b, t0);
    auto t = take(core, 8, t0);
    BOOST_TEST_REQUIRE(t.size() == 2u);
    auto* sa = t[0];
    BOOST_TEST(sa->run_tag != t[1]->run_tag);  // every run has its own tag

    const auto out = core.cancel(ka, true);
    BOOST_TEST(out.forward == sa);  // the backend forwards to this run...
    BOOST_TEST(out.run_tag == sa->run_tag);  // ...identified by its tag
    BOOST_TEST(out.run_tag != 0u);
    BOOST_TEST(a.calls == 1u);
    CORE_CHECK_ERR(a, dx::error::cancelled);
    CORE_CHECK_STATS(core, 0, 2, 0, 0, 0, 1);  // the handler still runs
    BOOST_TEST((core.next_deadline() == t0 + 20s));  // a's deadline no longer matters

    // Expiring a's old deadline does not complete it again.
    (void)core.expire(t0 + 10s);
    BOOST_TEST(a.calls == 1u);
    CORE_CHECK_STATS(core, 0, 2, 0, 0, 0, 1);

    // Cancelling again (it is abandoned now) does nothing.
    BOOST_TEST(core.cancel(ka, true).forward == nullptr);

    BOOST_TEST((finish_value(core, sa, 99) == dd::run_outcome::cancelled));
    BOOST_TEST(a.calls == 1u);
    CORE_CHECK_ERR(a, dx::error::cancelled);
    CORE_CHECK_STATS(core, 0, 1, 0, 0, 0, 1);

    BOOST_TEST((finish_value(core, t[1], 2) == dd::run_outcome::delivered));
    BOOST_TEST(b.value() == 2);
    CORE_CHECK_STATS(core, 0, 0, 1, 0, 0, 1);
    core.close();
}

BOOST_AUTO_TEST_CASE(terminal_cancel_of_a_running_request_that_timed_out_does_nothing)
{
    rec a;
    core_t core(opts(8));
    core.attach_client();
    const auto ka = submit_k(core, 1, t0 + 1s, a, t0);
    auto t = take(core, 8, t0);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    (void)core.expire(t0 + 1s);
    CORE_CHECK_ERR(a, dx::error::timeout);
    BOOST_TEST(core.cancel(ka, true).forward == nullptr);
    BOOST_TEST(a.calls == 1u);
    CORE_CHECK_STATS(core, 0, 1, 0, 0, 1, 0);
    BOOST_TEST((finish_value(core, t[0], 1) == dd::run_outcome::timed_out));
    core.close();
}

BOOST_AUTO_TEST_CASE(cancel_after_delivery_does_nothing)
{
    rec a;
    core_t core(opts(8));
    core.attach_client();
    const auto ka = submit_k(core, 1, t0 + 1s, a, t0);
    auto t = take(core, 8, t0);
    (void)finish_value(core, t[0], 1);
    BOOST_TEST(core.cancel(ka, true).forward == nullptr);
    BOOST_TEST(a.calls == 1u);
    BOOST_TEST(a.has_value());
    CORE_CHECK_STATS(core, 0, 0, 1, 0, 0, 0);
    core.close();
}

BOOST_AUTO_TEST_CASE(cancel_after_close_does_nothing)
{
    rec a, b;
    core_t core(opts(1));
    core.attach_client();
    const auto ka = submit_k(core, 1, t0 + 10s, a, t0);
    const auto kb = submit_k(core, 2, t0 + 10s, b, t0);
    auto t = take(core, 1, t0);
    (void)core.close();
    BOOST_TEST(core.cancel(ka, true).forward == nullptr);
    BOOST_TEST(core.cancel(kb, true).forward == nullptr);
    BOOST_TEST(a.calls == 1u);
    BOOST_TEST(b.calls == 1u);
    CORE_CHECK_ERR(a, dx::error::closed);
    CORE_CHECK_ERR(b, dx::error::closed);
    CORE_CHECK_STATS(core, 0, 1, 0, 0, 0, 0);
    BOOST_TEST((finish_value(core, t[0], 1) == dd::run_outcome::closed));
}

BOOST_AUTO_TEST_CASE(many_cancellations_never_waste_a_handler_call)
{
    // Cancel every other request while they are queued or waiting: the
    // handler sees exactly the others, in order.
    constexpr int n = 40;
    std::vector<std::unique_ptr<rec>> w;
    std::vector<dd::slot_key> keys;
    core_t core(opts(8));
    core.attach_client();
    for (int i = 0; i != n; ++i) {
        w.push_back(std::make_unique<rec>());
        keys.push_back(submit_k(core, i, t0 + 10s, *w.back(), t0));
    }
    for (int i = 0; i < n; i += 2)
        (void)core.cancel(keys[std::size_t(i)], i % 4 == 0);
    std::vector<int> handled;
    for (int round = 0; round != 100; ++round) {
        auto t = take(core, 3, t0);
        if (t.size() == 0)
            break;
        for (auto* s : t.slots) {
            handled.push_back(*s->request.get());
            (void)finish_value(core, s, 0);
        }
    }
    std::vector<int> expected;
    for (int i = 1; i < n; i += 2)
        expected.push_back(i);
    BOOST_TEST(handled == expected, boost::test_tools::per_element());
    for (int i = 0; i != n; ++i) {
        BOOST_TEST(w[std::size_t(i)]->calls == 1u);
        if (i % 2 == 0)
            CORE_CHECK_ERR(*w[std::size_t(i)], dx::error::cancelled);
        else
            BOOST_TEST(w[std::size_t(i)]->has_value());
    }
    CORE_CHECK_STATS(core, 0, 0, n / 2, 0, 0, n / 2);
    core.close();
}
