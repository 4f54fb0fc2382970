//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 4 (prompt close) for the Fiber backend: destroying the responder
// (that never ran, or whose run returned), or stop(), completes every pending
// request with error::closed at once (well under 1 s), not at its 30 s
// deadline; later requests are closed at once too.

#define BOOST_TEST_MODULE fiber_prompt_close
#include <boost/test/unit_test.hpp>

#include "common.hpp"

using namespace fiber_test;

namespace {

constexpr auto prompt = 1s;  // against 30 s deadlines

// Fibers that each make one request and record its result and how long it took.
struct pending_calls {
    explicit pending_calls(std::size_t n) : results(n), took(n) {}

    template <class Client>
    void start(Client& c, int first_value)
    {
        for (std::size_t i = 0; i != results.size(); ++i)
            fibers.emplace_back([this, &c, i, first_value] {
                started.add();
                const auto t0 = clock_type::now();
                results[i].emplace(c.request(first_value + int(i)));
                took[i] = clock_type::now() - t0;
                returned.add();
            });
    }

    void check_all_closed_promptly(const char* what)
    {
        for (std::size_t i = 0; i != results.size(); ++i) {
            BOOST_TEST(code_of(*results[i]) == code(dx::error::closed), what << ": call " << i);
            BOOST_TEST(took[i] < prompt, what << ": call " << i << " took " << seconds(took[i]) << " s");
        }
    }

    std::vector<std::optional<dx::result<int>>> results;
    std::vector<duration> took;
    counter started, returned;
    std::vector<scoped_fiber> fibers;
};

}  // namespace

// Requests queued (capacity 2) and waiting for room before any run: destroying
// the responder closes them all at once.
BOOST_AUTO_TEST_CASE(destroying_a_responder_that_never_ran_closes_pending_requests_at_once)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{2, 30s, dx::overflow::wait});
    pending_calls calls(5);
    calls.start(*ch.client, 0);
    BOOST_TEST_REQUIRE(calls.started.wait_at_least(5));
    BOOST_TEST_REQUIRE(poll_until([&] { return ch.responder->stats().queued == 2; }));
    let_others_run();
    BOOST_TEST(calls.returned.get() == 0u);

    const auto t0 = clock_type::now();
    ch.responder.reset();
    BOOST_TEST_REQUIRE(calls.returned.wait_at_least(5, 5s));
    BOOST_TEST(clock_type::now() - t0 < prompt);
    calls.check_all_closed_promptly("never ran");

    const auto t1 = clock_type::now();
    auto late = ch.client->request(100);
    BOOST_TEST(code_of(late) == code(dx::error::closed));
    BOOST_TEST(clock_type::now() - t1 < prompt);
    auto batch = ch.client->request_batch(std::vector<int>{1, 2, 3}, 2);
    BOOST_TEST(code_of(batch) == code(dx::error::closed));
    auto settled = ch.client->request_batch_settled(std::vector<int>{1, 2}, 2);
    BOOST_TEST_REQUIRE(settled.size() == 2u);
    for (auto& r : settled)
        BOOST_TEST(code_of(r) == code(dx::error::closed));
}

// A fail-fast batch and a settled batch waiting on a responder that never
// runs: destroying it ends both at once.
BOOST_AUTO_TEST_CASE(destroying_the_responder_ends_waiting_batches_at_once)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{3, 30s, dx::overflow::wait});
    std::optional<dx::result<std::vector<int>>> fail_fast;
    std::optional<std::vector<dx::result<int>>> settled;
    counter returned;
    scoped_fiber b1([&] {
        fail_fast.emplace(ch.client->request_batch(std::vector<int>{1, 2, 3, 4, 5}, 2));
        returned.add();
    });
    scoped_fiber b2([&] {
        settled.emplace(ch.client->request_batch_settled(std::vector<int>{6, 7, 8, 9}, 4));
        returned.add();
    });
    let_others_run();
    BOOST_TEST(returned.get() == 0u);
    const auto t0 = clock_type::now();
    ch.responder.reset();
    BOOST_TEST_REQUIRE(returned.wait_at_least(2, 5s));
    BOOST_TEST(clock_type::now() - t0 < prompt);
    BOOST_TEST(code_of(*fail_fast) == code(dx::error::closed));
    BOOST_TEST_REQUIRE(settled->size() == 4u);
    for (auto& r : *settled)
        BOOST_TEST(code_of(r) == code(dx::error::closed));
}

// stop() while one request is in flight (held), two queued and three waiting
// for room: the five end with closed at once, while the held one is still
// running; it is delivered when released, and then the run returns success.
BOOST_AUTO_TEST_CASE(stop_closes_queued_and_waiting_requests_at_once)
{
    watchdog wd;
    gate g;
    counter entered;
    channel<int, int> ch(dx::channel_options{2, 30s, dx::overflow::wait});
    runner run(
        *ch.responder,
        [&](int v) {
            entered.add();
            g.wait();
            return v * 10;
        },
        dx::fixed_concurrency{1});

    std::optional<dx::result<int>> held;
    scoped_fiber h([&] { held.emplace(ch.client->request(7)); });
    BOOST_TEST_REQUIRE(entered.wait_at_least(1));
    pending_calls calls(5);
    calls.start(*ch.client, 100);
    BOOST_TEST_REQUIRE(calls.started.wait_at_least(5));
    BOOST_TEST_REQUIRE(poll_until([&] { return ch.responder->stats().queued == 2; }));

    const auto t0 = clock_type::now();
    ch.responder->stop();
    BOOST_TEST_REQUIRE(calls.returned.wait_at_least(5, 5s));
    BOOST_TEST(clock_type::now() - t0 < prompt);
    calls.check_all_closed_promptly("stop");
    BOOST_TEST(!held.has_value());
    BOOST_TEST(!run.done());
    BOOST_TEST(entered.get() == 1u);

    g.open();
    h.join();
    BOOST_TEST((held->has_value() && held->value() == 70));
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(run.result() == boost::system::error_code());
    BOOST_TEST(entered.get() == 1u);
}

