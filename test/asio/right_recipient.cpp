//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 2, right recipient: a response reaches only the request it
// answers. A late response to a request that timed out or was cancelled is
// dropped, even when its slot has since been reused; a stale cancellation
// (the signal of a request that already ended) never hits the newer request
// that took its slot.
//
// Every response is a function of its request (req * 3 + 1), so a response
// delivered to the wrong request shows.

#define BOOST_TEST_MODULE asio_right_recipient
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/duplex/asio.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

using namespace duplex_test;

namespace {

using client_type = dx::asio_client<int, int>;

constexpr int answer(int req)
{
    return req * 3 + 1;
}

}  // namespace

// Rounds of: requests held in their handler until they time out or are
// cancelled; then fresh requests, during which the held handlers are let go
// and their late results come in. The slots of the held requests are reused
// by the next rounds (one thread: the slab hands the last freed slot out first).
BOOST_AUTO_TEST_CASE(late_results_never_reach_newer_requests)
{
    constexpr int rounds = 20, held = 16, fresh = 32;
    net::io_context io;
    std::deque<gate> gates(rounds);
    dx::channel_options opts;
    opts.timeout = 30s;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    // req = round * 1000 + i; i < held: held until the round's gate opens.
    responder.async_run(
        [&gates](int req) -> net::awaitable<int> {
            if (req % 1000 < held) {
                co_await gates[std::size_t(req / 1000)].wait_ignoring_cancellation();
            } else {
                net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(req % 3));
                co_await t.async_wait(net::use_awaitable);
            }
            co_return answer(req);
        },
        dx::fixed_concurrency{64}, net::detached);

    std::vector<outcome> held_o(rounds * held), fresh_o(rounds * fresh);
    std::vector<net::cancellation_signal> signals(rounds * held);
    for (int r = 0; r != rounds; ++r) {
        BOOST_TEST_CONTEXT("round " << r)
        {
            // Even ones time out, odd ones are cancelled (terminal) once running.
            for (int i = 0; i != held; ++i) {
                const int k = r * held + i;
                if (i % 2 == 0)
                    client.async_request(r * 1000 + i, 5ms + std::chrono::milliseconds(i), record(held_o[k]));
                else
                    client.async_request(r * 1000 + i, net::bind_cancellation_slot(signals[k].slot(), record(held_o[k])));
            }
            BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight >= std::size_t(held / 2); }));
            for (int i = 1; i < held; i += 2)
                signals[r * held + i].emit(net::cancellation_type::terminal);
            BOOST_TEST_REQUIRE(run_until(io, [&] {
                for (int i = 0; i != held; ++i)
                    if (!held_o[r * held + i].done())
                        return false;
                return true;
            }));
            for (int i = 0; i != held; ++i)
                BOOST_TEST(held_o[r * held + i].is(i % 2 == 0 ? dx::error::timeout : dx::error::cancelled));

            for (int i = 0; i != fresh; ++i)
                client.async_request(r * 1000 + held + i, record(fresh_o[r * fresh + i]));
            gates[std::size_t(r)].open();  // the late results land among the fresh requests
            BOOST_TEST_REQUIRE(run_until(io, [&] {
                for (int i = 0; i != fresh; ++i)
                    if (!fresh_o[r * fresh + i].done())
                        return false;
                return true;
            }));
            for (int i = 0; i != fresh; ++i)
                BOOST_TEST(fresh_o[r * fresh + i].holds(answer(r * 1000 + held + i)));
        }
    }
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 0; }));
    poll(io);
    for (auto& o : held_o) {
        BOOST_TEST(o.completions == 1);
        BOOST_TEST(!o.r->has_value());  // the late result never arrived
    }
    for (auto& o : fresh_o)
        BOOST_TEST(o.completions == 1);
    const auto st = responder.stats();
    BOOST_TEST(st.completed == std::uint64_t(rounds * fresh));
    BOOST_TEST(st.timed_out == std::uint64_t(rounds * held / 2));
    BOOST_TEST(st.cancelled == std::uint64_t(rounds * held / 2));
}

