//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// A run that can always be ended. stop(drain) bounds the wait for running
// handlers: what still runs when the drain passes completes with
// error::closed, awaitable handlers hear a terminal cancellation, and the run
// completes (error::timeout if a handler was still running) without waiting
// for them. async_run honours terminal cancellation
// (it closes the channel as destroying the responder does, and completes
// with error::cancelled at once, without waiting for handlers), so the
// awaitable `||` race with a timer ends when the timer fires; partial and
// total cancellation leave it alone; and a run that ends while awaitable
// handlers still run -- cancelled, or its responder destroyed -- passes a
// terminal cancellation on to them, so that io_context::run() need not wait
// for their own timers.

#define BOOST_TEST_MODULE asio_run_always_ends
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/duplex/asio.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <chrono>
#include <optional>
#include <tuple>
#include <variant>

using namespace duplex_test;

namespace {

// An awaitable handler that waits 30 s on a timer -- unless cancelled, which
// it records.
struct sleepy {
    int started = 0;
    int cancelled = 0;

    auto handler()
    {
        return [this](int v) -> net::awaitable<int> {
            ++started;
            net::steady_timer t(co_await net::this_coro::executor, 30s);
            auto [ec] = co_await t.async_wait(net::as_tuple(net::use_awaitable));
            if (ec == net::error::operation_aborted)
                ++cancelled;
            co_return v;
        };
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(terminal_cancellation_closes_the_channel_and_the_run_completes_cancelled_at_once)
{
    net::io_context io;
    sleepy h;
    auto [client, responder] = dx::make_asio_channel<int, int>(io.get_executor(), options(60s));
    net::cancellation_signal sig;
    std::optional<dx::result<void>> run;
    responder.async_run(h.handler(), dx::fixed_concurrency{2},
                        net::bind_cancellation_slot(sig.slot(), [&](dx::result<void> r) { run.emplace(r); }));
    std::array<outcome, 4> o;
    for (int i = 0; i != 4; ++i)
        client.async_request(i, record(o[i]));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return h.started == 2; }));  // two run, two queued

    const auto t0 = clock_type::now();
    sig.emit(net::cancellation_type::terminal);
    BOOST_TEST_REQUIRE(run_until(io, [&] { return run.has_value() && all_done(o); }));
    BOOST_TEST(seconds_since(t0) < 2.0);  // not the handlers' 30 s
    BOOST_TEST(failed_with(*run, dx::error::cancelled));
    for (int i = 0; i != 4; ++i)
        BOOST_TEST(o[i].is(dx::error::closed), "request " << i);
    // The running handlers heard of it and ended; nothing holds the io_context.
    BOOST_TEST_REQUIRE(run_until(io, [&] { return h.cancelled == 2; }));
    io.restart();
    const auto t1 = clock_type::now();
    io.run_for(10s);
    BOOST_TEST(seconds_since(t1) < 2.0);

    // The channel is closed for good: later requests, and another run.
    outcome later;
    client.async_request(9, record(later));
    std::optional<dx::result<void>> second;
    responder.async_run([](int v) { return v; }, dx::fixed_concurrency{1},
                        [&](dx::result<void> r) { second.emplace(r); });
    io.restart();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return later.done() && second.has_value(); }));
    BOOST_TEST(later.is(dx::error::closed));
    BOOST_TEST(failed_with(*second, dx::error::closed));
    for (auto& x : o)
        BOOST_TEST(x.completions == 1);
}

BOOST_AUTO_TEST_CASE(partial_and_total_cancellation_leave_the_run_going)
{
    net::io_context io;
    auto [client, responder] = dx::make_asio_channel<int, int>(io.get_executor(), options(60s));
    net::cancellation_signal sig;
    std::optional<dx::result<void>> run;
    responder.async_run([](int v) { return v + 1; }, dx::fixed_concurrency{2},
                        net::bind_cancellation_slot(sig.slot(), [&](dx::result<void> r) { run.emplace(r); }));
    outcome a;
    client.async_request(1, record(a));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return a.done(); }));
    sig.emit(net::cancellation_type::partial);
    sig.emit(net::cancellation_type::total);
    outcome b;
    client.async_request(2, record(b));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return b.done(); }));
    BOOST_TEST(b.holds(3));
    BOOST_TEST(!run.has_value());
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return run.has_value(); }));
    BOOST_TEST(run->has_value());
}

