//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 8 (order), Asio backend: batch responses come in input order;
// with a limit of 1, requests one client issues one after another are
// handled in the order issued.

#define BOOST_TEST_MODULE asio_order
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/duplex/asio.hpp>
#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/errc.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

using namespace duplex_test;

namespace {

using steady = std::chrono::steady_clock;

// Holds handler invocations until the test releases them, in any order.
class holds {
public:
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
        return static_cast<std::size_t>(
            std::count_if(entries_.begin(), entries_.end(), [](auto& kv) { return !kv.second->done; }));
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
    std::vector<int> v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), 0);
    return v;
}

}  // namespace

// Every request of the batch is in flight at once; they are released (and end)
// in reverse order, yet the responses come in input order.
BOOST_AUTO_TEST_CASE(batch_responses_in_input_order_when_handlers_end_in_reverse)
{
    constexpr int n = 8;
    net::io_context ctx;
    holds h;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;

    std::vector<int> end_order;
    std::optional<dx::result<void>> run;
    responder.async_run(
        [&](int x) -> net::awaitable<int> {
            co_await h.hold(x);
            end_order.push_back(x);
            co_return x * 10;
        },
        dx::fixed_concurrency{n}, [&](dx::result<void> r) { run.emplace(std::move(r)); });

    std::optional<dx::result<std::vector<int>>> batch;
    client.async_request_batch(iota_vector(n), n, [&](dx::result<std::vector<int>> r) { batch.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return h.holding() == static_cast<std::size_t>(n); }));
    for (int id = n - 1; id >= 0; --id) {
        h.release(id);
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return end_order.size() == static_cast<std::size_t>(n - id); }));
    }
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return batch.has_value(); }));
    std::vector<int> reversed = iota_vector(n);
    std::reverse(reversed.begin(), reversed.end());
    BOOST_TEST(end_order == reversed, boost::test_tools::per_element());
    BOOST_TEST_REQUIRE(batch->has_value());
    std::vector<int> expect;
    for (int i = 0; i < n; ++i)
        expect.push_back(i * 10);
    BOOST_TEST(batch->value() == expect, boost::test_tools::per_element());

    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
}

// A batch larger than its concurrency, released in a scrambled order.
BOOST_AUTO_TEST_CASE(batch_responses_in_input_order_with_scrambled_ends_and_limited_concurrency)
{
    constexpr int n = 24;
    constexpr std::size_t concurrency = 5;
    net::io_context ctx;
    holds h;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;

    int ended = 0;
    std::optional<dx::result<void>> run;
    responder.async_run(
        [&](int x) -> net::awaitable<int> {
            co_await h.hold(x);
            ++ended;
            co_return -x;
        },
        dx::fixed_concurrency{16}, [&](dx::result<void> r) { run.emplace(std::move(r)); });

    std::optional<dx::result<std::vector<int>>> batch;
    const std::vector<int> reqs = iota_vector(n);
    client.async_request_batch(reqs, concurrency, [&](dx::result<std::vector<int>> r) { batch.emplace(std::move(r)); });

    // Each round: wait until the batch has `concurrency` (or what is left) in
    // flight, then release the newest, the oldest and a middle one in turn.
    unsigned seed = 12345;
    for (int round = 0; round < n; ++round) {
        const auto expect = std::min<std::size_t>(concurrency, static_cast<std::size_t>(n - round));
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return ended == round && h.holding() == expect; }));
        std::vector<int> ids;
        for (int id = 0; id < n; ++id)
            if (h.holding(id))
                ids.push_back(id);
        seed = seed * 1103515245u + 12345u;
        h.release(ids[(seed >> 16) % ids.size()]);
    }
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return batch.has_value(); }));
    BOOST_TEST_REQUIRE(batch->has_value());
    std::vector<int> expect;
    for (int i = 0; i < n; ++i)
        expect.push_back(-i);
    BOOST_TEST(batch->value() == expect, boost::test_tools::per_element());

    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
}

// The settled form keeps input order too, values and errors alike.
BOOST_AUTO_TEST_CASE(settled_batch_results_in_input_order)
{
    constexpr int n = 8;
    net::io_context ctx;
    holds h;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;

    int ended = 0;
    std::optional<dx::result<void>> run;
    responder.async_run(
        [&](int x) -> net::awaitable<dx::result<int>> {
            co_await h.hold(x);
            ++ended;
            if (x % 3 == 1)
                co_return boost::system::errc::make_error_code(boost::system::errc::io_error);
            co_return x + 100;
        },
        dx::fixed_concurrency{n}, [&](dx::result<void> r) { run.emplace(std::move(r)); });

    std::optional<std::vector<dx::result<int>>> batch;
    client.async_request_batch_settled(iota_vector(n), n,
                                       [&](std::vector<dx::result<int>> r) { batch.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return h.holding() == static_cast<std::size_t>(n); }));
    const int release_order[n] = {3, 0, 7, 1, 6, 2, 5, 4};
    for (int k = 0; k < n; ++k) {
        h.release(release_order[k]);
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return ended == k + 1; }));
    }
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return batch.has_value(); }));
    BOOST_TEST_REQUIRE(batch->size() == static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        const auto& r = (*batch)[static_cast<std::size_t>(i)];
        if (i % 3 == 1) {
            BOOST_TEST(!r.has_value(), "element " << i);
            if (!r.has_value())
                BOOST_TEST(r.error() == boost::system::errc::make_error_code(boost::system::errc::io_error));
        } else {
            BOOST_TEST_REQUIRE(r.has_value(), "element " << i);
            BOOST_TEST(r.value() == i + 100);
        }
    }

    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
}