// Varying handler delays against varying deadlines on two threads: whatever
// the outcome of each request, a value is always its own.
BOOST_AUTO_TEST_CASE(responses_match_their_requests_under_varying_delays_and_deadlines)
{
    constexpr int requests = 3000, copies = 4, window = 32;
    net::io_context io;
    gate slow;  // opens once everything has ended
    event ev;
    dx::channel_options opts;
    opts.timeout = 30s;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& responder = ch.second;
    // One request in 10 is held until every request has ended (it always
    // times out first); the others take 0..11 ms (the timer of a 0 ms one
    // still gives the strand away).
    auto is_slow = [](int req) { return req % 10 == 7; };
    responder.async_run(
        [&slow, is_slow](int req) -> net::awaitable<int> {
            if (is_slow(req)) {
                co_await slow.wait_ignoring_cancellation();
            } else {
                net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(req * 13 % 12));
                co_await t.async_wait(net::use_awaitable);
            }
            co_return answer(req);
        },
        dx::fixed_concurrency{1024}, net::detached);

    std::vector<std::atomic<int>> completions(requests);
    std::atomic<int> done{0}, values{0}, timeouts{0}, wrong{0}, slow_answered{0}, fast_not_answered{0};
    // Each copy sends from a strand of its own, keeping `window` requests
    // outstanding, with a deadline of 1..10 ms; the requests whose handler
    // answers at once get 3 s instead, and must be answered.
    auto is_fast = [is_slow](int req) { return req * 13 % 12 == 0 && !is_slow(req); };
    struct sender {
        client_type client;
        net::strand<net::io_context::executor_type> strand;
        int next, outstanding = 0;
    };
    std::vector<std::unique_ptr<sender>> senders;
    for (int c = 0; c != copies; ++c)
        senders.push_back(std::make_unique<sender>(sender{ch.first, net::make_strand(io), c}));
    std::function<void(sender&)> pump = [&](sender& s) {
        while (s.outstanding < window && s.next < requests) {
            const int req = s.next;
            s.next += copies;
            ++s.outstanding;
            const auto timeout = is_fast(req) ? std::chrono::milliseconds(3000) : std::chrono::milliseconds(1 + req * 7 % 10);
            s.client.async_request(req, timeout, net::bind_executor(s.strand, [&, req, sp = &s](dx::result<int> r) {
                                       ++completions[req];
                                       if (r.has_value())
                                           ++(r.value() == answer(req) ? values : wrong);
                                       else
                                           ++(r.error() == dx::error::timeout ? timeouts : wrong);
                                       if (r.has_value() && is_slow(req))
                                           ++slow_answered;
                                       if (!r.has_value() && is_fast(req))
                                           ++fast_not_answered;
                                       --sp->outstanding;
                                       pump(*sp);
                                       ++done;
                                       ev.notify();
                                   }));
        }
    };
    for (auto& s : senders)
        net::post(s->strand, [&pump, sp = s.get()] { pump(*sp); });
    { auto gone = std::move(ch.first); }

    const bool finished = run_threads_until(io, 2, ev, [&] { return done == requests; }, 10s);
    slow.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 0; }));
    poll(io);

    BOOST_TEST_REQUIRE(finished);
    BOOST_TEST(wrong == 0);
    BOOST_TEST(slow_answered == 0);
    BOOST_TEST(fast_not_answered == 0);
    BOOST_TEST(values + timeouts == requests);
    BOOST_TEST(timeouts >= requests / 10);  // at least every held one
    BOOST_TEST(values > 0);
    int dup = 0, missing = 0;
    for (auto& c : completions) {
        dup += c > 1;
        missing += c == 0;
    }
    BOOST_TEST(dup == 0);
    BOOST_TEST(missing == 0);
    const auto st = responder.stats();
    BOOST_TEST(st.completed == std::uint64_t(values));
    BOOST_TEST(st.timed_out == std::uint64_t(timeouts));
}

