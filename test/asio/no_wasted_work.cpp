//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 3, no wasted work: a request whose deadline passed, or that was
// cancelled (terminal, partial or total), while still queued or waiting for
// room is never handed to the handler; cancelling an in-flight request with an
// awaitable handler reaches the handler through its cancellation slot, and the
// client hears error::cancelled at once.

#define BOOST_TEST_MODULE asio_no_wasted_work
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/duplex/asio.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

using namespace duplex_test;

namespace {

using ct = net::cancellation_type;

const char* name(ct t)
{
    switch (t) {
    case ct::terminal: return "terminal";
    case ct::partial: return "partial";
    case ct::total: return "total";
    default: return "?";
    }
}

const ct all_types[] = {ct::terminal, ct::partial, ct::total};

}  // namespace

BOOST_AUTO_TEST_CASE(a_request_that_expires_while_queued_never_reaches_the_handler)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    dx::channel_options opts;
    opts.timeout = 30s;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{1}, net::detached);

    // Request 1 holds the only handler slot; 2..6 wait in the queue with short deadlines.
    outcome blocker;
    client.async_request(1, record(blocker));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 1; }));
    std::array<outcome, 5> expiring;
    for (int i = 0; i != 5; ++i)
        client.async_request(2 + i, 20ms + 10ms * i, record(expiring[i]));
    BOOST_TEST(responder.stats().queued == 5u);
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(expiring); }));
    for (auto& o : expiring)
        BOOST_TEST(o.is(dx::error::timeout));
    BOOST_TEST(responder.stats().queued == 0u);

    // Free the handler: the next request it sees is the marker, not an expired one.
    g.open();
    outcome marker;
    client.async_request(100, record(marker));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return blocker.done() && marker.done(); }));
    BOOST_TEST(blocker.holds(2));
    BOOST_TEST(marker.holds(200));
    BOOST_TEST(seen == (std::vector<int>{1, 100}));
    BOOST_TEST(responder.stats().timed_out == 5u);
}

BOOST_AUTO_TEST_CASE(a_request_that_expires_while_waiting_for_room_never_reaches_the_handler)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    dx::channel_options opts;
    opts.timeout = 30s;
    opts.capacity = 1;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{1}, net::detached);

    outcome blocker, queued;
    client.async_request(1, record(blocker));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 1; }));
    client.async_request(2, record(queued));  // fills the queue
    std::array<outcome, 3> waiting;
    for (int i = 0; i != 3; ++i)
        client.async_request(3 + i, 20ms + 10ms * i, record(waiting[i]));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(waiting); }));
    for (auto& o : waiting)
        BOOST_TEST(o.is(dx::error::timeout));

    g.open();
    outcome marker;
    client.async_request(100, record(marker));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return blocker.done() && queued.done() && marker.done(); }));
    BOOST_TEST(blocker.holds(2));
    BOOST_TEST(queued.holds(4));
    BOOST_TEST(marker.holds(200));
    BOOST_TEST(seen == (std::vector<int>{1, 2, 100}));
}

BOOST_AUTO_TEST_CASE(a_request_that_expires_before_the_run_starts_never_reaches_the_handler)
{
    net::io_context io;
    std::vector<int> seen;
    dx::channel_options opts;
    opts.timeout = 30s;
    opts.capacity = 2;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;

    // Two queued, two waiting for room, all expiring before the run starts.
    std::array<outcome, 4> expiring;
    for (int i = 0; i != 4; ++i)
        client.async_request(1 + i, 20ms, record(expiring[i]));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(expiring); }));
    for (auto& o : expiring)
        BOOST_TEST(o.is(dx::error::timeout));

    responder.async_run(recording_handler(seen), dx::fixed_concurrency{4}, net::detached);
    outcome marker;
    client.async_request(100, record(marker));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return marker.done(); }));
    BOOST_TEST(marker.holds(200));
    BOOST_TEST(seen == std::vector<int>{100});
}

