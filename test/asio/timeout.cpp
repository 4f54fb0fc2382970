//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Deadlines of the Asio backend: the default timeout comes from
// channel_options, a per-request timeout overrides it, duration::max() means
// none, zero or less times out at once without reaching the handler, a
// deadline fires neither early nor very late, and requests made before the
// run starts wait for it.

#define BOOST_TEST_MODULE asio_timeout
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/duplex/asio.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <optional>
#include <vector>

using namespace duplex_test;

namespace {

using duration = clock_type::duration;

// Generous bounds: a deadline never fires early, and fires within 2 s of its time.
void check_timed_out_in_bounds(const outcome& o, duration timeout)
{
    BOOST_TEST_REQUIRE(o.done());
    BOOST_TEST(o.completions == 1);
    BOOST_TEST(code_of(*o.r) == code(dx::error::timeout));
    BOOST_TEST(o.elapsed() >= timeout, "fired after " << std::chrono::duration<double>(o.elapsed()).count()
                                                       << " s, deadline " << std::chrono::duration<double>(timeout).count());
    BOOST_TEST(o.elapsed() < timeout + 2s, "fired after " << std::chrono::duration<double>(o.elapsed()).count() << " s");
}

}  // namespace

BOOST_AUTO_TEST_CASE(default_timeout_comes_from_channel_options)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    dx::channel_options opts;
    opts.timeout = 100ms;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    std::optional<dx::result<void>> run;
    responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{1}, [&](dx::result<void> r) { run.emplace(r); });

    // One request in flight (held by the gate), one queued behind it: both
    // have the channel's default deadline. (Should the first expire before
    // the responder gets to it, on a very loaded machine, so be it.)
    outcome in_flight, queued;
    client.async_request(1, record(in_flight));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 1 || in_flight.done(); }));
    client.async_request(2, record(queued));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return in_flight.done() && queued.done(); }));
    check_timed_out_in_bounds(in_flight, opts.timeout);
    check_timed_out_in_bounds(queued, opts.timeout);

    g.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 0; }));
    const auto st = responder.stats();
    BOOST_TEST(st.timed_out == 2u);
    BOOST_TEST(st.completed == 0u);
    BOOST_TEST(seen.size() <= 1u);  // the queued one never reached the handler
    for (int req : seen)
        BOOST_TEST(req == 1);

    responder.stop();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return run.has_value(); }));
    BOOST_TEST(run->has_value());
}

BOOST_AUTO_TEST_CASE(per_request_timeout_overrides_the_default)
{
    // A shorter deadline than the default.
    {
        net::io_context io;
        dx::channel_options opts;
        opts.timeout = 30s;
        auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
        auto& client = ch.first;
        auto& responder = ch.second;
        outcome o;
        client.async_request(1, 50ms, record(o));  // no run: the request waits in the queue
        BOOST_TEST_REQUIRE(run_until(io, [&] { return o.done(); }));
        check_timed_out_in_bounds(o, 50ms);
        BOOST_TEST(responder.stats().timed_out == 1u);
    }
    // A longer deadline than the default: it outlives a default-deadline
    // request made after it.
    {
        net::io_context io;
        gate g;
        std::vector<int> seen;
        dx::channel_options opts;
        opts.timeout = 50ms;
        auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
        auto& client = ch.first;
        auto& responder = ch.second;
        responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{4}, net::detached);
        outcome longer, by_default;
        client.async_request(1, 30s, record(longer));
        client.async_request(2, record(by_default));
        BOOST_TEST_REQUIRE(run_until(io, [&] { return by_default.done(); }));
        check_timed_out_in_bounds(by_default, 50ms);
        BOOST_TEST(!longer.done());
        g.open();
        BOOST_TEST_REQUIRE(run_until(io, [&] { return longer.done(); }));
        BOOST_TEST_REQUIRE(longer.r->has_value());
        BOOST_TEST(longer.r->value() == 2);
        BOOST_TEST_REQUIRE(!seen.empty());
        BOOST_TEST(seen.front() == 1);
    }
}

