//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 6, backpressure: at most `capacity` requests are queued; beyond
// that a request waits for room (overflow::wait, the wait counting against
// its deadline) or completes with error::queue_full (overflow::reject).
// Capacity 0 is a rendezvous: a request waits until the responder takes it.

#define BOOST_TEST_MODULE asio_backpressure
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/duplex/asio.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

using namespace duplex_test;

namespace {

using client_type = dx::asio_client<int, int>;
using responder_type = dx::asio_responder<int, int>;

dx::channel_options options(std::size_t capacity, dx::overflow on_full = dx::overflow::wait)
{
    dx::channel_options opts;
    opts.timeout = 30s;
    opts.capacity = capacity;
    opts.on_full = on_full;
    return opts;
}

struct load_result {
    bool finished = false;
    bool run_ok = false;
    int values = 0;
    int wrong = 0;
    int duplicates = 0;
    int missing = 0;
    std::size_t max_queued = 0;
};

// Sends `requests` requests at once from `copies` client copies (each on a
// strand of its own) to an awaitable handler with `limit` concurrency, on an
// io_context run by `threads` threads; stops the responder once all are
// answered. The handler and every completion sample stats().queued.
load_result run_load(dx::channel_options opts, int requests, int copies, int threads, std::size_t limit)
{
    net::io_context io;
    event ev;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& responder = ch.second;
    std::atomic<std::size_t> max_queued{0};
    auto sample = [&] {
        const std::size_t q = responder.stats().queued;
        std::size_t m = max_queued.load();
        while (q > m && !max_queued.compare_exchange_weak(m, q)) {
        }
    };
    std::atomic<bool> run_done{false}, run_ok{false};
    responder.async_run(
        [&sample](int req) -> net::awaitable<int> {
            sample();
            co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
            co_return req * 3 + 1;
        },
        dx::fixed_concurrency{limit}, [&](dx::result<void> r) {
            run_ok = r.has_value();
            run_done = true;
            ev.notify();
        });

    std::vector<std::atomic<int>> completions(requests);
    std::atomic<int> done{0}, values{0}, wrong{0};
    std::vector<client_type> clients(copies, ch.first);
    for (int c = 0; c != copies; ++c) {
        net::post(net::make_strand(io), [&, c] {
            for (int i = c; i < requests; i += copies)
                clients[c].async_request(i, [&, i](dx::result<int> r) {
                    sample();
                    ++completions[i];
                    ++(r.has_value() && r.value() == i * 3 + 1 ? values : wrong);
                    if (++done == requests)
                        responder.stop();
                    ev.notify();
                });
        });
    }

    load_result out;
    out.finished = run_threads_until(io, threads, ev, [&] { return done >= requests && run_done; }, 20s);
    out.run_ok = run_ok;
    out.values = values;
    out.wrong = wrong;
    for (auto& c : completions) {
        out.duplicates += c > 1;
        out.missing += c == 0;
    }
    out.max_queued = max_queued;
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(at_most_capacity_requests_are_queued_before_the_run_starts)
{
    net::io_context io;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), options(4));
    auto& client = ch.first;
    auto& responder = ch.second;
    std::array<outcome, 10> o;
    for (int i = 0; i != 10; ++i)
        client.async_request(i, record(o[i]));
    poll(io);
    BOOST_TEST(responder.stats().queued == 4u);
    for (auto& x : o)
        BOOST_TEST(!x.done());

    // As the handler takes them, the waiting ones move up: never more than 4 queued.
    std::vector<int> seen;
    std::size_t max_queued = 0;
    responder.async_run(
        [&](int req) {
            max_queued = std::max(max_queued, responder.stats().queued);
            seen.push_back(req);
            return req * 2;
        },
        dx::fixed_concurrency{1}, net::detached);
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o); }));
    for (int i = 0; i != 10; ++i)
        BOOST_TEST(o[i].holds(i * 2));
    BOOST_TEST(max_queued <= 4u);
    BOOST_TEST(seen == (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

BOOST_AUTO_TEST_CASE(at_most_capacity_requests_are_queued_behind_a_busy_responder)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), options(3));
    auto& client = ch.first;
    auto& responder = ch.second;
    responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{2}, net::detached);

    // 2 in flight, 3 queued, 5 waiting for room.
    std::array<outcome, 10> o;
    for (int i = 0; i != 10; ++i)
        client.async_request(i, record(o[i]));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 2; }));
    poll(io);
    BOOST_TEST(responder.stats().queued == 3u);
    for (auto& x : o)
        BOOST_TEST(!x.done());

    g.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o); }));
    for (int i = 0; i != 10; ++i)
        BOOST_TEST(o[i].holds(i * 2));
    BOOST_TEST(seen.size() == 10u);
}