// The responder itself notices a request whose deadline passed before the
// timer did (a busy responder, a lagging timer): that request must not be
// handed over either, and the requests queued behind it must not suffer.
// A synchronous handler that takes 50 ms (it sleeps: this is the scenario,
// not a synchronisation) keeps the single thread from running the timer, so
// when the responder takes the next request its 20 ms deadline has passed.
BOOST_AUTO_TEST_CASE(a_request_found_expired_by_the_responder_is_not_handed_over_and_the_others_are_served)
{
    // Capacity 64: the requests wait in the queue; capacity 0: in the room list.
    for (std::size_t capacity : {std::size_t(64), std::size_t(0)}) {
        BOOST_TEST_CONTEXT("capacity " << capacity)
        {
            net::io_context io;
            std::vector<int> seen;
            dx::channel_options opts;
            opts.timeout = 30s;
            opts.capacity = capacity;
            auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
            auto& client = ch.first;
            auto& responder = ch.second;

            outcome slow, expiring;
            std::array<outcome, 3> behind;
            client.async_request(1, record(slow));
            client.async_request(2, 20ms, record(expiring));
            for (int i = 0; i != 3; ++i)
                client.async_request(3 + i, record(behind[i]));
            responder.async_run(
                [&seen](int req) {
                    seen.push_back(req);
                    if (req == 1)
                        std::this_thread::sleep_for(50ms);
                    return req * 2;
                },
                dx::fixed_concurrency{1}, net::detached);

            // All of it is settled within milliseconds; the bound is only for a failure.
            const bool settled = run_until(io, [&] { return slow.done() && expiring.done() && all_done(behind); }, 3s);
            BOOST_TEST(slow.holds(2));
            BOOST_TEST(expiring.is(dx::error::timeout));
            for (int i = 0; i != 3; ++i) {
                BOOST_TEST_CONTEXT("request " << 3 + i)
                BOOST_TEST(behind[i].holds((3 + i) * 2));
            }
            BOOST_TEST(settled);
            BOOST_TEST(seen == (std::vector<int>{1, 3, 4, 5}));
            BOOST_TEST(responder.stats().queued == 0u);
            BOOST_TEST(responder.stats().timed_out == 1u);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_request_cancelled_while_queued_or_waiting_for_room_never_reaches_the_handler)
{
    for (ct type : all_types) {
        BOOST_TEST_CONTEXT("cancellation type " << name(type))
        {
            net::io_context io;
            gate g;
            std::vector<int> seen;
            dx::channel_options opts;
            opts.timeout = 30s;
            opts.capacity = 2;
            auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
            auto& client = ch.first;
            auto& responder = ch.second;
            responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{1}, net::detached);

            outcome blocker;
            client.async_request(1, record(blocker));
            BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 1; }));

            // 2 and 3 are queued, 4 and 5 wait for room.
            std::array<net::cancellation_signal, 4> signals;
            std::array<outcome, 4> cancelled;
            for (int i = 0; i != 4; ++i)
                client.async_request(2 + i, net::bind_cancellation_slot(signals[i].slot(), record(cancelled[i])));
            poll(io);
            BOOST_TEST(responder.stats().queued == 2u);
            // Cancel the last one waiting for room first, then the queue from its head.
            for (int i : {3, 0, 1, 2})
                signals[i].emit(type);
            // While the gate is shut, only the cancellation can complete them.
            BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(cancelled); }));
            for (auto& o : cancelled) {
                BOOST_TEST(o.is(dx::error::cancelled));
                BOOST_TEST(o.elapsed() < 1s);
            }
            BOOST_TEST(responder.stats().queued == 0u);
            BOOST_TEST(responder.stats().cancelled == 4u);

            g.open();
            outcome marker;
            client.async_request(100, record(marker));
            BOOST_TEST_REQUIRE(run_until(io, [&] { return blocker.done() && marker.done(); }));
            BOOST_TEST(blocker.holds(2));
            BOOST_TEST(marker.holds(200));
            BOOST_TEST(seen == (std::vector<int>{1, 100}));
            for (auto& o : cancelled)
                BOOST_TEST(o.completions == 1);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_request_cancelled_before_the_run_starts_never_reaches_the_handler)
{
    for (ct type : all_types) {
        BOOST_TEST_CONTEXT("cancellation type " << name(type))
        {
            net::io_context io;
            std::vector<int> seen;
            dx::channel_options opts;
            opts.timeout = 30s;
            auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
            auto& client = ch.first;
            auto& responder = ch.second;

            net::cancellation_signal sig;
            outcome cancelled, kept;
            client.async_request(1, net::bind_cancellation_slot(sig.slot(), record(cancelled)));
            client.async_request(2, record(kept));
            // Cancelled while it waits in the queue for a run that has not started.
            sig.emit(type);
            BOOST_TEST_REQUIRE(run_until(io, [&] { return cancelled.done(); }));
            BOOST_TEST(cancelled.is(dx::error::cancelled));
            BOOST_TEST(responder.stats().queued == 1u);

            responder.async_run(recording_handler(seen), dx::fixed_concurrency{4}, net::detached);
            BOOST_TEST_REQUIRE(run_until(io, [&] { return kept.done(); }));
            BOOST_TEST(kept.holds(4));
            BOOST_TEST(seen == std::vector<int>{2});
            BOOST_TEST(cancelled.completions == 1);
        }
    }
}

