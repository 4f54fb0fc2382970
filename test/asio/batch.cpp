//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Batches, Asio backend: async_request_batch (fail-fast, at most `concurrency`
// outstanding, whole-batch timeout) and async_request_batch_settled, over
// every kind of range, and their cancellation.

#define BOOST_TEST_MODULE asio_batch
#include <boost/test/unit_test.hpp>

#include "common.hpp"
#include "../lazy_range.hpp"

#include <boost/duplex/asio.hpp>
#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/errc.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <iterator>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <ranges>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace duplex_test;

namespace {

using steady = std::chrono::steady_clock;

boost::system::error_code permission_denied()
{
    return boost::system::errc::make_error_code(boost::system::errc::permission_denied);
}

// Holds handler invocations until released (or their wait is cancelled).
class holds {
public:
    // true once released, false when cancelled
    net::awaitable<bool> hold(int id)
    {
        auto e = std::make_shared<entry>(co_await net::this_coro::executor);
        entries_[id] = e;
        co_await e->timer.async_wait(net::as_tuple(net::use_awaitable));
        e->done = true;
        co_return e->released;
    }

    bool holding(int id) const
    {
        auto it = entries_.find(id);
        return it != entries_.end() && !it->second->done;
    }

    std::size_t holding() const
    {
        std::size_t n = 0;
        for (auto& [id, e] : entries_)
            n += e->done ? 0 : 1;
        return n;
    }

    std::vector<int> holding_ids() const
    {
        std::vector<int> ids;
        for (auto& [id, e] : entries_)
            if (!e->done)
                ids.push_back(id);
        return ids;
    }

    void release(int id)
    {
        auto& e = entries_.at(id);
        e->released = true;
        e->timer.cancel();
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

std::vector<int> iota_vector(int n)
{
    std::vector<int> v;
    for (int i = 0; i < n; ++i)
        v.push_back(i);
    return v;
}

using client_t = dx::asio_client<int, int>;
using responder_t = dx::asio_responder<int, int>;
using batch_result = dx::result<std::vector<int>>;
using settled_result = std::vector<dx::result<int>>;

// A responder whose coroutine handler logs each request, then holds those >= 0
// until released (cancellable) and answers x * 10; x == -1 fails with
// permission_denied, x == -2 throws, both after one suspension.
struct holding_channel {
    holding_channel(net::io_context& ctx, std::size_t limit, dx::channel_options opts = options(30s))
        : ch(dx::make_asio_channel<int, int>(ctx.get_executor(), opts))
    {
        ch.second.async_run(
            [this](int x) -> net::awaitable<dx::result<int>> {
                handled.push_back(x);
                max_in_flight = std::max(max_in_flight, ++in_flight);
                if (x < 0) {
                    co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
                    --in_flight;
                    if (x == -2)
                        throw std::runtime_error("handler failure");
                    co_return permission_denied();
                }
                const bool released = co_await h.hold(x);
                --in_flight;
                if (!released)
                    cancelled.push_back(x);
                co_return x * 10;
            },
            dx::fixed_concurrency{limit}, [this](dx::result<void> r) { run.emplace(std::move(r)); });
    }
    client_t& client() { return ch.first; }
    responder_t& responder() { return ch.second; }
    void finish(net::io_context& ctx)
    {
        responder().stop();
        h.release_all();
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
        BOOST_TEST(run->has_value());
    }

    holds h;
    std::pair<client_t, responder_t> ch;
    std::vector<int> handled, cancelled;
    std::size_t in_flight = 0, max_in_flight = 0;
    std::optional<dx::result<void>> run;
};

}  // namespace

// ---- fail-fast --------------------------------------------------------------

// Requests 0 and 1 run (limit 2), 2..5 are queued in the channel, 6..9 not yet
// sent (concurrency 6). 1 fails: the batch completes with its error at once,
// 0 is cancelled terminally (its handler hears of it), 2..5 never reach the
// handler and 6..9 are never sent.
BOOST_AUTO_TEST_CASE(fail_fast_first_error_completes_batch_and_cancels_the_others)
{
    net::io_context ctx;
    holding_channel c(ctx, 2);
    std::vector<int> reqs{0, -1, 2, 3, 4, 5, 6, 7, 8, 9};
    std::optional<batch_result> batch;
    c.client().async_request_batch(reqs, 6, [&](batch_result r) { batch.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return batch.has_value(); }));
    BOOST_TEST_REQUIRE(!batch->has_value());
    BOOST_TEST(batch->error() == permission_denied());
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.cancelled.size() == 1; }));
    BOOST_TEST((c.cancelled == std::vector<int>{0}));  // the terminal cancellation reached the handler
    poll(ctx);
    BOOST_TEST((c.handled == std::vector<int>{0, -1}));
    const auto st = c.responder().stats();
    BOOST_TEST(st.queued == 0u);
    BOOST_TEST(st.failed == 1u);
    BOOST_TEST(st.cancelled == 5u);  // 0 (in flight) and 2..5 (queued)
    BOOST_TEST(st.completed == 0u);
    c.finish(ctx);
}

