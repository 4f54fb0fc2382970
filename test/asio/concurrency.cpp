//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 7 (concurrency), Asio backend: no handler invocation starts while
// limit() or more are running; fixed_concurrency{n} holds the limit at n;
// dynamic_concurrency really moves it; a user limiter's on_complete is called
// once per invocation with its duration and ok == false for failures and
// requests whose deadline passed.

#define BOOST_TEST_MODULE asio_concurrency
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/duplex/asio.hpp>
#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/errc.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

using namespace duplex_test;

namespace {

using steady = std::chrono::steady_clock;

// Runs every handler that is ready now.
// Holds handler invocations until the test releases them, in any order.
class holds {
public:
    // Awaited by a handler: true once released, false when the wait was cancelled.
    net::awaitable<bool> hold(int id)
    {
        auto e = std::make_shared<entry>(co_await net::this_coro::executor);
        entries_[id] = e;
        co_await e->timer.async_wait(net::as_tuple(net::use_awaitable));
        e->done = true;
        co_return e->released;
    }

    std::size_t holding() const
    {
        return static_cast<std::size_t>(
            std::count_if(entries_.begin(), entries_.end(), [](auto& kv) { return !kv.second->done; }));
    }

    void release(int id)
    {
        auto& e = entries_.at(id);
        e->released = true;
        e->timer.cancel();
    }

    // Releases the holder with the smallest id still holding.
    void release_oldest()
    {
        for (auto& [id, e] : entries_)
            if (!e->done && !e->released) {
                release(id);
                return;
            }
        BOOST_FAIL("nothing to release");
    }

    void release_all()
    {
        for (auto& [id, e] : entries_)
            if (!e->done)
                release(id);
    }

private:
    struct entry {
        explicit entry(const net::any_io_executor& ex) : timer(ex, steady::time_point::max()) {}
        net::steady_timer timer;
        bool released = false;
        bool done = false;
    };
    std::map<int, std::shared_ptr<entry>> entries_;
};

// A user limiter; its state stays with the test.
struct limiter_state {
    std::size_t limit = 1;
    std::vector<std::pair<std::chrono::nanoseconds, bool>> calls;
};

struct test_limiter {
    std::shared_ptr<limiter_state> state;
    std::size_t limit() const { return state->limit; }
    void on_complete(std::chrono::nanoseconds latency, bool ok) { state->calls.emplace_back(latency, ok); }
};

static_assert(dx::concurrency_limiter<test_limiter>);
static_assert(dx::concurrency_strategy<test_limiter>);

}  // namespace

BOOST_AUTO_TEST_CASE(fixed_concurrency_never_exceeds_n_and_reaches_n)
{
    constexpr std::size_t n = 3;
    constexpr int total = 20;
    net::io_context ctx;
    holds h;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;

    std::size_t in_flight = 0, max_in_flight = 0;
    int started = 0;
    std::optional<dx::result<void>> run;
    responder.async_run(
        [&](int x) -> net::awaitable<int> {
            ++started;
            max_in_flight = std::max(max_in_flight, ++in_flight);
            co_await h.hold(x);
            --in_flight;
            co_return x * 2;
        },
        dx::fixed_concurrency{n}, [&](dx::result<void> r) { run.emplace(std::move(r)); });
    poll(ctx);
    BOOST_TEST(responder.stats().concurrency_limit == n);

    std::vector<std::optional<dx::result<int>>> results(total);
    int answered = 0;
    for (int i = 0; i < total; ++i)
        client.async_request(i, [&, i](dx::result<int> r) {
            results[static_cast<std::size_t>(i)].emplace(std::move(r));
            ++answered;
        });

    for (int round = 0; round < total; ++round) {
        const std::size_t expect = std::min<std::size_t>(n, static_cast<std::size_t>(total - round));
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return answered == round && in_flight == expect; }));
        poll(ctx);  // whatever is ready runs: still no more than n may have started
        BOOST_TEST(in_flight == expect);
        BOOST_TEST(started == round + static_cast<int>(expect));
        const auto st = responder.stats();
        BOOST_TEST(st.in_flight == expect);
        BOOST_TEST(st.queued == static_cast<std::size_t>(total - round) - expect);
        BOOST_TEST(st.concurrency_limit == n);
        h.release_oldest();
    }
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return answered == total; }));
    BOOST_TEST(max_in_flight == n);
    for (int i = 0; i < total; ++i) {
        auto& r = results[static_cast<std::size_t>(i)];
        BOOST_TEST_REQUIRE(r.has_value());
        BOOST_TEST_REQUIRE(r->has_value());
        BOOST_TEST(r->value() == i * 2);
    }
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
    BOOST_TEST(run->has_value());
    BOOST_TEST(responder.stats().completed == static_cast<std::uint64_t>(total));
}