namespace {

// A coroutine client that makes each request after the previous one completed.
net::awaitable<void> sequential_client(dx::asio_client<int, int> client, int n, std::vector<int>& answers)
{
    for (int i = 0; i < n; ++i) {
        auto r = co_await client.async_request(i, net::use_awaitable);
        answers.push_back(r.has_value() ? r.value() : -1);
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(limit_1_sequential_requests_handled_in_issue_order)
{
    constexpr int n = 100;
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& responder = ch.second;

    std::vector<int> handled, answers;
    std::optional<dx::result<void>> run;
    responder.async_run(
        [&](int x) {
            handled.push_back(x);
            return x;
        },
        dx::fixed_concurrency{1}, [&](dx::result<void> r) { run.emplace(std::move(r)); });
    bool client_done = false;
    net::co_spawn(ctx, sequential_client(std::move(ch.first), n, answers), [&](std::exception_ptr e) {
        BOOST_TEST(!e);
        client_done = true;
    });
    // The coroutine held the only client: when it ends, the run ends by itself.
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return client_done && run.has_value(); }));
    BOOST_TEST(run->has_value());
    BOOST_TEST(handled == iota_vector(n), boost::test_tools::per_element());
    BOOST_TEST(answers == iota_vector(n), boost::test_tools::per_element());
}

namespace {

// Requests issued back to back from one thread, each call made after the
// previous call returned, `issued_while_running` once the run holds its first
// request (otherwise all before the run starts); the handler logs the order.
template <bool Awaitable>
void back_to_back_fifo(std::size_t capacity, bool issued_while_running)
{
    constexpr int n = 200;
    net::io_context ctx;
    holds h;
    dx::channel_options opts = options(30s, capacity);
    opts.on_full = dx::overflow::wait;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;

    std::vector<int> handled;
    std::optional<dx::result<void>> run;
    auto start_run = [&] {
        if constexpr (Awaitable) {
            responder.async_run(
                [&](int x) -> net::awaitable<int> {
                    handled.push_back(x);
                    if (x == -1)
                        co_await h.hold(x);
                    co_return x;
                },
                dx::fixed_concurrency{1}, [&](dx::result<void> r) { run.emplace(std::move(r)); });
        } else {
            responder.async_run(
                [&](int x) {
                    handled.push_back(x);
                    return x;
                },
                dx::fixed_concurrency{1}, [&](dx::result<void> r) { run.emplace(std::move(r)); });
        }
    };

    int answered = 0, right = 0;
    auto issue = [&](int i) {
        client.async_request(i, [&, i](dx::result<int> r) {
            ++answered;
            if (r.has_value() && r.value() == i)
                ++right;
        });
    };
    if (issued_while_running) {
        start_run();
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return responder.stats().concurrency_limit == 1; }));
        if constexpr (Awaitable) {
            issue(-1);  // holds the only slot while the others are issued
            BOOST_TEST_REQUIRE(run_until(ctx, [&] { return h.holding() == 1; }));
        }
    }
    for (int i = 0; i < n; ++i)
        issue(i);
    if (issued_while_running) {
        if constexpr (Awaitable)
            h.release(-1);
    } else {
        start_run();
    }
    const int expected = n + ((issued_while_running && Awaitable) ? 1 : 0);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return answered == expected; }));
    BOOST_TEST(right == expected);
    std::vector<int> expect;
    if (issued_while_running && Awaitable)
        expect.push_back(-1);
    for (int i = 0; i < n; ++i)
        expect.push_back(i);
    BOOST_TEST(handled == expect, boost::test_tools::per_element());

    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
}

}  // namespace

BOOST_AUTO_TEST_CASE(limit_1_back_to_back_requests_handled_fifo_sync_handler)
{
    back_to_back_fifo<false>(1000, true);
    back_to_back_fifo<false>(1000, false);
}

BOOST_AUTO_TEST_CASE(limit_1_back_to_back_requests_handled_fifo_awaitable_handler)
{
    back_to_back_fifo<true>(1000, true);
    back_to_back_fifo<true>(1000, false);
}

// With a small queue most requests wait for room; they still go in issue order.
BOOST_AUTO_TEST_CASE(limit_1_back_to_back_requests_fifo_through_waiting_for_room)
{
    back_to_back_fifo<false>(4, true);
    back_to_back_fifo<false>(4, false);
    back_to_back_fifo<true>(4, true);
    back_to_back_fifo<true>(4, false);
}

// Rendezvous channel (capacity 0): every request waits for the responder.
BOOST_AUTO_TEST_CASE(limit_1_back_to_back_requests_fifo_on_rendezvous_channel)
{
    back_to_back_fifo<false>(0, true);
    back_to_back_fifo<true>(0, true);
    back_to_back_fifo<true>(0, false);
}