// The batch completes with the first error even while other requests are
// still held by handlers that ignore nothing: a throw gives handler_failed.
BOOST_AUTO_TEST_CASE(fail_fast_with_a_throwing_handler_gives_handler_failed)
{
    net::io_context ctx;
    holding_channel c(ctx, 8);
    std::optional<batch_result> batch;
    c.client().async_request_batch(std::vector<int>{1, 2, -2, 3}, 4, [&](batch_result r) { batch.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return batch.has_value(); }));
    BOOST_TEST(failed_with(*batch, dx::error::handler_failed));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.h.holding() == 0; }));
    std::sort(c.cancelled.begin(), c.cancelled.end());
    BOOST_TEST((c.cancelled == std::vector<int>{1, 2, 3}));
    c.finish(ctx);
}

// When every request succeeds, the values come back (in order).
BOOST_AUTO_TEST_CASE(fail_fast_batch_of_successes_gives_every_value)
{
    net::io_context ctx;
    holding_channel c(ctx, 4);
    std::optional<batch_result> batch;
    c.client().async_request_batch(iota_vector(6), 3, [&](batch_result r) { batch.emplace(std::move(r)); });
    while (!batch) {
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return batch.has_value() || c.h.holding() > 0; }));
        c.h.release_all();
        poll(ctx);
    }
    BOOST_TEST_REQUIRE(batch->has_value());
    BOOST_TEST((batch->value() == std::vector<int>{0, 10, 20, 30, 40, 50}));
    c.finish(ctx);
}

// ---- concurrency ------------------------------------------------------------

namespace {

template <bool Settled>
void at_most_concurrency_outstanding(std::size_t concurrency)
{
    constexpr int n = 20;
    net::io_context ctx;
    holding_channel c(ctx, 16);
    std::optional<batch_result> batch;
    std::optional<settled_result> settled;
    if constexpr (Settled)
        c.client().async_request_batch_settled(iota_vector(n), concurrency, [&](settled_result r) { settled.emplace(std::move(r)); });
    else
        c.client().async_request_batch(iota_vector(n), concurrency, [&](batch_result r) { batch.emplace(std::move(r)); });

    for (int round = 0; round < n; ++round) {
        const auto expect = std::min<std::size_t>(concurrency, static_cast<std::size_t>(n - round));
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.h.holding() == expect && c.handled.size() == static_cast<std::size_t>(round) + expect; }));
        poll(ctx);
        BOOST_TEST(c.h.holding() == expect);
        BOOST_TEST(c.responder().stats().queued == 0u);  // the batch sends no more than it may have outstanding
        // release the newest one: the order of ends does not matter
        c.h.release(c.h.holding_ids().back());
    }
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return batch.has_value() || settled.has_value(); }));
    BOOST_TEST(c.max_in_flight == concurrency);
    if constexpr (Settled) {
        BOOST_TEST_REQUIRE(settled->size() == static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i)
            BOOST_TEST(holds_value((*settled)[static_cast<std::size_t>(i)], i * 10));
    } else {
        BOOST_TEST_REQUIRE(batch->has_value());
        for (int i = 0; i < n; ++i)
            BOOST_TEST(batch->value()[static_cast<std::size_t>(i)] == i * 10);
    }
    c.finish(ctx);
}

}  // namespace