BOOST_AUTO_TEST_CASE(fixed_concurrency_under_load_reaches_exactly_n)
{
    constexpr std::size_t n = 4;
    constexpr int total = 200;
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s, 1000));
    auto& client = ch.first;
    auto& responder = ch.second;

    std::size_t in_flight = 0, max_in_flight = 0;
    std::optional<dx::result<void>> run;
    responder.async_run(
        [&](int x) -> net::awaitable<int> {
            max_in_flight = std::max(max_in_flight, ++in_flight);
            net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(1 + x % 3));
            co_await t.async_wait(net::use_awaitable);
            --in_flight;
            co_return x + 1;
        },
        dx::fixed_concurrency{n}, [&](dx::result<void> r) { run.emplace(std::move(r)); });

    int answered = 0, right = 0;
    for (int i = 0; i < total; ++i)
        client.async_request(i, [&, i](dx::result<int> r) {
            ++answered;
            if (r.has_value() && r.value() == i + 1)
                ++right;
        });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return answered == total; }));
    BOOST_TEST(right == total);
    BOOST_TEST(max_in_flight <= n);
    BOOST_TEST(max_in_flight == n);
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
}

BOOST_AUTO_TEST_CASE(fixed_concurrency_zero_is_read_as_one)
{
    constexpr int total = 5;
    net::io_context ctx;
    holds h;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;

    std::size_t in_flight = 0, max_in_flight = 0;
    std::optional<dx::result<void>> run;
    responder.async_run(
        [&](int x) -> net::awaitable<int> {
            max_in_flight = std::max(max_in_flight, ++in_flight);
            co_await h.hold(x);
            --in_flight;
            co_return x;
        },
        dx::fixed_concurrency{0}, [&](dx::result<void> r) { run.emplace(std::move(r)); });
    int answered = 0;
    for (int i = 0; i < total; ++i)
        client.async_request(i, [&](dx::result<int> r) {
            BOOST_TEST(r.has_value());
            ++answered;
        });
    for (int round = 0; round < total; ++round) {
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return answered == round && in_flight == 1; }));
        poll(ctx);
        BOOST_TEST(in_flight == 1u);
        BOOST_TEST(responder.stats().concurrency_limit == 1u);
        h.release_oldest();
    }
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return answered == total; }));
    BOOST_TEST(max_in_flight == 1u);
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
}

// (a) A handler of constant small latency: the limit grows from `initial` towards `max`.
BOOST_AUTO_TEST_CASE(dynamic_concurrency_grows_under_constant_latency)
{
    dx::dynamic_concurrency strategy;
    strategy.initial = 2;
    strategy.max = 12;
    strategy.min = 1;
    constexpr int total = 2000;

    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s, total));
    auto& client = ch.first;
    auto& responder = ch.second;

    std::size_t in_flight = 0, max_in_flight = 0, max_limit = 0;
    int done = 0;
    std::optional<dx::result<void>> run;
    responder.async_run(
        [&](int x) -> net::awaitable<int> {
            max_in_flight = std::max(max_in_flight, ++in_flight);
            max_limit = std::max(max_limit, responder.stats().concurrency_limit);
            net::steady_timer t(co_await net::this_coro::executor, 20ms);
            co_await t.async_wait(net::use_awaitable);
            --in_flight;
            ++done;
            co_return x;
        },
        strategy, [&](dx::result<void> r) { run.emplace(std::move(r)); });
    poll(ctx);
    BOOST_TEST(responder.stats().concurrency_limit == 2u);

    int answered = 0;
    for (int i = 0; i < total; ++i)
        client.async_request(i, [&](dx::result<int>) { ++answered; });
    const bool grew = run_until(ctx, [&] { return max_limit >= strategy.initial + 3 || done == total; }, 10s);
    BOOST_TEST(grew);
    BOOST_TEST(max_limit >= strategy.initial + 3);
    BOOST_TEST(max_limit <= strategy.max);
    BOOST_TEST(max_in_flight <= strategy.max);
    BOOST_TEST_MESSAGE("dynamic growth: limit reached " << max_limit << " after " << done << " completions");

    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value() && answered == total; }));
    BOOST_TEST(run->has_value());
}