BOOST_AUTO_TEST_CASE(terminal_cancellation_reaches_an_in_flight_awaitable_handler)
{
    net::io_context io;
    dx::channel_options opts;
    opts.timeout = 30s;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;

    // What the handler saw when its long wait ended.
    struct observation {
        bool ended = false;
        boost::system::error_code wait_result;
        ct state = ct::none;
    } seen;
    responder.async_run(
        [&seen](int req) -> net::awaitable<int> {
            net::steady_timer t(co_await net::this_coro::executor, 30s);
            auto [ec] = co_await t.async_wait(net::as_tuple(net::use_awaitable));
            seen.wait_result = ec;
            seen.state = (co_await net::this_coro::cancellation_state).cancelled();
            seen.ended = true;
            co_return req * 2;
        },
        dx::fixed_concurrency{1}, net::detached);

    net::cancellation_signal sig;
    outcome o;
    client.async_request(7, net::bind_cancellation_slot(sig.slot(), record(o)));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 1; }));

    const auto t0 = clock_type::now();
    sig.emit(ct::terminal);
    BOOST_TEST_REQUIRE(run_until(io, [&] { return o.done() && seen.ended; }));
    BOOST_TEST(o.is(dx::error::cancelled));
    BOOST_TEST(seconds_since(t0) < 1.0);  // the handler's timer was 30 s
    BOOST_TEST(seen.wait_result == net::error::operation_aborted);
    BOOST_TEST(((seen.state & ct::terminal) != ct::none));

    // The late result (14) was dropped.
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 0; }));
    poll(io);
    BOOST_TEST(o.completions == 1);
    BOOST_TEST(o.is(dx::error::cancelled));
    const auto st = responder.stats();
    BOOST_TEST(st.cancelled == 1u);
    BOOST_TEST(st.completed == 0u);
    BOOST_TEST(st.failed == 0u);
}

BOOST_AUTO_TEST_CASE(terminal_cancellation_reaches_an_in_flight_result_returning_awaitable_handler)
{
    net::io_context io;
    dx::channel_options opts;
    opts.timeout = 30s;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;

    // The handler gives up when cancelled and says so with an error of its
    // own; the client still hears error::cancelled (the late result is dropped).
    gate never_opened;
    int gave_up = 0;
    responder.async_run(
        [&](int req) -> net::awaitable<dx::result<int>> {
            const bool opened = co_await never_opened.wait();
            if (!opened) {
                ++gave_up;
                co_return dx::result<int>(boost::system::error_code(net::error::operation_aborted));
            }
            co_return req * 2;
        },
        dx::fixed_concurrency{4}, net::detached);

    std::array<net::cancellation_signal, 3> signals;
    std::array<outcome, 3> o;
    for (int i = 0; i != 3; ++i)
        client.async_request(i, net::bind_cancellation_slot(signals[i].slot(), record(o[i])));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 3; }));
    const auto t0 = clock_type::now();
    for (auto& s : signals)
        s.emit(ct::terminal);
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o) && gave_up == 3; }));
    BOOST_TEST(seconds_since(t0) < 1.0);
    for (auto& x : o)
        BOOST_TEST(x.is(dx::error::cancelled));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 0; }));
    poll(io);
    for (auto& x : o)
        BOOST_TEST(x.completions == 1);
    BOOST_TEST(responder.stats().cancelled == 3u);
    BOOST_TEST(responder.stats().failed == 0u);
    never_opened.open();
}

