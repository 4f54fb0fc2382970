//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 5, shutdown: stop() stops accepting; queued requests not yet
// started complete with error::closed; in-flight ones finish and are
// delivered; then the run completes with success. The run also completes with
// success once every client copy is gone and every accepted request is
// answered. stop() works from any thread and from inside a handler.

#define BOOST_TEST_MODULE asio_shutdown
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/duplex/asio.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace duplex_test;

namespace {

using client_type = dx::asio_client<int, int>;
using responder_type = dx::asio_responder<int, int>;

// Records the order in which completions arrive (single-threaded tests).
struct journal {
    std::vector<std::string> entries;

    auto request(outcome& o, std::string name)
    {
        return [this, h = record(o), name = std::move(name)](dx::result<int> r) mutable {
            entries.push_back(name);
            h(std::move(r));
        };
    }

    auto run(std::optional<dx::result<void>>& out)
    {
        return [this, &out](dx::result<void> r) {
            entries.push_back("run");
            out.emplace(r);
        };
    }
};

dx::channel_options slow_options(std::size_t capacity = 64)
{
    dx::channel_options opts;
    opts.timeout = 30s;
    opts.capacity = capacity;
    return opts;
}

}  // namespace

BOOST_AUTO_TEST_CASE(stop_closes_queued_requests_delivers_in_flight_ones_then_the_run_succeeds)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    journal j;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), slow_options(4));
    auto& client = ch.first;
    auto& responder = ch.second;
    std::optional<dx::result<void>> run;
    responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{2}, j.run(run));

    // 0 and 1 in flight, 2..5 queued, 6 and 7 waiting for room.
    std::array<outcome, 8> o;
    for (int i = 0; i != 8; ++i)
        client.async_request(i, j.request(o[i], std::to_string(i)));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 2; }));
    BOOST_TEST(responder.stats().queued == 4u);

    const auto t0 = clock_type::now();
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(io, [&] {
        for (int i = 2; i != 8; ++i)
            if (!o[i].done())
                return false;
        return true;
    }));
    BOOST_TEST(seconds_since(t0) < 1.0);
    for (int i = 2; i != 8; ++i) {
        BOOST_TEST_CONTEXT("request " << i)
        BOOST_TEST(o[i].is(dx::error::closed));
    }
    // The running ones go on; the run waits for them.
    poll(io);
    BOOST_TEST(!o[0].done());
    BOOST_TEST(!o[1].done());
    BOOST_TEST(!run.has_value());
    BOOST_TEST(responder.stats().in_flight == 2u);
    BOOST_TEST(responder.stats().queued == 0u);

    g.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return run.has_value(); }));
    BOOST_TEST(run->has_value());
    BOOST_TEST(o[0].holds(0));
    BOOST_TEST(o[1].holds(2));
    // Delivered first, then the run's end.
    BOOST_TEST_REQUIRE(j.entries.size() == 9u);
    BOOST_TEST(j.entries.back() == "run");
    BOOST_TEST(seen == (std::vector<int>{0, 1}));
    const auto st = responder.stats();
    BOOST_TEST(st.completed == 2u);
    BOOST_TEST(st.in_flight == 0u);
    BOOST_TEST(st.cancelled + st.failed + st.timed_out == 0u);  // closed ones are counted in none
}

BOOST_AUTO_TEST_CASE(requests_after_stop_are_closed_at_once)
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
    client.async_request(1, record(running));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 1; }));
    responder.stop();
    responder.stop();  // twice is fine

    // While the run still waits for its running request...
    outcome during, during_max;
    client.async_request(2, record(during));
    client.async_request(3, std::chrono::steady_clock::duration::max(), record(during_max));
    BOOST_TEST(!during.done());  // not inside the initiating function
    BOOST_TEST_REQUIRE(run_until(io, [&] { return during.done() && during_max.done(); }));
    BOOST_TEST(during.is(dx::error::closed));
    BOOST_TEST(during_max.is(dx::error::closed));
    BOOST_TEST(during.elapsed() < 1s);
    BOOST_TEST(!run.has_value());

    // ...and after it ended.
    g.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return running.done() && run.has_value(); }));
    BOOST_TEST(running.holds(2));
    BOOST_TEST(run->has_value());
    outcome after;
    client.async_request(4, record(after));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return after.done(); }));
    BOOST_TEST(after.is(dx::error::closed));
    BOOST_TEST(after.elapsed() < 1s);
    BOOST_TEST(seen == std::vector<int>{1});
}