// (b) A handler modelling a resource of capacity 4: latency grows with the
// number in flight beyond 4. The limit backs off and stays below max.
BOOST_AUTO_TEST_CASE(dynamic_concurrency_backs_off_when_latency_grows_with_load)
{
    dx::dynamic_concurrency strategy;
    strategy.initial = 2;
    strategy.max = 16;
    strategy.min = 1;
    constexpr int total = 2000;
    constexpr int enough = 300;
    constexpr auto base = 4ms;

    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s, total));
    auto& client = ch.first;
    auto& responder = ch.second;

    std::size_t in_flight = 0, max_in_flight = 0, max_limit = 0;
    int done = 0;
    std::optional<dx::result<void>> run;
    responder.async_run(
        [&](int x) -> net::awaitable<int> {
            const std::size_t now_in = ++in_flight;
            max_in_flight = std::max(max_in_flight, now_in);
            max_limit = std::max(max_limit, responder.stats().concurrency_limit);
            const auto factor = static_cast<int>(std::max<std::size_t>(1, now_in > 3 ? now_in - 3 : 1));
            net::steady_timer t(co_await net::this_coro::executor, base * factor);
            co_await t.async_wait(net::use_awaitable);
            --in_flight;
            ++done;
            co_return x;
        },
        strategy, [&](dx::result<void> r) { run.emplace(std::move(r)); });

    int answered = 0;
    for (int i = 0; i < total; ++i)
        client.async_request(i, [&](dx::result<int>) { ++answered; });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return done >= enough; }, 20s));
    const std::size_t final_limit = responder.stats().concurrency_limit;
    BOOST_TEST_MESSAGE("dynamic backoff: final limit " << final_limit << ", highest " << max_limit
                                                       << ", most in flight " << max_in_flight);
    BOOST_TEST(final_limit < strategy.max);
    BOOST_TEST(max_limit < strategy.max);
    BOOST_TEST(final_limit >= 1u);

    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value() && answered == total; }));
}

BOOST_AUTO_TEST_CASE(dynamic_concurrency_initial_is_clamped_into_min_max)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& responder = ch.second;
    dx::dynamic_concurrency strategy;
    strategy.initial = 100;
    strategy.max = 6;
    strategy.min = 2;
    std::optional<dx::result<void>> run;
    responder.async_run([](int x) { return x; }, strategy, [&](dx::result<void> r) { run.emplace(std::move(r)); });
    poll(ctx);
    BOOST_TEST(responder.stats().concurrency_limit == 6u);
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
}

// on_complete once per invocation, ok == false for errors and exceptions,
// true for values, in the order handled (limit 1).
BOOST_AUTO_TEST_CASE(user_limiter_on_complete_once_per_invocation_with_ok)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;
    auto state = std::make_shared<limiter_state>();
    state->limit = 1;

    std::optional<dx::result<void>> run;
    responder.async_run(
        [](int x) -> dx::result<int> {
            if (x < 0)
                throw std::runtime_error("handler failure");
            if (x == 0)
                return boost::system::errc::make_error_code(boost::system::errc::permission_denied);
            return x;
        },
        test_limiter{state}, [&](dx::result<void> r) { run.emplace(std::move(r)); });

    const std::vector<int> requests{1, -1, 2, 0, 3, -2, 0};
    const std::vector<bool> expected_ok{true, false, true, false, true, false, false};
    int answered = 0;
    for (int x : requests)
        client.async_request(x, [&](dx::result<int>) { ++answered; });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return answered == static_cast<int>(requests.size()); }));
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));

    BOOST_TEST_REQUIRE(state->calls.size() == requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
        BOOST_TEST(state->calls[i].second == expected_ok[i], "call " << i);
        BOOST_TEST(state->calls[i].first.count() >= 0);
    }
    const auto st = responder.stats();
    BOOST_TEST(st.completed == 3u);
    BOOST_TEST(st.failed == 4u);
}