BOOST_AUTO_TEST_CASE(at_most_concurrency_requests_outstanding)
{
    at_most_concurrency_outstanding<false>(1);
    at_most_concurrency_outstanding<false>(3);
    at_most_concurrency_outstanding<true>(2);
    at_most_concurrency_outstanding<true>(7);
}

// Concurrency above the batch size: everything is sent at once.
BOOST_AUTO_TEST_CASE(concurrency_larger_than_batch_sends_everything)
{
    net::io_context ctx;
    holding_channel c(ctx, 16);
    std::optional<batch_result> batch;
    c.client().async_request_batch(iota_vector(5), 100, [&](batch_result r) { batch.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.h.holding() == 5; }));
    c.h.release_all();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return batch.has_value(); }));
    BOOST_TEST((batch->value() == std::vector<int>{0, 10, 20, 30, 40}));
    c.finish(ctx);
}

// ---- whole-batch timeout ------------------------------------------------------

BOOST_AUTO_TEST_CASE(batch_timeout_bounds_the_whole_batch_while_requests_hang)
{
    net::io_context ctx;
    holding_channel c(ctx, 8);  // per-request default: 30 s
    std::optional<batch_result> batch;
    const auto t0 = steady::now();
    c.client().async_request_batch(iota_vector(5), 5, 100ms, [&](batch_result r) { batch.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return batch.has_value(); }));
    const auto took = steady::now() - t0;
    BOOST_TEST(failed_with(*batch, dx::error::timeout));
    BOOST_TEST((took >= 100ms));
    BOOST_TEST((took < 5s));
    BOOST_TEST(c.responder().stats().timed_out >= 1u);
    c.finish(ctx);
}

// Each request alone is quicker than the batch timeout, but not all of them
// one after another: the batch times out.
BOOST_AUTO_TEST_CASE(batch_timeout_counts_from_the_start_of_the_batch)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    std::vector<int> handled;
    std::optional<dx::result<void>> run;
    ch.second.async_run(
        [&](int x) -> net::awaitable<int> {
            handled.push_back(x);
            net::steady_timer t(co_await net::this_coro::executor, 60ms);
            co_await t.async_wait(net::as_tuple(net::use_awaitable));
            co_return x;
        },
        dx::fixed_concurrency{4}, [&](dx::result<void> r) { run.emplace(std::move(r)); });

    std::optional<batch_result> batch;
    const auto t0 = steady::now();
    ch.first.async_request_batch(iota_vector(5), 1, 150ms, [&](batch_result r) { batch.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return batch.has_value(); }));
    const auto took = steady::now() - t0;
    BOOST_TEST(failed_with(*batch, dx::error::timeout));
    BOOST_TEST((took >= 150ms));
    BOOST_TEST((took < 5s));
    BOOST_TEST(handled.size() <= 3u);  // request 3 could not start before 180 ms, past the deadline

    // A generous timeout lets the same batch through.
    std::optional<batch_result> ok;
    ch.first.async_request_batch(iota_vector(3), 3, 10s, [&](batch_result r) { ok.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return ok.has_value(); }));
    BOOST_TEST_REQUIRE(ok->has_value());
    BOOST_TEST((ok->value() == std::vector<int>{0, 1, 2}));

    ch.second.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
}

// ---- settled ----------------------------------------------------------------

// Every request settles, in input order: values, the handler's own errors,
// exceptions and timeouts (the channel's default timeout: 1 s).
BOOST_AUTO_TEST_CASE(settled_batch_every_request_settles_in_order)
{
    net::io_context ctx;
    holding_channel c(ctx, 8, options(1s));
    std::optional<settled_result> settled;
    // 7 is held past its deadline; the others end as soon as released.
    const std::vector<int> reqs{1, -1, 2, -2, 7, 3};
    c.client().async_request_batch_settled(reqs, 6, [&](settled_result r) { settled.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.h.holding() == 4; }));
    c.h.release(3);
    c.h.release(1);
    c.h.release(2);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return settled.has_value(); }));
    BOOST_TEST_REQUIRE(settled->size() == reqs.size());
    const auto& s = *settled;
    BOOST_TEST(holds_value(s[0], 10));
    BOOST_TEST_REQUIRE(!s[1].has_value());
    BOOST_TEST(s[1].error() == permission_denied());
    BOOST_TEST(holds_value(s[2], 20));
    BOOST_TEST(failed_with(s[3], dx::error::handler_failed));
    BOOST_TEST(failed_with(s[4], dx::error::timeout));
    BOOST_TEST(holds_value(s[5], 30));
    c.finish(ctx);
}