BOOST_AUTO_TEST_CASE(duration_max_means_no_deadline)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    dx::channel_options opts;
    opts.timeout = 50ms;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{2}, net::detached);

    // duration::max() means none; a huge timeout must saturate, not wrap
    // around into the past. Two of them run, two wait in the queue.
    outcome never[4];
    client.async_request(1, duration::max(), record(never[0]));
    client.async_request(2, duration::max() / 2, record(never[1]));
    client.async_request(3, duration::max(), record(never[2]));
    client.async_request(4, duration::max() - 1ns, record(never[3]));
    outcome reference;
    client.async_request(5, record(reference));  // default: 50 ms
    BOOST_TEST_REQUIRE(run_until(io, [&] { return reference.done(); }));
    check_timed_out_in_bounds(reference, 50ms);
    for (auto& o : never)
        BOOST_TEST(!o.done());
    BOOST_TEST(responder.stats().in_flight == 2u);
    BOOST_TEST(responder.stats().queued == 2u);

    g.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(never); }));
    for (int i = 0; i != 4; ++i) {
        BOOST_TEST_REQUIRE(never[i].r->has_value());
        BOOST_TEST(never[i].r->value() == (i + 1) * 2);
    }
}

BOOST_AUTO_TEST_CASE(duration_max_as_the_channel_default_means_no_deadline)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    dx::channel_options opts;
    opts.timeout = duration::max();
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{1}, net::detached);
    outcome running, queued, reference;
    client.async_request(1, record(running));
    client.async_request(2, record(queued));
    client.async_request(3, 50ms, record(reference));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return reference.done(); }));
    check_timed_out_in_bounds(reference, 50ms);
    BOOST_TEST(!running.done());
    BOOST_TEST(!queued.done());
    g.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return running.done() && queued.done(); }));
    BOOST_TEST_REQUIRE(running.r->has_value());
    BOOST_TEST(running.r->value() == 2);
    BOOST_TEST_REQUIRE(queued.r->has_value());
    BOOST_TEST(queued.r->value() == 4);
}

BOOST_AUTO_TEST_CASE(zero_and_negative_timeouts_fail_at_once_and_never_reach_the_handler)
{
    const duration timeouts[] = {0ns, -1ns, -1h, duration::min()};
    for (bool started : {false, true}) {
        BOOST_TEST_CONTEXT("run " << (started ? "started" : "not started yet"))
        {
            net::io_context io;
            std::vector<int> seen;
            dx::channel_options opts;
            opts.timeout = 30s;
            auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
            auto& client = ch.first;
            auto& responder = ch.second;
            auto handler = [&seen](int req) {
                seen.push_back(req);
                return req * 2;
            };
            if (started) {
                responder.async_run(handler, dx::fixed_concurrency{4}, net::detached);
                poll(io);  // the responder is now idle, waiting for requests
            }
            int req = 0;
            for (duration t : timeouts) {
                outcome o;
                client.async_request(++req, t, record(o));
                BOOST_TEST(!o.done());  // never completed inside the initiating function
                BOOST_TEST_REQUIRE(run_until(io, [&] { return o.done(); }));
                BOOST_TEST(code_of(*o.r) == code(dx::error::timeout));
                BOOST_TEST(o.elapsed() < 1s);  // at once, not at the 30 s default
            }
            BOOST_TEST(responder.stats().timed_out == 4u);
            BOOST_TEST(responder.stats().queued == 0u);

            // The handler works, and saw none of them.
            if (!started)
                responder.async_run(handler, dx::fixed_concurrency{4}, net::detached);
            outcome ok;
            client.async_request(100, record(ok));
            BOOST_TEST_REQUIRE(run_until(io, [&] { return ok.done(); }));
            BOOST_TEST_REQUIRE(ok.r->has_value());
            BOOST_TEST(ok.r->value() == 200);
            BOOST_TEST(seen == std::vector<int>{100});
        }
    }
}

BOOST_AUTO_TEST_CASE(a_deadline_fires_after_its_time_and_not_much_later)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    dx::channel_options opts;
    opts.timeout = 30s;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{2}, net::detached);

    // The first two run (held by the gate), the others wait in the queue;
    // deadlines are out of order on purpose.
    const duration timeouts[] = {200ms, 20ms, 100ms, 50ms, 150ms, 30ms};
    outcome o[6];
    for (int i = 0; i != 6; ++i)
        client.async_request(i, timeouts[i], record(o[i]));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o); }));
    for (int i = 0; i != 6; ++i) {
        BOOST_TEST_CONTEXT("request " << i)
        check_timed_out_in_bounds(o[i], timeouts[i]);
    }

    // The late results of the two that ran are dropped.
    g.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 0; }));
    const auto st = responder.stats();
    BOOST_TEST(st.timed_out == 6u);
    BOOST_TEST(st.completed == 0u);
    BOOST_TEST(seen.size() <= 2u);  // only what ran before its deadline reached the handler
}