// A request's cancellation slot stays connected until its completion handler
// runs. Here that handler is bound to an io_context that is not running, so
// the request's slot is handed back and taken by a newer request while the
// old signal can still be emitted: the emission must find a stale key.
BOOST_AUTO_TEST_CASE(a_stale_cancellation_never_reaches_the_request_that_reused_the_slot)
{
    net::io_context io, elsewhere;
    gate g1, g2;
    int interrupted = 0;
    dx::channel_options opts;
    opts.timeout = 30s;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    // Requests from 100 are held until g1 opens, from 200 until g2 opens; a
    // cancellation reaching a held handler is noted.
    responder.async_run(
        [&](int req) -> net::awaitable<int> {
            if (req >= 100) {
                const bool opened = co_await (req >= 200 ? g2 : g1).wait();
                if (!opened)
                    ++interrupted;
            }
            co_return answer(req);
        },
        dx::fixed_concurrency{4}, net::detached);

    // A is answered; its completion waits on `elsewhere`, so its signal
    // stays connected.
    net::cancellation_signal sig_a;
    outcome a;
    client.async_request(1, net::bind_cancellation_slot(sig_a.slot(), net::bind_executor(elsewhere, record(a))));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().completed == 1; }));
    BOOST_TEST(!a.done());

    // B takes A's slot and runs; A's signal fires, every type.
    outcome b;
    client.async_request(100, record(b));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 1; }));
    sig_a.emit(net::cancellation_type::terminal);
    sig_a.emit(net::cancellation_type::partial);
    sig_a.emit(net::cancellation_type::total);
    poll(io);
    BOOST_TEST(!b.done());
    BOOST_TEST(interrupted == 0);
    BOOST_TEST(responder.stats().cancelled == 0u);

    // C times out while running; its completion waits on `elsewhere` too.
    // Then B and the abandoned C finish (C last, so D takes C's slot) and D
    // runs when C's stale signal fires.
    net::cancellation_signal sig_c;
    outcome c;
    client.async_request(101, 20ms, net::bind_cancellation_slot(sig_c.slot(), net::bind_executor(elsewhere, record(c))));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().timed_out == 1; }));
    BOOST_TEST(!c.done());
    g1.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return b.done() && responder.stats().in_flight == 0; }));
    BOOST_TEST(b.holds(answer(100)));
    outcome d;
    client.async_request(200, record(d));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 1; }));
    sig_c.emit(net::cancellation_type::terminal);
    poll(io);
    BOOST_TEST(!d.done());
    BOOST_TEST(interrupted == 0);
    BOOST_TEST(responder.stats().cancelled == 0u);
    g2.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return d.done(); }));
    BOOST_TEST(d.holds(answer(200)));
    BOOST_TEST(interrupted == 0);

    // Now the old completions run: each once, each with its own outcome.
    elsewhere.run_for(5s);
    BOOST_TEST(a.completions == 1);
    BOOST_TEST(a.holds(answer(1)));
    BOOST_TEST(c.completions == 1);
    BOOST_TEST(c.is(dx::error::timeout));
    BOOST_TEST(b.completions == 1);
    BOOST_TEST(d.completions == 1);
}

// The same with a request that was cancelled while queued (no run yet): the
// newer request that takes its slot waits in the queue and must stay there.
BOOST_AUTO_TEST_CASE(a_stale_cancellation_never_reaches_a_queued_request_that_reused_the_slot)
{
    net::io_context io, elsewhere;
    dx::channel_options opts;
    opts.timeout = 30s;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;

    net::cancellation_signal sig_a;
    outcome a;
    client.async_request(1, net::bind_cancellation_slot(sig_a.slot(), net::bind_executor(elsewhere, record(a))));
    sig_a.emit(net::cancellation_type::partial);
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().cancelled == 1; }));
    BOOST_TEST(responder.stats().queued == 0u);

    outcome b;
    client.async_request(2, record(b));
    poll(io);
    BOOST_TEST(responder.stats().queued == 1u);
    sig_a.emit(net::cancellation_type::terminal);
    sig_a.emit(net::cancellation_type::partial);
    poll(io);
    BOOST_TEST(!b.done());
    BOOST_TEST(responder.stats().queued == 1u);
    BOOST_TEST(responder.stats().cancelled == 1u);

    std::vector<int> seen;
    responder.async_run(
        [&seen](int req) {
            seen.push_back(req);
            return answer(req);
        },
        dx::fixed_concurrency{1}, net::detached);
    BOOST_TEST_REQUIRE(run_until(io, [&] { return b.done(); }));
    BOOST_TEST(b.holds(answer(2)));
    BOOST_TEST(seen == std::vector<int>{2});

    elsewhere.run_for(5s);
    BOOST_TEST(a.completions == 1);
    BOOST_TEST(a.is(dx::error::cancelled));
}
