//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Fiber cancellation through std::stop_token, with the semantics of Asio's
// terminal cancellation: a stop requested (from any thread) before the
// response is delivered completes the call promptly with error::cancelled; a
// queued request, or one waiting for room, never reaches the handler; a
// running one's late result is dropped; a token stopped already sends
// nothing; batches end as cancelled, the settled form with every request not
// yet settled cancelled. Accepted requests that end so count in
// responder_stats::cancelled.

#define BOOST_TEST_MODULE fiber_cancellation
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <set>
#include <stop_token>

using namespace fiber_test;

namespace {

// A handler that records every value it is invoked with, and holds those
// below zero on a gate.
struct recording {
    gate hold;
    counter started;
    std::mutex mutex;
    std::multiset<int> seen;

    auto handler()
    {
        return [this](int v) {
            {
                std::lock_guard lk(mutex);
                seen.insert(v);
            }
            started.add();
            if (v < 0)
                hold.wait();
            return v;
        };
    }

    bool saw(int v)
    {
        std::lock_guard lk(mutex);
        return seen.count(v) != 0;
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_queued_request_stopped_completes_promptly_and_never_reaches_the_handler)
{
    watchdog wd;
    recording rec;
    channel<int, int> ch;
    runner run(*ch.responder, rec.handler(), dx::fixed_concurrency{1});

    scoped_fiber blocker([&] { BOOST_TEST(ch.client->request(-1).value() == -1); });
    BOOST_TEST_REQUIRE(rec.started.wait_at_least(1));  // the only handler slot is taken

    std::stop_source source;
    std::optional<dx::result<int>> r;
    clock_type::time_point stopped_at;
    scoped_fiber queued([&] { r = ch.client->request(7, 30s, source.get_token()); });
    let_others_run();
    BOOST_TEST(!r.has_value());  // queued behind the blocked handler
    stopped_at = clock_type::now();
    BOOST_TEST(source.request_stop());
    queued.join();
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(code_of(*r) == code(dx::error::cancelled));
    BOOST_TEST(seconds_since(stopped_at) < 1.0);  // promptly, not at the 30 s deadline

    rec.hold.open();
    blocker.join();
    BOOST_TEST(ch.client->request(8).value() == 8);  // the channel goes on serving
    BOOST_TEST(!rec.saw(7));
    BOOST_TEST(ch.responder->stats().cancelled == 1u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

BOOST_AUTO_TEST_CASE(a_running_request_stopped_completes_promptly_and_its_late_result_is_dropped)
{
    watchdog wd;
    recording rec;
    channel<int, int> ch;
    runner run(*ch.responder, rec.handler(), dx::fixed_concurrency{4});

    std::stop_source source;
    std::optional<dx::result<int>> r;
    scoped_fiber f([&] { r = ch.client->request(-5, source.get_token()); });
    BOOST_TEST_REQUIRE(rec.started.wait_at_least(1));  // its handler runs, held on the gate
    const auto stopped_at = clock_type::now();
    source.request_stop();
    f.join();
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(code_of(*r) == code(dx::error::cancelled));
    BOOST_TEST(seconds_since(stopped_at) < 1.0);

    rec.hold.open();  // the handler returns: its result has nowhere to go
    BOOST_TEST(ch.client->request(9).value() == 9);
    BOOST_TEST(poll_until([&] { return ch.responder->stats().cancelled == 1u; }));
    BOOST_TEST(ch.responder->stats().completed == 1u);  // the 9 only
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

BOOST_AUTO_TEST_CASE(a_token_stopped_already_sends_nothing)
{
    watchdog wd;
    recording rec;
    channel<int, int> ch;
    runner run(*ch.responder, rec.handler());

    std::stop_source source;
    source.request_stop();
    BOOST_TEST(code_of(ch.client->request(1, source.get_token())) == code(dx::error::cancelled));
    BOOST_TEST(code_of(ch.client->request(2, 1s, source.get_token())) == code(dx::error::cancelled));
    std::vector<int> two{3, 4};
    BOOST_TEST(code_of(ch.client->request_batch(two, 2, source.get_token())) == code(dx::error::cancelled));
    BOOST_TEST(code_of(ch.client->request_batch(two, 2, 1s, source.get_token())) == code(dx::error::cancelled));
    const auto settled = ch.client->request_batch_settled(two, 2, source.get_token());
    BOOST_TEST_REQUIRE(settled.size() == 2u);
    for (const auto& s : settled)
        BOOST_TEST(code_of(s) == code(dx::error::cancelled));

    BOOST_TEST(ch.client->request(5).value() == 5);
    let_others_run();
    BOOST_TEST(rec.started.get() == 1u);  // the 5 only
    const auto st = ch.responder->stats();
    BOOST_TEST(st.cancelled == 0u);  // never sent, never accepted
    BOOST_TEST(st.completed == 1u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

BOOST_AUTO_TEST_CASE(a_stop_from_another_thread_cancels)
{
    watchdog wd;
    recording rec;
    channel<int, int> ch;
    runner run(*ch.responder, rec.handler(), dx::fixed_concurrency{1});

    scoped_fiber blocker([&] { BOOST_TEST(ch.client->request(-1).value() == -1); });
    BOOST_TEST_REQUIRE(rec.started.wait_at_least(1));

    // A client fiber on a thread of its own, stopped from this one; and a
    // client here, stopped from a third thread.
    std::stop_source there_source;
    std::stop_source here_source;
    counter there_sent;
    std::optional<dx::result<int>> there_result;
    std::thread there([&] {
        scoped_fiber f([&] {
            auto c = *ch.client;
            there_sent.add();
            there_result = c.request(11, 30s, there_source.get_token());
        });
    });
    BOOST_TEST_REQUIRE(there_sent.wait_at_least(1));
    BOOST_TEST_REQUIRE(poll_until([&] { return ch.responder->stats().queued >= 1u; }));
    there_source.request_stop();

    std::optional<dx::result<int>> here_result;
    scoped_fiber here([&] { here_result = ch.client->request(12, 30s, here_source.get_token()); });
    BOOST_TEST_REQUIRE(poll_until([&] { return ch.responder->stats().queued >= 1u; }));
    std::thread stopper([&] { here_source.request_stop(); });
    here.join();
    stopper.join();
    there.join();

    BOOST_TEST_REQUIRE(there_result.has_value());
    BOOST_TEST(code_of(*there_result) == code(dx::error::cancelled));
    BOOST_TEST_REQUIRE(here_result.has_value());
    BOOST_TEST(code_of(*here_result) == code(dx::error::cancelled));
    rec.hold.open();
    blocker.join();
    BOOST_TEST(!rec.saw(11));
    BOOST_TEST(!rec.saw(12));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

BOOST_AUTO_TEST_CASE(a_batch_stopped_midway_ends_cancelled_and_its_queued_requests_never_run)
{
    watchdog wd;
    for (const bool settled : {false, true}) {
        BOOST_TEST_CONTEXT((settled ? "request_batch_settled" : "request_batch"))
        {
            recording rec;
            channel<int, int> ch;
            runner run(*ch.responder, rec.handler(), dx::fixed_concurrency{1});

            // 1 and 2 are answered; -3 holds the only handler slot; 4..7 queue.
            const std::vector<int> reqs{1, 2, -3, 4, 5, 6, 7};
            std::stop_source source;
            std::optional<dx::result<std::vector<int>>> whole;
            std::vector<dx::result<int>> each;
            scoped_fiber f([&] {
                if (settled)
                    each = ch.client->request_batch_settled(reqs, reqs.size(), source.get_token());
                else
                    whole = ch.client->request_batch(reqs, reqs.size(), source.get_token());
            });
            BOOST_TEST_REQUIRE(rec.started.wait_at_least(3));
            BOOST_TEST_REQUIRE(rec.saw(-3));
            const auto stopped_at = clock_type::now();
            source.request_stop();
            f.join();
            BOOST_TEST(seconds_since(stopped_at) < 1.0);
            if (settled) {
                BOOST_TEST_REQUIRE(each.size() == reqs.size());
                BOOST_TEST(each[0].value() == 1);
                BOOST_TEST(each[1].value() == 2);
                for (std::size_t i = 2; i != reqs.size(); ++i)
                    BOOST_TEST(code_of(each[i]) == code(dx::error::cancelled), "request " << i);
            } else {
                BOOST_TEST_REQUIRE(whole.has_value());
                BOOST_TEST(code_of(*whole) == code(dx::error::cancelled));
            }
            rec.hold.open();
            BOOST_TEST(ch.client->request(8).value() == 8);
            for (int v : {4, 5, 6, 7})
                BOOST_TEST(!rec.saw(v), "request " << v << " reached the handler");
            BOOST_TEST(poll_until([&] { return ch.responder->stats().cancelled == 5u; }));
            ch.client.reset();
            BOOST_TEST_REQUIRE(run.wait_done());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_stop_after_completion_has_no_effect)
{
    watchdog wd;
    recording rec;
    channel<int, int> ch;
    runner run(*ch.responder, rec.handler());

    std::stop_source source;
    BOOST_TEST(ch.client->request(1, source.get_token()).value() == 1);
    std::vector<int> two{2, 3};
    BOOST_TEST((ch.client->request_batch(two, 2, source.get_token()).value() == two));
    source.request_stop();  // no callback is registered any more: nothing to reach
    BOOST_TEST(ch.client->request(4).value() == 4);
    BOOST_TEST(ch.responder->stats().cancelled == 0u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}