BOOST_AUTO_TEST_CASE(requests_made_before_the_run_starts_queue_and_are_served)
{
    net::io_context io;
    dx::channel_options opts;
    opts.timeout = 30s;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    outcome o[10];
    for (int i = 0; i != 10; ++i)
        client.async_request(i, record(o[i]));
    poll(io);
    for (auto& x : o)
        BOOST_TEST(!x.done());
    BOOST_TEST(responder.stats().queued == 10u);

    std::vector<int> seen;
    responder.async_run(
        [&seen](int req) {
            seen.push_back(req);
            return req * 2;
        },
        dx::fixed_concurrency{1}, net::detached);
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o); }));
    for (int i = 0; i != 10; ++i) {
        BOOST_TEST_REQUIRE(o[i].r->has_value());
        BOOST_TEST(o[i].r->value() == i * 2);
    }
    BOOST_TEST(seen == (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    BOOST_TEST(responder.stats().queued == 0u);
    BOOST_TEST(responder.stats().completed == 10u);
}

// The channel keeps one timer for all deadlines. Once no request is pending,
// that timer must not keep io_context::run() going until some deadline of a
// request that was answered long ago (Asio convention: outstanding work means
// an operation is pending).
BOOST_AUTO_TEST_CASE(the_deadline_timer_does_not_keep_the_io_context_running_when_nothing_is_pending)
{
    net::io_context io;
    dx::channel_options opts;
    opts.timeout = 30s;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    std::optional<dx::result<void>> run;
    responder.async_run(
        [](int req) -> net::awaitable<int> {
            // Long enough for the deadline timer to be armed before the answer.
            net::steady_timer t(co_await net::this_coro::executor, 10ms);
            co_await t.async_wait(net::use_awaitable);
            co_return req * 2;
        },
        dx::fixed_concurrency{1}, [&](dx::result<void> r) { run.emplace(r); });
    outcome o;
    client.async_request(21, record(o));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return o.done(); }));
    BOOST_TEST_REQUIRE(o.r->has_value());
    BOOST_TEST(o.r->value() == 42);
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return run.has_value(); }));
    BOOST_TEST(run->has_value());

    // Nothing is pending: run() should return at once, not in 30 s.
    const auto t0 = clock_type::now();
    io.restart();
    io.run_for(2s);
    BOOST_TEST(io.stopped(), "io_context::run() still had work " << seconds_since(t0) << " s after the last request ended");
    BOOST_TEST(seconds_since(t0) < 1.0);
}

// A deadline and a finished request meet: the first request (50 ms deadline)
// is answered at once, a request without a deadline then holds the only
// handler slot, and a third request's 100 ms deadline must fire on time.
BOOST_AUTO_TEST_CASE(a_deadline_after_an_answered_request_fires_on_time_while_the_handler_is_busy)
{
    net::io_context io;
    gate g;
    dx::channel_options opts;
    opts.timeout = duration::max();
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    responder.async_run(
        [&g](int req) -> net::awaitable<int> {
            if (req < 100)
                co_await g.wait_ignoring_cancellation();
            co_return req;
        },
        dx::fixed_concurrency{1}, net::detached);

    outcome first;
    client.async_request(100, 50ms, record(first));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return first.done(); }));
    BOOST_TEST(first.holds(100));

    outcome holder;
    client.async_request(1, duration::max(), record(holder));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 1u; }));
    outcome late;
    client.async_request(101, 100ms, record(late));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return late.done(); }));
    BOOST_TEST(late.is(dx::error::timeout));
    BOOST_TEST(late.elapsed() >= 100ms);
    BOOST_TEST(late.elapsed() < 1s);

    g.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return holder.done(); }));
    BOOST_TEST(holder.holds(1));
}