BOOST_AUTO_TEST_CASE(the_awaitable_race_with_a_timer_ends_when_the_timer_fires)
{
    using namespace net::experimental::awaitable_operators;
    net::io_context io;
    sleepy h;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), options(60s));
    auto& client = ch.first;
    auto& responder = ch.second;  // not a structured binding: the coroutine lambda refers to it (clang < 16)
    outcome in_flight;
    client.async_request(5, record(in_flight));
    std::optional<std::size_t> winner;
    auto race = [&]() -> net::awaitable<void> {
        net::steady_timer t(co_await net::this_coro::executor, 50ms);
        auto r = co_await (responder.async_run(h.handler(), dx::fixed_concurrency{4}, net::use_awaitable) ||
                           t.async_wait(net::use_awaitable));
        winner = r.index();
    };
    const auto t0 = clock_type::now();
    net::co_spawn(io, race(), net::detached);
    io.run_for(10s);  // returns once nothing is left: no handler's 30 s timer either
    BOOST_TEST(seconds_since(t0) < 3.0);
    BOOST_TEST_REQUIRE(winner.has_value());
    BOOST_TEST(*winner == 1u);  // the timer
    BOOST_TEST(in_flight.is(dx::error::closed));
    BOOST_TEST(h.started == 1);
    BOOST_TEST(h.cancelled == 1);
}

BOOST_AUTO_TEST_CASE(destroying_the_responder_cancels_its_running_awaitable_handlers)
{
    net::io_context io;
    sleepy h;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), options(60s));
    auto& client = ch.first;
    std::optional<dx::asio_responder<int, int>> responder(std::move(ch.second));
    std::optional<dx::result<void>> run;
    responder->async_run(h.handler(), dx::fixed_concurrency{2}, [&](dx::result<void> r) { run.emplace(r); });
    outcome a, b;
    client.async_request(1, record(a));
    client.async_request(2, record(b));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return h.started == 2; }));

    responder.reset();
    const auto t0 = clock_type::now();
    io.run_for(10s);  // before: until the handlers' own 30 s timers
    BOOST_TEST(seconds_since(t0) < 3.0);
    BOOST_TEST(h.cancelled == 2);
    BOOST_TEST_REQUIRE(run.has_value());
    BOOST_TEST(failed_with(*run, dx::error::closed));
    BOOST_TEST(a.is(dx::error::closed));
    BOOST_TEST(b.is(dx::error::closed));
}

namespace {

// An awaitable handler that waits `v` milliseconds, cancellably or not.
struct waits {
    bool cancellable = true;
    int started = 0;
    int cancelled = 0;
    int ended = 0;

    auto handler()
    {
        return [this](int v) -> net::awaitable<int> {
            ++started;
            net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(v));
            boost::system::error_code ec;
            if (cancellable)
                std::tie(ec) = co_await t.async_wait(net::as_tuple(net::use_awaitable));
            else
                std::tie(ec) = co_await t.async_wait(
                    net::bind_cancellation_slot(net::cancellation_slot(), net::as_tuple(net::use_awaitable)));
            if (ec == net::error::operation_aborted)
                ++cancelled;
            ++ended;
            co_return v;
        };
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_drain_delivers_what_ends_in_time_and_closes_what_does_not)
{
    net::io_context io;
    waits h;
    auto [client, responder] = dx::make_asio_channel<int, int>(io.get_executor(), options(60s));
    std::optional<dx::result<void>> run;
    responder.async_run(h.handler(), dx::fixed_concurrency{3}, [&](dx::result<void> r) { run.emplace(r); });
    std::array<outcome, 4> o;
    const std::array<int, 4> ms{20, 20000, 20000, 1};  // the last one waits in the queue
    for (std::size_t i = 0; i != o.size(); ++i)
        client.async_request(ms[i], record(o[i]));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return h.started == 3; }));

    const auto t0 = clock_type::now();
    responder.stop(300ms);
    BOOST_TEST_REQUIRE(run_until(io, [&] { return run.has_value() && all_done(o); }));
    const double took = seconds_since(t0);
    BOOST_TEST(took >= 0.25);  // the drain was waited for...
    BOOST_TEST(took < 3.0);    // ... and no longer
    BOOST_TEST(failed_with(*run, dx::error::timeout));  // handlers were still running
    BOOST_TEST(o[0].holds(20));                          // ended within the drain: delivered
    BOOST_TEST(o[1].is(dx::error::closed));
    BOOST_TEST(o[2].is(dx::error::closed));
    BOOST_TEST(o[3].is(dx::error::closed));  // queued: closed by the stop itself
    BOOST_TEST(o[3].elapsed() < o[1].elapsed());
    BOOST_TEST_REQUIRE(run_until(io, [&] { return h.cancelled == 2; }));  // the two heard of it
    BOOST_TEST(responder.stats().in_flight == 0u);
    for (auto& x : o)
        BOOST_TEST(x.completions == 1);
}