// ---- degenerate batches --------------------------------------------------------

BOOST_AUTO_TEST_CASE(concurrency_zero_is_invalid_argument)
{
    net::io_context ctx;
    holding_channel c(ctx, 4);
    std::optional<batch_result> b1, b2;
    std::optional<settled_result> s1;
    const std::vector<int> reqs{1, 2, 3};
    c.client().async_request_batch(reqs, 0, [&](batch_result r) { b1.emplace(std::move(r)); });
    c.client().async_request_batch(reqs, 0, 10s, [&](batch_result r) { b2.emplace(std::move(r)); });
    c.client().async_request_batch_settled(reqs, 0, [&](settled_result r) { s1.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return b1 && b2 && s1; }));
    BOOST_TEST(failed_with(*b1, dx::error::invalid_argument));
    BOOST_TEST(failed_with(*b2, dx::error::invalid_argument));
    BOOST_TEST_REQUIRE(s1->size() == 3u);
    for (auto& r : *s1)
        BOOST_TEST(failed_with(r, dx::error::invalid_argument));
    poll(ctx);
    BOOST_TEST(c.handled.empty());
    c.finish(ctx);
}

BOOST_AUTO_TEST_CASE(empty_batch_is_an_empty_success)
{
    net::io_context ctx;
    holding_channel c(ctx, 4);
    std::optional<batch_result> b1, b2, b3;
    std::optional<settled_result> s1;
    c.client().async_request_batch(std::vector<int>{}, 4, [&](batch_result r) { b1.emplace(std::move(r)); });
    c.client().async_request_batch(std::vector<int>{}, 4, 10s, [&](batch_result r) { b2.emplace(std::move(r)); });
    c.client().async_request_batch(std::list<int>{}, 0, [&](batch_result r) { b3.emplace(std::move(r)); });
    c.client().async_request_batch_settled(std::vector<int>{}, 4, [&](settled_result r) { s1.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return b1 && b2 && b3 && s1; }));
    BOOST_TEST_REQUIRE(b1->has_value());
    BOOST_TEST(b1->value().empty());
    BOOST_TEST_REQUIRE(b2->has_value());
    BOOST_TEST(b2->value().empty());
    // An empty batch with concurrency 0: either reading is defensible; it must complete.
    BOOST_TEST_MESSAGE("empty batch with concurrency 0: " << (b3->has_value() ? "success" : b3->error().message()));
    BOOST_TEST(s1->empty());
    c.finish(ctx);
}

// ---- ranges -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(rvalue_range_of_move_only_requests)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<std::unique_ptr<int>, int>(ctx.get_executor(), options(30s));
    std::optional<dx::result<void>> run;
    ch.second.async_run([](std::unique_ptr<int> p) { return p ? *p * 2 : -1; }, dx::fixed_concurrency{2},
                        [&](dx::result<void> r) { run.emplace(std::move(r)); });
    std::vector<std::unique_ptr<int>> reqs;
    for (int i = 1; i <= 5; ++i)
        reqs.push_back(std::make_unique<int>(i));
    std::optional<batch_result> batch;
    ch.first.async_request_batch(std::move(reqs), 2, [&](batch_result r) { batch.emplace(std::move(r)); });

    std::vector<std::unique_ptr<int>> reqs2;
    reqs2.push_back(std::make_unique<int>(10));
    reqs2.push_back(nullptr);
    std::optional<settled_result> settled;
    ch.first.async_request_batch_settled(std::move(reqs2), 1, [&](settled_result r) { settled.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return batch && settled; }));
    BOOST_TEST_REQUIRE(batch->has_value());
    BOOST_TEST((batch->value() == std::vector<int>{2, 4, 6, 8, 10}));
    BOOST_TEST_REQUIRE(settled->size() == 2u);
    BOOST_TEST(holds_value((*settled)[0], 20));
    BOOST_TEST(holds_value((*settled)[1], -1));
    ch.second.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
}