BOOST_AUTO_TEST_CASE(stop_before_the_run_starts)
{
    net::io_context io;
    std::vector<int> seen;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), slow_options(2));
    auto& client = ch.first;
    auto& responder = ch.second;
    std::array<outcome, 4> o;  // 2 queued, 2 waiting for room
    for (int i = 0; i != 4; ++i)
        client.async_request(i, record(o[i]));
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o); }));
    for (auto& x : o) {
        BOOST_TEST(x.is(dx::error::closed));
        BOOST_TEST(x.elapsed() < 1s);
    }

    // Nothing left to do: the run completes at once, with success.
    std::optional<dx::result<void>> run;
    responder.async_run(recording_handler(seen), dx::fixed_concurrency{1}, [&](dx::result<void> r) { run.emplace(r); });
    BOOST_TEST_REQUIRE(run_until(io, [&] { return run.has_value(); }, 1s));
    BOOST_TEST(run->has_value());
    BOOST_TEST(seen.empty());
}

BOOST_AUTO_TEST_CASE(the_run_succeeds_once_every_client_is_gone_and_every_request_is_answered)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    journal j;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), slow_options());
    std::optional<client_type> clients[3] = {std::move(ch.first), std::nullopt, std::nullopt};
    clients[1].emplace(*clients[0]);
    clients[2] = clients[1];
    auto& responder = ch.second;
    std::optional<dx::result<void>> run;
    responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{1}, j.run(run));

    // One request per copy: the first runs, the others are queued.
    std::array<outcome, 3> o;
    for (int i = 0; i != 3; ++i)
        clients[i]->async_request(i + 1, j.request(o[i], std::to_string(i + 1)));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 1; }));
    BOOST_TEST(responder.stats().queued == 2u);

    // Every copy gone: accepted requests are still answered, not closed.
    for (auto& c : clients)
        c.reset();
    poll(io);
    BOOST_TEST(!run.has_value());
    for (auto& x : o)
        BOOST_TEST(!x.done());

    g.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return run.has_value(); }));
    BOOST_TEST(run->has_value());
    for (int i = 0; i != 3; ++i)
        BOOST_TEST(o[i].holds((i + 1) * 2));
    BOOST_TEST((j.entries == std::vector<std::string>{"1", "2", "3", "run"}));
    BOOST_TEST(responder.stats().completed == 3u);
}

BOOST_AUTO_TEST_CASE(the_run_succeeds_when_the_clients_are_gone_with_nothing_pending)
{
    // Gone before the run starts.
    {
        net::io_context io;
        std::vector<int> seen;
        auto ch = dx::make_asio_channel<int, int>(io.get_executor(), slow_options());
        { auto gone = std::move(ch.first); }
        std::optional<dx::result<void>> run;
        ch.second.async_run(recording_handler(seen), dx::fixed_concurrency{1}, [&](dx::result<void> r) { run.emplace(r); });
        BOOST_TEST_REQUIRE(run_until(io, [&] { return run.has_value(); }, 1s));
        BOOST_TEST(run->has_value());
    }
    // Gone while the run is idle, after some work.
    {
        net::io_context io;
        std::vector<int> seen;
        auto ch = dx::make_asio_channel<int, int>(io.get_executor(), slow_options());
        std::optional<client_type> client(std::move(ch.first));
        std::optional<dx::result<void>> run;
        ch.second.async_run(recording_handler(seen), dx::fixed_concurrency{1}, [&](dx::result<void> r) { run.emplace(r); });
        outcome o;
        client->async_request(5, record(o));
        BOOST_TEST_REQUIRE(run_until(io, [&] { return o.done(); }));
        BOOST_TEST(o.holds(10));
        poll(io);
        BOOST_TEST(!run.has_value());
        client.reset();
        BOOST_TEST_REQUIRE(run_until(io, [&] { return run.has_value(); }, 1s));
        BOOST_TEST(run->has_value());
    }
}