// Guarantee 10's other half, seen from the handler: partial and total
// cancellation of a request that already runs have no effect, and are not
// forwarded to its handler.
BOOST_AUTO_TEST_CASE(partial_or_total_cancellation_of_a_running_request_is_not_forwarded)
{
    for (ct type : {ct::partial, ct::total}) {
        BOOST_TEST_CONTEXT("cancellation type " << name(type))
        {
            net::io_context io;
            dx::channel_options opts;
            opts.timeout = 30s;
            auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
            auto& client = ch.first;
            auto& responder = ch.second;
            gate g;
            int interrupted = 0;
            responder.async_run(
                [&](int req) -> net::awaitable<int> {
                    // Default filter: a partial/total signal reaching the
                    // coroutine would not cancel it anyway, so accept all
                    // types to see whether anything is forwarded at all.
                    co_await net::this_coro::reset_cancellation_state(net::enable_total_cancellation());
                    const bool opened = co_await g.wait();
                    if (!opened)
                        ++interrupted;
                    co_return req * 2;
                },
                dx::fixed_concurrency{1}, net::detached);

            net::cancellation_signal sig;
            outcome o;
            client.async_request(5, net::bind_cancellation_slot(sig.slot(), record(o)));
            BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 1; }));
            sig.emit(type);
            poll(io);
            BOOST_TEST(!o.done());
            BOOST_TEST(interrupted == 0);

            g.open();
            BOOST_TEST_REQUIRE(run_until(io, [&] { return o.done(); }));
            BOOST_TEST(o.holds(10));
            BOOST_TEST(interrupted == 0);
            BOOST_TEST(responder.stats().cancelled == 0u);
        }
    }
}

// A burst take and a deadline meet: the responder takes up to its limit at
// once, then runs synchronous handlers one after another. A request counts as
// started when its handler starts, and its deadline is checked then: none of
// the requests taken together may reach the handler after its deadline.
BOOST_AUTO_TEST_CASE(requests_taken_together_are_checked_for_their_deadline_when_their_handler_starts)
{
    net::io_context io;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), options(10s));
    auto& client = ch.first;
    auto& responder = ch.second;
    std::vector<clock_type::time_point> started(8);
    std::vector<int> seen;
    responder.async_run(
        [&](int req) {
            started[std::size_t(req)] = clock_type::now();
            seen.push_back(req);
            std::this_thread::sleep_for(50ms);  // the handler's own work
            return req;
        },
        dx::fixed_concurrency{16}, net::detached);
    std::array<outcome, 8> o;
    const auto t0 = clock_type::now();
    for (int i = 0; i != 8; ++i)
        client.async_request(i, 120ms, record(o[std::size_t(i)]));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o); }));
    for (int req : seen) {
        BOOST_TEST_CONTEXT("request " << req)
        BOOST_TEST((started[std::size_t(req)] - t0 < 120ms + 10ms),
                   "handler started after " << std::chrono::duration<double>(started[std::size_t(req)] - t0).count()
                                            << " s");
    }
    BOOST_TEST(seen.size() <= 3u);  // at 0, 50 and 100 ms
    for (std::size_t i = seen.size(); i != 8; ++i)
        BOOST_TEST_CONTEXT("request " << i)
        BOOST_TEST(o[i].is(dx::error::timeout));
    BOOST_TEST(responder.stats().in_flight == 0u);
}

// A burst take and a cancellation meet: a request taken with others but not
// yet started is still queued as far as cancellation goes, so partial and
// total cancellation reach it, and it never reaches the handler.
BOOST_AUTO_TEST_CASE(a_request_taken_but_not_started_is_cancelled_by_every_cancellation_type)
{
    for (ct type : all_types) {
        BOOST_TEST_CONTEXT(name(type))
        {
            net::io_context io;
            auto ch = dx::make_asio_channel<int, int>(io.get_executor(), options(10s));
            auto& client = ch.first;
            auto& responder = ch.second;
            net::cancellation_signal sig;
            std::vector<int> seen;
            responder.async_run(
                [&](int req) {
                    seen.push_back(req);
                    if (req == 0)
                        sig.emit(type);  // request 2 is taken, not started
                    return req;
                },
                dx::fixed_concurrency{16}, net::detached);
            std::array<outcome, 4> o;
            for (int i = 0; i != 4; ++i) {
                if (i == 2)
                    client.async_request(i, net::bind_cancellation_slot(sig.slot(), record(o[2])));
                else
                    client.async_request(i, record(o[std::size_t(i)]));
            }
            BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o); }));
            BOOST_TEST(o[2].is(dx::error::cancelled));
            BOOST_TEST(o[0].holds(0));
            BOOST_TEST(o[1].holds(1));
            BOOST_TEST(o[3].holds(3));
            BOOST_TEST(seen == (std::vector<int>{0, 1, 3}));
            BOOST_TEST(responder.stats().cancelled == 1u);
        }
    }
}
