//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Request and response types need only be move-constructible: the core works
// with std::unique_ptr, never copies a request, and destroys every request it
// holds exactly once, whichever way the request ends.

#define BOOST_TEST_MODULE core_move_only
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <memory>

using namespace core_test;

using uptr = std::unique_ptr<int>;
using ucore = dd::channel_core<uptr, uptr, dx::sharded_slab>;
using urec = recorder<uptr>;

BOOST_AUTO_TEST_CASE_TEMPLATE(unique_ptr_requests_and_responses_travel_through_the_core, Storage, storage_policies)
{
    using core_type = dd::channel_core<uptr, uptr, Storage>;
    urec a, b;
    core_type core(opts(4));
    core.attach_client();
    auto pa = std::make_unique<int>(1);
    int* raw_a = pa.get();
    submit(core, std::move(pa), t0 + 10s, a, t0);
    submit(core, std::make_unique<int>(2), t0 + 10s, b, t0);
    BOOST_TEST(!pa);

    auto t = take(core, 4, t0);
    BOOST_TEST_REQUIRE(t.size() == 2u);
    uptr ra = core_type::take_request(t[0]);
    BOOST_TEST(ra.get() == raw_a);  // the same object, moved along
    uptr rb = core_type::take_request(t[1]);
    BOOST_TEST(*rb == 2);

    *ra += 10;
    int* raw_resp = ra.get();
    BOOST_TEST((core.finish(t[0], dx::result<uptr>(std::move(ra))) == dd::run_outcome::delivered));
    BOOST_TEST(a.calls == 1u);
    BOOST_TEST_REQUIRE(a.has_value());
    BOOST_TEST(a.value().get() == raw_resp);
    BOOST_TEST(*a.value() == 11);

    BOOST_TEST((core.finish(t[1], dx::result<uptr>(dx::make_error_code(dx::error::handler_failed))) ==
                dd::run_outcome::delivered));
    CORE_CHECK_ERR(b, dx::error::handler_failed);
    core.close();
}

BOOST_AUTO_TEST_CASE(a_dropped_late_response_is_destroyed)
{
    tracked::reset();
    {
        using tcore = dd::channel_core<tracked, tracked, dx::sharded_slab>;
        recorder<tracked> a;
        tcore core(opts(4));
        core.attach_client();
        const auto ka = submit_k(core, tracked(1), t0 + 10s, a, t0);
        auto t = take(core, 4, t0);
        BOOST_TEST_REQUIRE(t.size() == 1u);
        (void)core.cancel(ka, true);
        BOOST_TEST((core.finish(t[0], dx::result<tracked>(tcore::take_request(t[0]))) == dd::run_outcome::cancelled));
        BOOST_TEST(tracked::live == 0);  // request and dropped response both gone
        BOOST_TEST(tracked::copies == 0);
        core.close();
    }
    BOOST_TEST(tracked::live == 0);
}