// The same stop() called from a plain thread (no fiber of its own).
BOOST_AUTO_TEST_CASE(stop_from_another_thread_closes_pending_requests_at_once)
{
    watchdog wd;
    gate g;
    counter entered;
    channel<int, int> ch(dx::channel_options{2, 30s, dx::overflow::wait});
    runner run(
        *ch.responder,
        [&](int v) {
            entered.add();
            g.wait();
            return v;
        },
        dx::fixed_concurrency{1});
    std::optional<dx::result<int>> held;
    scoped_fiber h([&] { held.emplace(ch.client->request(7)); });
    BOOST_TEST_REQUIRE(entered.wait_at_least(1));
    pending_calls calls(4);
    calls.start(*ch.client, 100);
    BOOST_TEST_REQUIRE(calls.started.wait_at_least(4));

    const auto t0 = clock_type::now();
    std::atomic<bool> stopped{false};
    std::thread stopper([&] {
        ch.responder->stop();
        stopped = true;
    });
    BOOST_TEST_REQUIRE(calls.returned.wait_at_least(4, 5s));
    BOOST_TEST(clock_type::now() - t0 < prompt);
    calls.check_all_closed_promptly("stop from a thread");
    BOOST_TEST_REQUIRE(poll_until([&] { return stopped.load(); }));
    stopper.join();
    g.open();
    h.join();
    BOOST_TEST(held->has_value());
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(run.result() == boost::system::error_code());
}

// Destroying the responder (that never ran) on another thread closes the
// requests that fibers of this thread wait on.
BOOST_AUTO_TEST_CASE(destroying_the_responder_on_another_thread_closes_at_once)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{1, 30s, dx::overflow::wait});
    pending_calls calls(3);
    calls.start(*ch.client, 0);
    BOOST_TEST_REQUIRE(calls.started.wait_at_least(3));
    let_others_run();
    const auto t0 = clock_type::now();
    std::atomic<bool> destroyed{false};
    std::thread destroyer([&, r = std::move(*ch.responder)]() mutable {
        { auto gone = std::move(r); }
        destroyed = true;
    });
    BOOST_TEST_REQUIRE(calls.returned.wait_at_least(3, 5s));
    BOOST_TEST(clock_type::now() - t0 < prompt);
    calls.check_all_closed_promptly("destroyed on a thread");
    BOOST_TEST_REQUIRE(poll_until([&] { return destroyed.load(); }));
    destroyer.join();
}

// Once the run returned (after stop()), new requests are closed at once, and
// still after the responder is destroyed.
BOOST_AUTO_TEST_CASE(requests_after_the_run_returned_are_closed_at_once)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{4, 30s, dx::overflow::wait});
    runner run(*ch.responder, [](int v) { return v; }, dx::fixed_concurrency{2});
    auto ok = ch.client->request(1);
    BOOST_TEST(ok.has_value());
    ch.responder->stop();
    BOOST_TEST_REQUIRE(run.wait_done());
    run.join();
    BOOST_TEST(run.result() == boost::system::error_code());

    pending_calls calls(3);
    calls.start(*ch.client, 10);
    BOOST_TEST_REQUIRE(calls.returned.wait_at_least(3, 5s));
    calls.check_all_closed_promptly("after the run");

    ch.responder.reset();
    const auto t0 = clock_type::now();
    auto r = ch.client->request(2);
    BOOST_TEST(code_of(r) == code(dx::error::closed));
    BOOST_TEST(clock_type::now() - t0 < prompt);
}

// Moving another responder into one that never ran closes the old channel's
// pending requests at once (move assignment destroys the old state).
BOOST_AUTO_TEST_CASE(move_assigning_over_a_responder_closes_its_pending_requests)
{
    watchdog wd;
    channel<int, int> a(dx::channel_options{4, 30s, dx::overflow::wait});
    channel<int, int> b(dx::channel_options{4, 30s, dx::overflow::wait});
    pending_calls calls(2);
    calls.start(*a.client, 0);
    BOOST_TEST_REQUIRE(calls.started.wait_at_least(2));
    let_others_run();
    *a.responder = std::move(*b.responder);
    BOOST_TEST_REQUIRE(calls.returned.wait_at_least(2, 5s));
    calls.check_all_closed_promptly("move-assigned over");

    // The moved-in responder serves b's clients.
    runner run(*a.responder, [](int v) { return v + 1; }, dx::fixed_concurrency{1});
    auto r = b.client->request(41);
    BOOST_TEST((r.has_value() && r.value() == 42));
    b.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}