BOOST_AUTO_TEST_CASE(waiting_for_room_counts_against_the_deadline)
{
    net::io_context io;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), options(2));
    auto& client = ch.first;
    auto& responder = ch.second;

    // The queue is full (no run yet); 3 waits for room with a short deadline,
    // 4 with the default one.
    std::array<outcome, 2> queued;
    outcome short_wait, long_wait;
    client.async_request(1, record(queued[0]));
    client.async_request(2, record(queued[1]));
    client.async_request(3, 100ms, record(short_wait));
    client.async_request(4, record(long_wait));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return short_wait.done(); }));
    BOOST_TEST(short_wait.is(dx::error::timeout));
    BOOST_TEST(short_wait.elapsed() >= 100ms);
    BOOST_TEST(short_wait.elapsed() < 100ms + 2s);
    BOOST_TEST(responder.stats().queued == 2u);
    BOOST_TEST(!queued[0].done());
    BOOST_TEST(!queued[1].done());
    BOOST_TEST(!long_wait.done());

    std::vector<int> seen;
    responder.async_run(recording_handler(seen), dx::fixed_concurrency{1}, net::detached);
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(queued) && long_wait.done(); }));
    BOOST_TEST(queued[0].holds(2));
    BOOST_TEST(queued[1].holds(4));
    BOOST_TEST(long_wait.holds(8));
    BOOST_TEST(seen == (std::vector<int>{1, 2, 4}));
    BOOST_TEST(responder.stats().timed_out == 1u);
}

BOOST_AUTO_TEST_CASE(overflow_reject_completes_with_queue_full)
{
    net::io_context io;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), options(3, dx::overflow::reject));
    auto& client = ch.first;
    auto& responder = ch.second;

    std::array<outcome, 5> o;
    for (int i = 0; i != 5; ++i)
        client.async_request(i, record(o[i]));
    BOOST_TEST(!o[3].done());  // never inside the initiating function
    BOOST_TEST_REQUIRE(run_until(io, [&] { return o[3].done() && o[4].done(); }));
    BOOST_TEST(o[3].is(dx::error::queue_full));
    BOOST_TEST(o[4].is(dx::error::queue_full));
    BOOST_TEST(o[3].elapsed() < 1s);
    BOOST_TEST(!o[0].done());
    BOOST_TEST(!o[1].done());
    BOOST_TEST(!o[2].done());
    auto st = responder.stats();
    BOOST_TEST(st.queued == 3u);
    // queue_full is counted in none of the totals.
    BOOST_TEST(st.completed + st.failed + st.timed_out + st.cancelled == 0u);

    std::vector<int> seen;
    responder.async_run(recording_handler(seen), dx::fixed_concurrency{1}, net::detached);
    BOOST_TEST_REQUIRE(run_until(io, [&] { return o[0].done() && o[1].done() && o[2].done(); }));
    for (int i = 0; i != 3; ++i)
        BOOST_TEST(o[i].holds(i * 2));

    // There is room again.
    outcome again;
    client.async_request(7, record(again));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return again.done(); }));
    BOOST_TEST(again.holds(14));
    BOOST_TEST(seen == (std::vector<int>{0, 1, 2, 7}));
}

BOOST_AUTO_TEST_CASE(overflow_reject_behind_a_busy_responder)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), options(1, dx::overflow::reject));
    auto& client = ch.first;
    auto& responder = ch.second;
    responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{1}, net::detached);

    outcome running, queued, rejected;
    client.async_request(1, record(running));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 1; }));
    client.async_request(2, record(queued));
    client.async_request(3, record(rejected));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return rejected.done(); }));
    BOOST_TEST(rejected.is(dx::error::queue_full));
    BOOST_TEST(!queued.done());

    g.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return running.done() && queued.done(); }));
    BOOST_TEST(running.holds(2));
    BOOST_TEST(queued.holds(4));
    BOOST_TEST(seen == (std::vector<int>{1, 2}));
}