BOOST_AUTO_TEST_CASE(a_drain_that_everything_beats_ends_the_run_with_success_and_holds_nothing)
{
    net::io_context io;
    waits h;
    auto [client, responder] = dx::make_asio_channel<int, int>(io.get_executor(), options(60s));
    std::optional<dx::result<void>> run;
    responder.async_run(h.handler(), dx::fixed_concurrency{2}, [&](dx::result<void> r) { run.emplace(r); });
    outcome a;
    client.async_request(30, record(a));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return h.started == 1; }));
    responder.stop(30s);
    const auto t0 = clock_type::now();
    io.run_for(20s);  // returns as soon as the run is over: the drain's timer holds nothing
    BOOST_TEST(seconds_since(t0) < 3.0);
    BOOST_TEST_REQUIRE(run.has_value());
    BOOST_TEST(run->has_value());
    BOOST_TEST(a.holds(30));
    BOOST_TEST(h.cancelled == 0);
}

BOOST_AUTO_TEST_CASE(a_drain_ends_the_run_even_when_a_handler_ignores_cancellation)
{
    net::io_context io;
    waits h;
    h.cancellable = false;
    auto [client, responder] = dx::make_asio_channel<int, int>(io.get_executor(), options(60s));
    std::optional<dx::result<void>> run;
    responder.async_run(h.handler(), dx::fixed_concurrency{2}, [&](dx::result<void> r) { run.emplace(r); });
    outcome a;
    client.async_request(1500, record(a));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return h.started == 1; }));
    const auto t0 = clock_type::now();
    responder.stop(100ms);
    BOOST_TEST_REQUIRE(run_until(io, [&] { return run.has_value() && a.done(); }));
    BOOST_TEST(seconds_since(t0) < 1.0);  // not the handler's 1.5 s
    BOOST_TEST(failed_with(*run, dx::error::timeout));
    BOOST_TEST(a.is(dx::error::closed));
    BOOST_TEST(h.ended == 0);
    // The handler goes on by itself, with what it uses alive; its result is dropped.
    BOOST_TEST_REQUIRE(run_until(io, [&] { return h.ended == 1; }));
    poll(io);
    BOOST_TEST(a.completions == 1);
}

BOOST_AUTO_TEST_CASE(the_earliest_drain_holds)
{
    net::io_context io;
    waits h;
    auto [client, responder] = dx::make_asio_channel<int, int>(io.get_executor(), options(60s));
    std::optional<dx::result<void>> run;
    responder.async_run(h.handler(), dx::fixed_concurrency{2}, [&](dx::result<void> r) { run.emplace(r); });
    outcome a;
    client.async_request(20000, record(a));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return h.started == 1; }));
    const auto t0 = clock_type::now();
    responder.stop(100ms);
    responder.stop(30s);
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return run.has_value(); }));
    BOOST_TEST(seconds_since(t0) < 2.0);
    BOOST_TEST(failed_with(*run, dx::error::timeout));
    BOOST_TEST(a.is(dx::error::closed));
}

// stop(drain) asked for by a handler, as a service's own "shut down" request
// would: that handler's request is running, ends within the drain and is
// delivered; the queued one is closed at once; the drain bounds the stuck one,
// which hears a terminal cancellation, and the run completes with timeout.
BOOST_AUTO_TEST_CASE(a_drain_asked_for_by_a_handler_delivers_that_handler_and_bounds_the_others)
{
    net::io_context io;
    auto [client, responder] = dx::make_asio_channel<int, int>(io.get_executor(), options(60s));
    auto* stopper = &responder;
    int started = 0;
    int cancelled = 0;
    auto handler = [&started, &cancelled, stopper](int v) -> net::awaitable<int> {
        ++started;
        if (v == 0) {
            stopper->stop(200ms);
            co_return 100;
        }
        net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(v));
        auto [ec] = co_await t.async_wait(net::as_tuple(net::use_awaitable));
        if (ec == net::error::operation_aborted)
            ++cancelled;
        co_return v;
    };
    std::optional<dx::result<void>> run;
    responder.async_run(handler, dx::fixed_concurrency{2}, [&](dx::result<void> r) { run.emplace(r); });
    std::array<outcome, 3> o;
    client.async_request(20000, record(o[0]));  // stuck (until cancelled)
    BOOST_TEST_REQUIRE(run_until(io, [&] { return started == 1; }));
    const auto t0 = clock_type::now();
    client.async_request(0, record(o[1]));  // asks for the drain
    client.async_request(1, record(o[2]));  // queued behind it (limit 2)
    BOOST_TEST_REQUIRE(run_until(io, [&] { return run.has_value() && all_done(o); }));
    const double took = seconds_since(t0);
    BOOST_TEST(took >= 0.15);
    BOOST_TEST(took < 3.0);
    BOOST_TEST(o[1].holds(100));
    BOOST_TEST(o[2].is(dx::error::closed));
    BOOST_TEST(o[0].is(dx::error::closed));
    BOOST_TEST(o[2].elapsed() < o[0].elapsed());
    BOOST_TEST(failed_with(*run, dx::error::timeout));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return cancelled == 1; }));
    BOOST_TEST(started == 2);  // the queued one never reached the handler
    for (auto& x : o)
        BOOST_TEST(x.completions == 1);
}