namespace {

// Runs `x -> x * 10` over `range` (forwarded as given) and returns the batch's result.
template <class Range>
batch_result run_batch(Range&& range, std::size_t concurrency)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    std::optional<dx::result<void>> run;
    ch.second.async_run([](int x) { return x * 10; }, dx::fixed_concurrency{2},
                        [&](dx::result<void> r) { run.emplace(std::move(r)); });
    std::optional<batch_result> batch;
    ch.first.async_request_batch(std::forward<Range>(range), concurrency, [&](batch_result r) { batch.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return batch.has_value(); }));
    ch.second.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
    return std::move(*batch);
}

template <class Range>
settled_result run_settled(Range&& range, std::size_t concurrency)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    std::optional<dx::result<void>> run;
    ch.second.async_run([](int x) { return x * 10; }, dx::fixed_concurrency{2},
                        [&](dx::result<void> r) { run.emplace(std::move(r)); });
    std::optional<settled_result> settled;
    ch.first.async_request_batch_settled(std::forward<Range>(range), concurrency,
                                         [&](settled_result r) { settled.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return settled.has_value(); }));
    ch.second.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
    return std::move(*settled);
}

void check_values(const batch_result& r, const std::vector<int>& expect)
{
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r.value() == expect, boost::test_tools::per_element());
}

}  // namespace

BOOST_AUTO_TEST_CASE(lvalue_vector_is_read_not_consumed)
{
    std::vector<int> v{1, 2, 3, 4};
    check_values(run_batch(v, 2), {10, 20, 30, 40});
    BOOST_TEST((v == std::vector<int>{1, 2, 3, 4}));
    const std::vector<int> cv{5, 6};
    check_values(run_batch(cv, 1), {50, 60});
    auto s = run_settled(v, 3);
    BOOST_TEST_REQUIRE(s.size() == 4u);
    BOOST_TEST(holds_value(s[3], 40));
}

BOOST_AUTO_TEST_CASE(std_list_lvalue_and_rvalue)
{
    std::list<int> l{3, 1, 2};
    check_values(run_batch(l, 2), {30, 10, 20});
    BOOST_TEST(l.size() == 3u);
    check_values(run_batch(std::list<int>{7, 8}, 5), {70, 80});
    auto s = run_settled(std::list<int>{9}, 1);
    BOOST_TEST_REQUIRE(s.size() == 1u);
    BOOST_TEST(holds_value(s[0], 90));
}

namespace {

// A forward range of unknown size (its end is a sentinel of its own type):
// the even numbers below `limit`.
struct evens_below {
    int limit;

    struct sentinel {};
    struct iterator {
        using iterator_concept = std::forward_iterator_tag;
        using iterator_category = std::forward_iterator_tag;
        using value_type = int;
        using difference_type = std::ptrdiff_t;
        using reference = int;

        int v = 0;
        int limit = 0;

        int operator*() const { return v; }
        iterator& operator++()
        {
            v += 2;
            return *this;
        }
        iterator operator++(int)
        {
            auto old = *this;
            ++*this;
            return old;
        }
        bool operator==(const iterator& o) const { return v == o.v; }
        bool operator==(sentinel) const { return v >= limit; }
    };

    iterator begin() const { return iterator{0, limit}; }
    sentinel end() const { return {}; }
};

static_assert(std::ranges::forward_range<evens_below>);
static_assert(!std::ranges::sized_range<evens_below>);

// A single-pass input range: reading it consumes a queue.
class single_pass {
public:
    explicit single_pass(std::vector<int> v) : left_(std::move(v)) {}

    struct iterator {
        using iterator_concept = std::input_iterator_tag;
        using value_type = int;
        using difference_type = std::ptrdiff_t;

        single_pass* src = nullptr;

