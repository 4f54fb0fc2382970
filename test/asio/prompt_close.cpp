//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 4, prompt close: when the responder is destroyed, or its run ends
// for any reason, every pending request (queued, waiting for room, in flight)
// completes with error::closed at once, not at its deadline. Every deadline
// here is 30 s and every handler waits on a gate that stays shut, so only the
// close can complete a request within the 1 s the tests allow.

#define BOOST_TEST_MODULE asio_prompt_close
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/duplex/asio.hpp>

#include <boost/asio/io_context.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

using namespace duplex_test;

namespace {

using responder_type = dx::asio_responder<int, int>;

dx::channel_options slow_options()
{
    dx::channel_options opts;
    opts.timeout = 30s;
    opts.capacity = 2;
    return opts;
}

}  // namespace

BOOST_AUTO_TEST_CASE(destroying_the_responder_closes_every_pending_request_at_once)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    int handlers_ended = 0;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), slow_options());
    auto& client = ch.first;
    std::optional<responder_type> responder(std::move(ch.second));
    std::optional<dx::result<void>> run;
    responder->async_run(
        [&](int req) -> net::awaitable<int> {
            seen.push_back(req);
            co_await g.wait_ignoring_cancellation();
            ++handlers_ended;
            co_return req * 2;
        },
        dx::fixed_concurrency{2}, [&](dx::result<void> r) { run.emplace(r); });

    // 0 and 1 in flight, 2 and 3 queued, 4..6 waiting for room.
    std::array<outcome, 7> o;
    for (int i = 0; i != 7; ++i)
        client.async_request(i, record(o[i]));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder->stats().in_flight == 2; }));
    BOOST_TEST(responder->stats().queued == 2u);
    poll(io);
    for (auto& x : o)
        BOOST_TEST(!x.done());

    const auto t0 = clock_type::now();
    responder.reset();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o) && run.has_value(); }));
    BOOST_TEST(seconds_since(t0) < 1.0);
    for (int i = 0; i != 7; ++i) {
        BOOST_TEST_CONTEXT("request " << i)
        BOOST_TEST(o[i].is(dx::error::closed));
    }
    BOOST_TEST(code_of(*run) == code(dx::error::closed));

    // A request made now is closed at once too.
    outcome late;
    client.async_request(100, record(late));
    BOOST_TEST(!late.done());
    BOOST_TEST_REQUIRE(run_until(io, [&] { return late.done(); }));
    BOOST_TEST(late.is(dx::error::closed));
    BOOST_TEST(late.elapsed() < 1s);

    // The handlers still running finish; their results are dropped.
    g.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return handlers_ended == 2; }));
    poll(io);
    for (auto& x : o) {
        BOOST_TEST(x.completions == 1);
        BOOST_TEST(x.is(dx::error::closed));
    }
    BOOST_TEST(seen == (std::vector<int>{0, 1}));
}

BOOST_AUTO_TEST_CASE(destroying_the_responder_before_its_run_starts_closes_queued_requests_at_once)
{
    net::io_context io;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), slow_options());
    auto& client = ch.first;
    std::optional<responder_type> responder(std::move(ch.second));

    // 0 and 1 queued, 2 and 3 waiting for room.
    std::array<outcome, 4> o;
    for (int i = 0; i != 4; ++i)
        client.async_request(i, record(o[i]));
    poll(io);
    BOOST_TEST(responder->stats().queued == 2u);

    const auto t0 = clock_type::now();
    responder.reset();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o); }));
    BOOST_TEST(seconds_since(t0) < 1.0);
    for (auto& x : o)
        BOOST_TEST(x.is(dx::error::closed));
}

BOOST_AUTO_TEST_CASE(assigning_over_a_responder_closes_its_channel_at_once)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    auto first = dx::make_asio_channel<int, int>(io.get_executor(), slow_options());
    auto second = dx::make_asio_channel<int, int>(io.get_executor(), slow_options());
    std::optional<dx::result<void>> run;
    first.second.async_run(gated_handler(g, seen), dx::fixed_concurrency{1},
                           [&](dx::result<void> r) { run.emplace(r); });
    std::array<outcome, 3> o;  // in flight, queued, queued
    for (int i = 0; i != 3; ++i)
        first.first.async_request(i, record(o[i]));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return first.second.stats().in_flight == 1; }));

    const auto t0 = clock_type::now();
    first.second = std::move(second.second);
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o) && run.has_value(); }));
    BOOST_TEST(seconds_since(t0) < 1.0);
    for (auto& x : o)
        BOOST_TEST(x.is(dx::error::closed));
    BOOST_TEST(code_of(*run) == code(dx::error::closed));

    // The assigned responder serves the second channel.
    outcome served;
    second.first.async_request(21, record(served));
    first.second.async_run(recording_handler(seen), dx::fixed_concurrency{1}, net::detached);
    BOOST_TEST_REQUIRE(run_until(io, [&] { return served.done(); }));
    BOOST_TEST(served.holds(42));
    g.open();
}