// The responder may find a queued request expired before the timer does
// (here: a synchronous handler that takes 50 ms, by sleeping, keeps the one
// thread from running the timer while a 20 ms deadline passes). Dropping
// that request must give its place in the queue back exactly once: the
// queue must still count what it holds, and accept new requests.
BOOST_AUTO_TEST_CASE(the_queue_keeps_its_room_when_the_responder_finds_an_expired_request)
{
    for (dx::overflow on_full : {dx::overflow::reject, dx::overflow::wait}) {
        BOOST_TEST_CONTEXT((on_full == dx::overflow::reject ? "overflow::reject" : "overflow::wait"))
        {
            net::io_context io;
            auto ch = dx::make_asio_channel<int, int>(io.get_executor(), options(2, on_full));
            auto& client = ch.first;
            auto& responder = ch.second;
            outcome slow, expiring;
            client.async_request(1, record(slow));
            client.async_request(2, 20ms, record(expiring));
            std::vector<int> seen;
            responder.async_run(
                [&seen](int req) {
                    seen.push_back(req);
                    if (req == 1)
                        std::this_thread::sleep_for(50ms);
                    return req * 2;
                },
                dx::fixed_concurrency{1}, net::detached);
            BOOST_TEST_REQUIRE(run_until(io, [&] { return slow.done() && expiring.done(); }));
            BOOST_TEST(slow.holds(2));
            BOOST_TEST(expiring.is(dx::error::timeout));
            BOOST_TEST(responder.stats().queued == 0u);

            // The queue is empty: two new requests fit and are served.
            std::array<outcome, 2> again;
            for (int i = 0; i != 2; ++i)
                client.async_request(10 + i, record(again[i]));
            BOOST_TEST(responder.stats().queued <= 2u);
            BOOST_TEST(run_until(io, [&] { return all_done(again); }, 2s));
            for (int i = 0; i != 2; ++i)
                BOOST_TEST(again[i].holds((10 + i) * 2));
            BOOST_TEST(responder.stats().queued == 0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(capacity_zero_waits_for_the_responder)
{
    net::io_context io;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), options(0));
    auto& client = ch.first;
    auto& responder = ch.second;

    // No run: nothing can be handed over, so nothing is queued; all wait.
    std::array<outcome, 5> o;
    for (int i = 0; i != 5; ++i)
        client.async_request(i, record(o[i]));
    poll(io);
    BOOST_TEST(responder.stats().queued == 0u);
    for (auto& x : o)
        BOOST_TEST(!x.done());

    std::vector<int> seen;
    responder.async_run(recording_handler(seen), dx::fixed_concurrency{2}, net::detached);
    BOOST_TEST_REQUIRE(run_until(io, [&] { return all_done(o); }));
    for (int i = 0; i != 5; ++i)
        BOOST_TEST(o[i].holds(i * 2));
    BOOST_TEST(seen.size() == 5u);
}

BOOST_AUTO_TEST_CASE(capacity_zero_with_reject_accepts_only_what_the_responder_takes_now)
{
    net::io_context io;
    gate g;
    std::vector<int> seen;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), options(0, dx::overflow::reject));
    auto& client = ch.first;
    auto& responder = ch.second;

    // No run: nobody to hand a request to.
    outcome before;
    client.async_request(1, record(before));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return before.done(); }));
    BOOST_TEST(before.is(dx::error::queue_full));

    // An idle responder with room for one invocation takes one request.
    responder.async_run(gated_handler(g, seen), dx::fixed_concurrency{1}, net::detached);
    poll(io);
    outcome taken;
    client.async_request(2, record(taken));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return responder.stats().in_flight == 1; }));

    // Now it is at its limit: the next one is rejected.
    outcome busy;
    client.async_request(3, record(busy));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return busy.done(); }));
    BOOST_TEST(busy.is(dx::error::queue_full));
    BOOST_TEST(!taken.done());

    g.open();
    BOOST_TEST_REQUIRE(run_until(io, [&] { return taken.done(); }));
    BOOST_TEST(taken.holds(4));
    BOOST_TEST(seen == std::vector<int>{2});
}

BOOST_AUTO_TEST_CASE(capacity_zero_rendezvous_under_load)
{
    const auto r = run_load(options(0), 4000, 8, 4, 4);
    BOOST_TEST_REQUIRE(r.finished);
    BOOST_TEST(r.run_ok);
    BOOST_TEST(r.values == 4000);
    BOOST_TEST(r.wrong == 0);
    BOOST_TEST(r.duplicates == 0);
    BOOST_TEST(r.missing == 0);
}

BOOST_AUTO_TEST_CASE(at_most_capacity_requests_are_queued_under_load)
{
    const auto r = run_load(options(8), 4000, 8, 4, 4);
    BOOST_TEST_REQUIRE(r.finished);
    BOOST_TEST(r.run_ok);
    BOOST_TEST(r.values == 4000);
    BOOST_TEST(r.wrong == 0);
    BOOST_TEST(r.duplicates == 0);
    BOOST_TEST(r.missing == 0);
    BOOST_TEST(r.max_queued <= 8u);
    BOOST_TEST(r.max_queued > 0u);  // the load really did fill the queue
}