// Every way a request can end, with a type that counts its live objects: the
// core destroys each request it holds exactly once and never copies one.
BOOST_AUTO_TEST_CASE(every_request_is_destroyed_exactly_once_whatever_its_end)
{
    tracked::reset();
    {
        using tcore = dd::channel_core<tracked, int, dx::sharded_slab>;
        rec w[16];
        tcore core(opts(2));
        core.attach_client();
        int next = 0;
        auto sub = [&](time_point deadline, time_point now, dd::effects* fx = nullptr) {
            const int i = next++;
            return submit_k(core, tracked(i), deadline, w[i], now, fx);
        };

        sub(t0, t0);  // 0: timed out at submit
        {
            auto* s = core.prepare();  // 1: cancelled before submit
            (void)core.cancel(core.key_of(s), false);
            core.submit(s, tracked(next), t0 + 10s, w[next], t0);
            ++next;
        }
        {
            auto* s = core.prepare();  // never submitted: no request to destroy
            core.unprepare(s);
        }
        BOOST_TEST(tracked::live == 0);

        sub(t0 + 10s, t0);                      // 2: delivered
        const auto k3 = sub(t0 + 10s, t0);      // 3: cancelled while queued
        sub(t0 + 1s, t0);                       // 4: waits for room, times out there
        const auto k5 = sub(t0 + 10s, t0);      // 5: waits for room, cancelled there
        sub(t0 + 10s, t0);                      // 6: waits for room, closed by stop
        BOOST_TEST(tracked::live == 5);         // 2..6 held by the core
        auto t = take(core, 1, t0);             // 2 runs
        BOOST_TEST_REQUIRE(t.size() == 1u);
        BOOST_TEST(tcore::take_request(t[0]).v == 2);
        BOOST_TEST(tracked::live == 4);
        (void)core.finish(t[0], dx::result<int>(2));
        (void)core.cancel(k3, false);
        BOOST_TEST(tracked::live == 3);
        (void)core.expire(t0 + 1s);
        BOOST_TEST(tracked::live == 2);
        (void)core.cancel(k5, false);
        BOOST_TEST(tracked::live == 1);
        sub(t0 + 10s, t0);  // 7: queued, closed by stop
        BOOST_TEST(tracked::live == 2);
        (void)core.stop();
        BOOST_TEST(tracked::live == 0);
        sub(t0 + 10s, t0);  // 8: refused (stopped)
        BOOST_TEST(tracked::live == 0);
        BOOST_TEST(take(core, 4, t0).tr.done);
        for (int i = 0; i != next; ++i)
            BOOST_TEST(w[i].calls == 1u);
    }
    BOOST_TEST(tracked::live == 0);
    BOOST_TEST(tracked::copies == 0);
}

BOOST_AUTO_TEST_CASE(requests_held_at_close_and_reject_are_destroyed)
{
    tracked::reset();
    {
        using tcore = dd::channel_core<tracked, int, dx::sharded_slab>;
        rec w[6];
        tcore core(opts(1));
        core.attach_client();
        submit(core, tracked(0), t0 + 10s, w[0], t0);  // runs, then closed
        auto t = take(core, 1, t0);
        BOOST_TEST_REQUIRE(t.size() == 1u);
        submit(core, tracked(1), t0 + 10s, w[1], t0);  // queued
        submit(core, tracked(2), t0 + 10s, w[2], t0);  // waiting
        BOOST_TEST(tracked::live == 3);  // the taken one's request is still in its slot
        (void)core.close();
        BOOST_TEST(tracked::live == 1);
        (void)tcore::take_request(t[0]);
        BOOST_TEST(tracked::live == 0);
        (void)core.finish(t[0], dx::result<int>(0));

        tcore rej(opts(1, dx::overflow::reject));
        rej.attach_client();
        submit(rej, tracked(3), t0 + 10s, w[3], t0);
        submit(rej, tracked(4), t0 + 10s, w[4], t0);  // queue_full
        CORE_CHECK_ERR(w[4], dx::error::queue_full);
        BOOST_TEST(tracked::live == 1);
        rej.close();
        BOOST_TEST(tracked::live == 0);
        for (int i = 0; i != 5; ++i)
            BOOST_TEST(w[i].calls == 1u);
    }
    BOOST_TEST(tracked::live == 0);
    BOOST_TEST(tracked::copies == 0);
}

BOOST_AUTO_TEST_CASE(an_expired_request_dropped_by_take_is_destroyed)
{
    tracked::reset();
    {
        using tcore = dd::channel_core<tracked, int, dx::sharded_slab>;
        rec w;
        tcore core(opts(4));
        core.attach_client();
        submit(core, tracked(0), t0 + 1s, w, t0);
        BOOST_TEST(tracked::live == 1);
        auto t = take(core, 4, t0 + 1s);
        BOOST_TEST(t.size() == 0u);
        BOOST_TEST(tracked::live == 0);
        BOOST_TEST(w.calls == 1u);
        core.close();
    }
    BOOST_TEST(tracked::live == 0);
}