        int operator*() const { return src->left_[src->next_]; }
        iterator& operator++()
        {
            ++src->next_;
            return *this;
        }
        void operator++(int) { ++*this; }
        bool operator==(std::default_sentinel_t) const { return src->next_ == src->left_.size(); }
    };

    iterator begin() { return iterator{this}; }
    std::default_sentinel_t end() { return {}; }

private:
    std::vector<int> left_;
    std::size_t next_ = 0;
};

static_assert(std::ranges::input_range<single_pass>);
static_assert(!std::ranges::forward_range<single_pass>);

}  // namespace

BOOST_AUTO_TEST_CASE(non_sized_forward_range)
{
    evens_below evens{10};
    check_values(run_batch(evens, 2), {0, 20, 40, 60, 80});  // lvalue
    check_values(run_batch(evens_below{5}, 1), {0, 20, 40});  // rvalue
    auto s = run_settled(evens_below{3}, 2);
    BOOST_TEST_REQUIRE(s.size() == 2u);
    BOOST_TEST(holds_value(s[1], 20));
}

BOOST_AUTO_TEST_CASE(single_pass_input_range)
{
    single_pass lvalue(std::vector<int>{4, 5, 6});
    check_values(run_batch(lvalue, 2), {40, 50, 60});
    check_values(run_batch(single_pass(std::vector<int>{7, 8}), 1), {70, 80});
}

// The standard views (clang 14 cannot compile libstdc++ 12's <ranges> views).
#if !defined(__clang__) || __clang_major__ >= 15
BOOST_AUTO_TEST_CASE(standard_views)
{
    auto evens = std::views::iota(0, 10) | std::views::filter([](int x) { return x % 2 == 0; });
    static_assert(!std::ranges::sized_range<decltype(evens)>);
    check_values(run_batch(evens, 2), {0, 20, 40, 60, 80});  // lvalue view
    check_values(run_batch(std::views::iota(1, 4) | std::views::filter([](int x) { return x != 2; }), 1),
                 {10, 30});  // rvalue view
    auto s = run_settled(std::views::iota(0, 3) | std::views::transform([](int x) { return x + 1; }), 2);
    BOOST_TEST_REQUIRE(s.size() == 3u);
    BOOST_TEST(holds_value(s[2], 30));

    std::istringstream in("4 5 6");
    auto view = std::views::istream<int>(in);
    static_assert(!std::ranges::forward_range<decltype(view)>);
    check_values(run_batch(view, 2), {40, 50, 60});
    std::istringstream in2("7 8");
    check_values(run_batch(std::views::istream<int>(in2), 1), {70, 80});
}
#endif

// Elements need only convert to Request.
BOOST_AUTO_TEST_CASE(elements_converting_to_request)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<std::string, std::size_t>(ctx.get_executor(), options(30s));
    std::optional<dx::result<void>> run;
    ch.second.async_run([](std::string s) { return s.size(); }, dx::fixed_concurrency{2},
                        [&](dx::result<void> r) { run.emplace(std::move(r)); });
    std::vector<const char*> words{"a", "bcd", "ef"};
    std::optional<dx::result<std::vector<std::size_t>>> batch;
    ch.first.async_request_batch(words, 2, [&](dx::result<std::vector<std::size_t>> r) { batch.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return batch.has_value(); }));
    BOOST_TEST_REQUIRE(batch->has_value());
    BOOST_TEST((batch->value() == std::vector<std::size_t>{1, 3, 2}));
    ch.second.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
}

// ---- cancellation ---------------------------------------------------------------

// Terminal: the batch completes with cancelled at once; running requests are
// cancelled (their handlers hear of it), queued ones never reach the handler.
BOOST_AUTO_TEST_CASE(batch_terminal_cancellation_through_bound_slot)
{
    net::io_context ctx;
    holding_channel c(ctx, 2);
    net::cancellation_signal sig;
    std::optional<batch_result> batch;
    c.client().async_request_batch(iota_vector(8), 4,
                                   net::bind_cancellation_slot(sig.slot(), [&](batch_result r) { batch.emplace(std::move(r)); }));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.h.holding() == 2; }));
    BOOST_TEST(c.responder().stats().queued == 2u);
    sig.emit(net::cancellation_type::terminal);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return batch.has_value(); }));
    BOOST_TEST(failed_with(*batch, dx::error::cancelled));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.cancelled.size() == 2; }));
    poll(ctx);
    BOOST_TEST((c.handled == std::vector<int>{0, 1}));
    BOOST_TEST(c.responder().stats().queued == 0u);
    BOOST_TEST(c.responder().stats().cancelled == 4u);
    c.finish(ctx);
}