BOOST_AUTO_TEST_CASE(destroying_the_responder_on_another_thread_closes_pending_requests_at_once)
{
    constexpr int requests = 200;
    constexpr std::size_t limit = 8;
    net::io_context io;
    gate g;
    event ev;
    std::atomic<int> started{0}, done{0}, closed{0}, other{0}, handlers_ended{0};
    dx::channel_options opts;
    opts.timeout = 30s;
    opts.capacity = 16;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto client = ch.first;
    auto responder = std::make_unique<responder_type>(std::move(ch.second));
    std::atomic<bool> run_done{false};
    std::atomic<bool> run_closed{false};
    responder->async_run(
        [&](int req) -> net::awaitable<int> {
            ++started;
            ev.notify();
            co_await g.wait_ignoring_cancellation();
            ++handlers_ended;
            ev.notify();
            co_return req * 2;
        },
        dx::fixed_concurrency{limit}, [&](dx::result<void> r) {
            run_closed = !r.has_value() && r.error() == dx::error::closed;
            run_done = true;
            ev.notify();
        });

    std::vector<std::atomic<int>> completions(requests);
    for (int i = 0; i != requests; ++i)
        client.async_request(i, [&, i](dx::result<int> r) {
            ++completions[i];
            ++(!r.has_value() && r.error() == dx::error::closed ? closed : other);
            ++done;
            ev.notify();
        });

    auto guard = net::make_work_guard(io);
    std::vector<std::thread> pool;
    for (int i = 0; i != 2; ++i)
        pool.emplace_back([&io] { io.run(); });

    const bool all_running = ev.wait_for([&] { return started == int(limit); }, 5s);
    const auto t0 = clock_type::now();
    responder.reset();  // from this thread, while two others run the io_context
    const bool all_closed = ev.wait_for([&] { return done == requests && run_done; }, 5s);
    const double took = seconds_since(t0);
    g.open();
    const bool handlers_finished = ev.wait_for([&] { return handlers_ended == int(limit); }, 5s);
    guard.reset();
    io.stop();
    for (auto& t : pool)
        t.join();
    io.restart();
    io.poll();

    BOOST_TEST_REQUIRE(all_running);
    BOOST_TEST_REQUIRE(all_closed);
    BOOST_TEST(handlers_finished);
    BOOST_TEST(took < 1.0);
    BOOST_TEST(closed == requests);
    BOOST_TEST(other == 0);
    BOOST_TEST(run_closed);
    for (int i = 0; i != requests; ++i)
        BOOST_TEST_REQUIRE(completions[i] == 1, "request " << i << " completed " << completions[i] << " times");
}

BOOST_AUTO_TEST_CASE(destroying_everything_while_handlers_are_suspended_is_clean)
{
    // The gate never opens: the io_context is destroyed with the handler
    // coroutines still suspended. Nothing may leak, crash or assert.
    std::array<outcome, 4> o;
    std::optional<dx::result<void>> run;
    {
        net::io_context io;
        gate g;
        std::vector<int> seen;
        auto ch = dx::make_asio_channel<int, int>(io.get_executor(), slow_options());
        ch.second.async_run(gated_handler(g, seen), dx::fixed_concurrency{2},
                            [&](dx::result<void> r) { run.emplace(r); });
        for (int i = 0; i != 4; ++i)
            ch.first.async_request(i, record(o[i]));
        BOOST_TEST_REQUIRE(run_until(io, [&] { return ch.second.stats().in_flight == 2; }));
        {
            auto gone = std::move(ch.second);
        }
        BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o) && run.has_value(); }));
    }
    for (auto& x : o)
        BOOST_TEST(x.is(dx::error::closed));
    BOOST_TEST(code_of(*run) == code(dx::error::closed));
}

// The run also ends through stop(): what it has not started is closed at once
// (the stop itself is guarantee 5's business, see shutdown.cpp); and once the
// run has ended, a new request is closed at once rather than at its deadline.
BOOST_AUTO_TEST_CASE(the_end_of_the_run_closes_pending_requests_at_once)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), slow_options());
    auto& client = ch.first;
    auto& responder = ch.second;
    std::optional<dx::result<void>> run;
    responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{1}, [&](dx::result<void> r) { run.emplace(r); });

    outcome running;
    std::array<outcome, 4> pending;  // 2 queued, 2 waiting for room
    client.async_request(10, record(running));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 1; }));
    for (int i = 0; i != 4; ++i)
        client.async_request(1 + i, record(pending[i]));

    const auto t0 = clock_type::now();
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(pending); }));
    BOOST_TEST(seconds_since(t0) < 1.0);
    for (auto& x : pending)
        BOOST_TEST(x.is(dx::error::closed));

    g.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return running.done() && run.has_value(); }));
    BOOST_TEST(running.holds(20));
    BOOST_TEST(run->has_value());

    outcome after;
    client.async_request(9, record(after));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return after.done(); }));
    BOOST_TEST(after.is(dx::error::closed));
    BOOST_TEST(after.elapsed() < 1s);
    BOOST_TEST(seen == std::vector<int>{10});
}