BOOST_AUTO_TEST_CASE(stop_from_inside_a_synchronous_handler)
{
    net::io_context io;
    std::vector<int> seen;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), slow_options());
    auto& client = ch.first;
    auto& responder = ch.second;
    std::array<outcome, 10> o;
    for (int i = 0; i != 10; ++i)
        client.async_request(i, record(o[i]));
    std::optional<dx::result<void>> run;
    responder.async_run(
        [&](int req) {
            seen.push_back(req);
            if (req == 5)
                responder.stop();
            return req * 2;
        },
        dx::fixed_concurrency{1}, [&](dx::result<void> r) { run.emplace(r); });
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o) && run.has_value(); }));
    BOOST_TEST(run->has_value());
    for (int i = 0; i != 10; ++i) {
        BOOST_TEST_CONTEXT("request " << i)
        {
            if (i <= 5)
                BOOST_TEST(o[i].holds(i * 2));
            else
                BOOST_TEST(o[i].is(dx::error::closed));
        }
    }
    BOOST_TEST(seen == (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

BOOST_AUTO_TEST_CASE(stop_from_inside_an_awaitable_handler)
{
    net::io_context io;
    std::vector<int> seen;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), slow_options());
    auto& client = ch.first;
    auto& responder = ch.second;
    std::array<outcome, 10> o;
    for (int i = 0; i != 10; ++i)
        client.async_request(i, record(o[i]));
    std::optional<dx::result<void>> run;
    responder.async_run(
        [&](int req) -> net::awaitable<int> {
            seen.push_back(req);
            if (req == 3) {
                responder.stop();
                // Still running after the stop: this result must be delivered.
                net::steady_timer t(co_await net::this_coro::executor, 5ms);
                co_await t.async_wait(net::use_awaitable);
            }
            co_return req * 2;
        },
        dx::fixed_concurrency{1}, [&](dx::result<void> r) { run.emplace(r); });
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o) && run.has_value(); }));
    BOOST_TEST(run->has_value());
    for (int i = 0; i != 10; ++i) {
        BOOST_TEST_CONTEXT("request " << i)
        {
            if (i <= 3)
                BOOST_TEST(o[i].holds(i * 2));
            else
                BOOST_TEST(o[i].is(dx::error::closed));
        }
    }
    BOOST_TEST(seen == (std::vector<int>{0, 1, 2, 3}));
}

BOOST_AUTO_TEST_CASE(stop_from_another_thread)
{
    constexpr int requests = 4000;
    net::io_context io;
    event ev;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), slow_options(32));
    auto& responder = ch.second;
    std::atomic<bool> run_done{false}, run_ok{false};
    responder.async_run(
        [](int req) -> net::awaitable<int> {
            // Give the strand away once, so that invocations interleave.
            co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
            co_return req * 2;
        },
        dx::fixed_concurrency{8}, [&](dx::result<void> r) {
            run_ok = r.has_value();
            run_done = true;
            ev.notify();
        });

    std::vector<std::atomic<int>> completions(requests);
    std::atomic<int> done{0}, values{0}, closed{0}, wrong{0};
    // Four client copies, each sending from a strand of its own.
    std::vector<client_type> copies(4, ch.first);
    { auto gone = std::move(ch.first); }
    for (int c = 0; c != 4; ++c) {
        net::post(net::make_strand(io), [&, c] {
            for (int i = c; i < requests; i += 4)
                copies[c].async_request(i, [&, i](dx::result<int> r) {
                    ++completions[i];
                    if (r.has_value())
                        ++(r.value() == i * 2 ? values : wrong);
                    else
                        ++(r.error() == dx::error::closed ? closed : wrong);
                    ++done;
                    ev.notify();
                });
        });
    }

    auto guard = net::make_work_guard(io);
    std::vector<std::thread> pool;
    for (int i = 0; i != 2; ++i)
        pool.emplace_back([&io] { io.run(); });
    // Stop from this thread once some requests were answered.
    const bool some = ev.wait_for([&] { return values >= requests / 8; }, 10s);
    responder.stop();
    // A request made after the stop, from this thread too, is closed.
    std::atomic<bool> after_closed{false}, after_done{false};
    copies[0].async_request(-1, [&](dx::result<int> r) {
        after_closed = !r.has_value() && r.error() == dx::error::closed;
        after_done = true;
        ev.notify();
    });
    const bool all = ev.wait_for([&] { return done == requests && run_done && after_done; }, 10s);
    guard.reset();
    io.stop();
    for (auto& t : pool)
        t.join();
    io.restart();
    io.poll();

    BOOST_TEST_REQUIRE(some);
    BOOST_TEST_REQUIRE(all);
    BOOST_TEST(run_ok);
    BOOST_TEST(after_closed);
    BOOST_TEST(wrong == 0);
    BOOST_TEST(values + closed == requests);
    BOOST_TEST(values >= requests / 8);
    BOOST_TEST(responder.stats().completed == std::uint64_t(values));
    BOOST_TEST(responder.stats().in_flight == 0u);
    for (int i = 0; i != requests; ++i)
        BOOST_TEST_REQUIRE(completions[i] == 1, "request " << i << " completed " << completions[i] << " times");
}