// Partial before anything ran (no run yet): every request is still queued and is cancelled.
BOOST_AUTO_TEST_CASE(batch_partial_cancellation_while_queued)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    net::cancellation_signal sig;
    std::optional<batch_result> batch;
    ch.first.async_request_batch(iota_vector(4), 2,
                                 net::bind_cancellation_slot(sig.slot(), [&](batch_result r) { batch.emplace(std::move(r)); }));
    poll(ctx);
    BOOST_TEST(ch.second.stats().queued == 2u);
    sig.emit(net::cancellation_type::partial);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return batch.has_value(); }));
    BOOST_TEST(failed_with(*batch, dx::error::cancelled));
    BOOST_TEST(ch.second.stats().queued == 0u);
    std::vector<int> handled;
    std::optional<dx::result<void>> run;
    ch.second.async_run(
        [&](int x) {
            handled.push_back(x);
            return x;
        },
        dx::fixed_concurrency{2}, [&](dx::result<void> r) { run.emplace(std::move(r)); });
    ch.second.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
    BOOST_TEST(handled.empty());
}

// Settled and cancelled: every element settles, those cut short as cancelled.
BOOST_AUTO_TEST_CASE(settled_batch_terminal_cancellation)
{
    net::io_context ctx;
    holding_channel c(ctx, 1);
    net::cancellation_signal sig;
    std::optional<settled_result> settled;
    c.client().async_request_batch_settled(iota_vector(4), 2,
                                           net::bind_cancellation_slot(sig.slot(), [&](settled_result r) { settled.emplace(std::move(r)); }));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.h.holding() == 1; }));
    c.h.release(0);  // 0 settles with a value
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.h.holding(1); }));
    sig.emit(net::cancellation_type::terminal);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return settled.has_value(); }));
    BOOST_TEST_REQUIRE(settled->size() == 4u);
    BOOST_TEST(holds_value((*settled)[0], 0));
    for (std::size_t i = 1; i < 4; ++i)
        BOOST_TEST(failed_with((*settled)[i], dx::error::cancelled), "element " << i);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.cancelled.size() == 1; }));
    poll(ctx);
    BOOST_TEST((c.handled == std::vector<int>{0, 1}));
    c.finish(ctx);
}

// An input range whose iteration throws agrees with an element that cannot
// be converted: the requests read before it are sent, the one that could not
// be read fails with invalid_argument (fail-fast: the batch does), nothing
// escapes from the initiating function.
BOOST_AUTO_TEST_CASE(an_input_range_whose_iteration_throws_gives_invalid_argument)
{
    net::io_context io;
    auto [client, responder] = dx::make_asio_channel<int, int>(io.get_executor());
    responder.async_run([](int v) { return v + 100; }, dx::fixed_concurrency{4}, [](dx::result<void>) {});
    const duplex_test_support::breaking_input_range broken{10, 2};  // yields 0 and 1, then breaks
    std::optional<dx::result<std::vector<int>>> whole;
    std::optional<std::vector<dx::result<int>>> each;
    client.async_request_batch(broken, 4, [&](dx::result<std::vector<int>> r) { whole.emplace(std::move(r)); });
    client.async_request_batch_settled(broken, 4, [&](std::vector<dx::result<int>> r) { each.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(io, [&] { return whole.has_value() && each.has_value(); }));
    BOOST_TEST(failed_with(*whole, dx::error::invalid_argument));
    BOOST_TEST_REQUIRE(each->size() == 3u);
    BOOST_TEST((*each)[0].value() == 100);
    BOOST_TEST((*each)[1].value() == 101);
    BOOST_TEST(failed_with((*each)[2], dx::error::invalid_argument));
    responder.stop();
    poll(io);
}