// An awaitable handler: latency is the invocation's duration; a request whose
// deadline passed before the handler ended gives ok == false (its late value
// is dropped); one that timed out while queued never reaches the handler and
// is not reported; a cancelled one is no failure.
BOOST_AUTO_TEST_CASE(user_limiter_sees_duration_and_late_requests_as_not_ok)
{
    net::io_context ctx;
    holds h;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;
    auto state = std::make_shared<limiter_state>();
    state->limit = 1;

    std::vector<int> handled;
    std::map<int, steady::time_point> started_at;
    std::optional<dx::result<void>> run;
    responder.async_run(
        [&](int x) -> net::awaitable<dx::result<int>> {
            handled.push_back(x);
            started_at[x] = steady::now();
            if (x >= 100)
                co_await h.hold(x);
            if (x == 7)
                throw std::logic_error("awaitable handler failure");
            co_return x;
        },
        test_limiter{state}, [&](dx::result<void> r) { run.emplace(std::move(r)); });

    // 100: held past its 150 ms deadline. 5: times out in the queue behind it.
    std::optional<dx::result<int>> r100, r5;
    const auto t0 = steady::now();
    client.async_request(100, 150ms, [&](dx::result<int> r) { r100.emplace(std::move(r)); });
    client.async_request(5, 50ms, [&](dx::result<int> r) { r5.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return r100.has_value() && r5.has_value(); }));
    BOOST_TEST(failed_with(*r100, dx::error::timeout));
    BOOST_TEST(failed_with(*r5, dx::error::timeout));
    BOOST_TEST(state->calls.empty());  // the handler of 100 still runs
    const auto released_at = steady::now();
    h.release(100);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return state->calls.size() == 1; }));
    const auto held_for = steady::now() - t0;
    BOOST_TEST(state->calls[0].second == false);
    BOOST_TEST((state->calls[0].first >= released_at - started_at.at(100)));  // its whole duration
    BOOST_TEST((released_at - t0 >= 150ms));
    BOOST_TEST((state->calls[0].first <= held_for));

    // 101: cancelled (terminal) while running: counts as ok.
    net::cancellation_signal sig;
    std::optional<dx::result<int>> r101;
    client.async_request(101, net::bind_cancellation_slot(sig.slot(), [&](dx::result<int> r) { r101.emplace(std::move(r)); }));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return h.holding() == 1; }));
    sig.emit(net::cancellation_type::terminal);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return r101.has_value() && state->calls.size() == 2; }));
    BOOST_TEST(failed_with(*r101, dx::error::cancelled));
    BOOST_TEST(state->calls[1].second == true);

    // 102: held 30 ms, then a value: ok, with at least that duration.
    std::optional<dx::result<int>> r102, r7, r8;
    const auto t102 = steady::now();
    client.async_request(102, [&](dx::result<int> r) { r102.emplace(std::move(r)); });
    client.async_request(7, [&](dx::result<int> r) { r7.emplace(std::move(r)); });
    client.async_request(8, [&](dx::result<int> r) { r8.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return h.holding() == 1; }));
    net::steady_timer wait(ctx, 30ms);
    bool waited = false;
    wait.async_wait([&](boost::system::error_code) { waited = true; });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return waited; }));
    h.release(102);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return r102 && r7 && r8; }));
    BOOST_TEST_REQUIRE(r102->has_value());
    BOOST_TEST(r102->value() == 102);
    BOOST_TEST(failed_with(*r7, dx::error::handler_failed));
    BOOST_TEST_REQUIRE(r8->has_value());
    BOOST_TEST(r8->value() == 8);

    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
    BOOST_TEST_REQUIRE(state->calls.size() == 5u);
    BOOST_TEST(state->calls[2].second == true);  // 102
    BOOST_TEST((state->calls[2].first >= 30ms));
    BOOST_TEST((state->calls[2].first <= steady::now() - t102));
    BOOST_TEST(state->calls[3].second == false);  // 7 threw
    BOOST_TEST(state->calls[4].second == true);   // 8
    const std::vector<int> expect_handled{100, 101, 102, 7, 8};
    BOOST_TEST(handled == expect_handled, boost::test_tools::per_element());
}

// The limiter's limit() is respected, and read again as it changes.
BOOST_AUTO_TEST_CASE(user_limiter_limit_is_respected_as_it_changes)
{
    constexpr int total = 12;
    net::io_context ctx;
    holds h;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;
    auto state = std::make_shared<limiter_state>();
    state->limit = 2;

    std::size_t in_flight = 0, max_in_flight = 0;
    int started = 0, ended = 0;
    std::optional<dx::result<void>> run;
    responder.async_run(
        [&](int x) -> net::awaitable<int> {
            ++started;
            max_in_flight = std::max(max_in_flight, ++in_flight);
            co_await h.hold(x);
            --in_flight;
            ++ended;
            co_return x;
        },
        test_limiter{state}, [&](dx::result<void> r) { run.emplace(std::move(r)); });
    int answered = 0;
    for (int i = 0; i < total; ++i)
        client.async_request(i, [&](dx::result<int> r) {
            BOOST_TEST(r.has_value());
            ++answered;
        });

    // Limit 2.
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return in_flight == 2; }));
    poll(ctx);
    BOOST_TEST(started == 2);
    BOOST_TEST(max_in_flight == 2u);
    BOOST_TEST(responder.stats().concurrency_limit == 2u);

    // Raised to 4: one ends, three start.
    state->limit = 4;
    h.release_oldest();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return ended == 1 && in_flight == 4; }));
    poll(ctx);
    BOOST_TEST(started == 5);
    BOOST_TEST(max_in_flight == 4u);
    BOOST_TEST(responder.stats().concurrency_limit == 4u);

    // Lowered to 1: the four running end, and then only one runs at a time.
    state->limit = 1;
    max_in_flight = 0;
    h.release_all();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return ended == 5 && in_flight == 1; }));
    poll(ctx);
    BOOST_TEST(started == 6);
    for (int round = 6; round < total; ++round) {
        h.release_oldest();
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return ended == round && in_flight == 1; }));
        poll(ctx);
        BOOST_TEST(started == round + 1);
    }
    h.release_oldest();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return answered == total; }));
    BOOST_TEST(max_in_flight == 1u);
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
    BOOST_TEST(state->calls.size() == static_cast<std::size_t>(total));
}