BOOST_AUTO_TEST_CASE(a_channel_runs_once)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), slow_options());
    auto& client = ch.first;
    auto& responder = ch.second;
    std::optional<dx::result<void>> first, during, after;
    responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{1}, [&](dx::result<void> r) { first.emplace(r); });
    outcome o;
    client.async_request(1, record(o));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 1; }));

    // A second run while the first one runs: invalid_argument, and the first goes on.
    responder.async_run(recording_handler(seen), dx::fixed_concurrency{1}, [&](dx::result<void> r) { during.emplace(r); });
    BOOST_TEST(!during.has_value());
    BOOST_TEST_REQUIRE(run_until(io, [&] { return during.has_value(); }));
    BOOST_TEST(code_of(*during) == code(dx::error::invalid_argument));
    BOOST_TEST(!first.has_value());

    responder.stop();
    g.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return first.has_value() && o.done(); }));
    BOOST_TEST(first->has_value());
    BOOST_TEST(o.holds(2));

    // Another one after the run ended: closed.
    responder.async_run(recording_handler(seen), dx::fixed_concurrency{1}, [&](dx::result<void> r) { after.emplace(r); });
    BOOST_TEST_REQUIRE(run_until(io, [&] { return after.has_value(); }));
    BOOST_TEST(code_of(*after) == code(dx::error::closed));
    BOOST_TEST(seen == std::vector<int>{1});
}

// stop() and a burst take meet: the responder took every queued request at
// once (a limit of 16), and the first handler stops it. The others were taken
// but not started: they are queued requests as far as stop() goes, complete
// with closed, and never reach the handler.
BOOST_AUTO_TEST_CASE(stop_inside_a_handler_closes_the_requests_taken_with_it_but_not_started)
{
    net::io_context io;
    std::vector<int> seen;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), slow_options());
    auto& client = ch.first;
    auto& responder = ch.second;
    std::array<outcome, 6> o;
    for (int i = 0; i != 6; ++i)
        client.async_request(i, record(o[std::size_t(i)]));
    std::optional<dx::result<void>> run;
    responder.async_run(
        [&](int req) {
            seen.push_back(req);
            if (req == 0)
                responder.stop();
            return req * 2;
        },
        dx::fixed_concurrency{16}, [&](dx::result<void> r) { run.emplace(r); });
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o) && run.has_value(); }));
    BOOST_TEST(run->has_value());
    BOOST_TEST(o[0].holds(0));
    for (std::size_t i = 1; i != 6; ++i)
        BOOST_TEST_CONTEXT("request " << i)
        BOOST_TEST(o[i].is(dx::error::closed));
    BOOST_TEST(seen == (std::vector<int>{0}));
}
