//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Move-only requests and responses (std::unique_ptr, and a type that is
// neither copyable nor default-constructible) through async_request, batches
// and every handler shape; the locked_slab storage policy works the same as
// the default sharded_slab.

#define BOOST_TEST_MODULE asio_move_only
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/duplex/asio.hpp>
#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/storage.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/mpl/list.hpp>
#include <boost/system/errc.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

using namespace duplex_test;

namespace {

using steady = std::chrono::steady_clock;

boost::system::error_code permission_denied()
{
    return boost::system::errc::make_error_code(boost::system::errc::permission_denied);
}

using ptr = std::unique_ptr<int>;

// Move-only and without a default constructor.
class token {
public:
    explicit token(int v) : v_(v) {}
    token(token&&) noexcept = default;
    token& operator=(token&&) noexcept = default;
    token(const token&) = delete;
    token& operator=(const token&) = delete;
    int value() const { return v_; }

private:
    int v_;
};

static_assert(!std::is_default_constructible_v<token>);
static_assert(!std::is_copy_constructible_v<token>);

using storages = boost::mpl::list<dx::sharded_slab, dx::locked_slab>;

// Serves `handler` on a unique_ptr channel with storage S and checks: a value
// (1 -> 2), a null request (-> error from the result shapes or handler_failed),
// a batch, a settled batch.
template <class Storage, class Handler>
void check_unique_ptr_handler(Handler handler, bool result_shape)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<ptr, ptr, Storage>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;
    std::optional<dx::result<void>> run;
    responder.async_run(std::move(handler), dx::fixed_concurrency{2}, [&](dx::result<void> r) { run.emplace(std::move(r)); });

    std::optional<dx::result<ptr>> one, null;
    client.async_request(std::make_unique<int>(1), [&](dx::result<ptr> r) { one.emplace(std::move(r)); });
    client.async_request(ptr(), [&](dx::result<ptr> r) { null.emplace(std::move(r)); });

    std::vector<ptr> reqs;
    for (int i = 10; i < 15; ++i)
        reqs.push_back(std::make_unique<int>(i));
    std::optional<dx::result<std::vector<ptr>>> batch;
    client.async_request_batch(std::move(reqs), 2, [&](dx::result<std::vector<ptr>> r) { batch.emplace(std::move(r)); });

    std::vector<ptr> reqs2;
    reqs2.push_back(std::make_unique<int>(20));
    reqs2.push_back(nullptr);
    reqs2.push_back(std::make_unique<int>(21));
    std::optional<std::vector<dx::result<ptr>>> settled;
    client.async_request_batch_settled(std::move(reqs2), 3, [&](std::vector<dx::result<ptr>> r) { settled.emplace(std::move(r)); });

    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return one && null && batch && settled; }));
    BOOST_TEST_REQUIRE(one->has_value());
    BOOST_TEST_REQUIRE(one->value() != nullptr);
    BOOST_TEST(*one->value() == 2);
    BOOST_TEST_REQUIRE(!null->has_value());
    if (result_shape)
        BOOST_TEST(null->error() == permission_denied());
    else
        BOOST_TEST(failed_with(*null, dx::error::handler_failed));
    BOOST_TEST_REQUIRE(batch->has_value());
    BOOST_TEST_REQUIRE(batch->value().size() == 5u);
    for (int i = 0; i < 5; ++i)
        BOOST_TEST(*batch->value()[static_cast<std::size_t>(i)] == 11 + i);
    BOOST_TEST_REQUIRE(settled->size() == 3u);
    BOOST_TEST_REQUIRE((*settled)[0].has_value());
    BOOST_TEST(*(*settled)[0].value() == 21);
    BOOST_TEST(!(*settled)[1].has_value());
    BOOST_TEST_REQUIRE((*settled)[2].has_value());
    BOOST_TEST(*(*settled)[2].value() == 22);

    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
    BOOST_TEST(run->has_value());
}

ptr plus_one(ptr p)
{
    if (!p)
        throw std::invalid_argument("null request");
    return std::make_unique<int>(*p + 1);
}

dx::result<ptr> plus_one_result(ptr p)
{
    if (!p)
        return permission_denied();
    return std::make_unique<int>(*p + 1);
}

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(unique_ptr_through_sync_value_handler, Storage, storages)
{
    check_unique_ptr_handler<Storage>([](ptr p) { return plus_one(std::move(p)); }, false);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(unique_ptr_through_sync_result_handler, Storage, storages)
{
    check_unique_ptr_handler<Storage>([](ptr p) -> dx::result<ptr> { return plus_one_result(std::move(p)); }, true);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(unique_ptr_through_awaitable_value_handler, Storage, storages)
{
    check_unique_ptr_handler<Storage>(
        [](ptr p) -> net::awaitable<ptr> {
            co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
            co_return plus_one(std::move(p));
        },
        false);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(unique_ptr_through_awaitable_result_handler, Storage, storages)
{
    check_unique_ptr_handler<Storage>(
        [](ptr p) -> net::awaitable<dx::result<ptr>> {
            co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
            co_return plus_one_result(std::move(p));
        },
        true);
}

// A request/response type that can be neither copied nor default-constructed.
BOOST_AUTO_TEST_CASE_TEMPLATE(move_only_non_default_constructible_type, Storage, storages)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<token, token, Storage>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;
    std::optional<dx::result<void>> run;
    responder.async_run(
        [](token t) -> net::awaitable<token> {
            co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
            co_return token(t.value() * 2);
        },
        dx::fixed_concurrency{3}, [&](dx::result<void> r) { run.emplace(std::move(r)); });

    std::optional<dx::result<token>> one;
    client.async_request(token(4), [&](dx::result<token> r) { one.emplace(std::move(r)); });
    std::vector<token> reqs;
    for (int i = 1; i <= 4; ++i)
        reqs.emplace_back(i);
    std::optional<dx::result<std::vector<token>>> batch;
    client.async_request_batch(std::move(reqs), 2, [&](dx::result<std::vector<token>> r) { batch.emplace(std::move(r)); });
    std::vector<token> reqs2;
    reqs2.emplace_back(7);
    std::optional<std::vector<dx::result<token>>> settled;
    client.async_request_batch_settled(std::move(reqs2), 1, [&](std::vector<dx::result<token>> r) { settled.emplace(std::move(r)); });
    // A failure of the batch with such a type (zero timeout: timeout at once).
    std::vector<token> reqs3;
    reqs3.emplace_back(9);
    std::optional<dx::result<std::vector<token>>> timed_out;
    client.async_request_batch(std::move(reqs3), 1, 0s, [&](dx::result<std::vector<token>> r) { timed_out.emplace(std::move(r)); });

    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return one && batch && settled && timed_out; }));
    BOOST_TEST_REQUIRE(one->has_value());
    BOOST_TEST(one->value().value() == 8);
    BOOST_TEST_REQUIRE(batch->has_value());
    BOOST_TEST_REQUIRE(batch->value().size() == 4u);
    for (int i = 0; i < 4; ++i)
        BOOST_TEST(batch->value()[static_cast<std::size_t>(i)].value() == 2 * (i + 1));
    BOOST_TEST_REQUIRE(settled->size() == 1u);
    BOOST_TEST_REQUIRE((*settled)[0].has_value());
    BOOST_TEST((*settled)[0].value().value() == 14);
    BOOST_TEST(failed_with(*timed_out, dx::error::timeout));

    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
}

// Slots are reused many times over, with timeouts and cancellations mixed in:
// every answer goes to its own request.
BOOST_AUTO_TEST_CASE_TEMPLATE(storage_slots_reused_with_timeouts_and_cancellations, Storage, storages)
{
    constexpr int n = 600;
    net::io_context ctx;
    auto ch = dx::make_asio_channel<ptr, ptr, Storage>(ctx.get_executor(), options(30s, 16));
    auto& client = ch.first;
    auto& responder = ch.second;
    std::optional<dx::result<void>> run;
    responder.async_run(
        [](ptr p) -> net::awaitable<ptr> {
            // Some answers come after a short wait, long enough to outlive a short deadline.
            if (*p % 3 == 0) {
                net::steady_timer t(co_await net::this_coro::executor, 2ms);
                co_await t.async_wait(net::as_tuple(net::use_awaitable));
            }
            co_return std::make_unique<int>(*p * 7);
        },
        dx::fixed_concurrency{4}, [&](dx::result<void> r) { run.emplace(std::move(r)); });

    int answered = 0, wrong = 0, values = 0, timeouts = 0, cancels = 0;
    std::vector<std::unique_ptr<net::cancellation_signal>> signals;
    std::vector<int> calls(n, 0);
    for (int i = 0; i < n; ++i) {
        auto on_done = [&, i](dx::result<ptr> r) {
            ++answered;
            ++calls[static_cast<std::size_t>(i)];
            if (r.has_value() && r.value() && *r.value() == i * 7)
                ++values;
            else if (r.has_value())
                ++wrong;
            else if (r.error() == dx::make_error_code(dx::error::timeout))
                ++timeouts;
            else if (r.error() == dx::make_error_code(dx::error::cancelled))
                ++cancels;
            else
                ++wrong;
        };
        if (i % 5 == 4) {
            signals.push_back(std::make_unique<net::cancellation_signal>());
            client.async_request(std::make_unique<int>(i), net::bind_cancellation_slot(signals.back()->slot(), on_done));
        } else if (i % 5 == 3) {
            client.async_request(std::make_unique<int>(i), 1ms, on_done);
        } else {
            client.async_request(std::make_unique<int>(i), on_done);
        }
        if (i % 10 == 9) {
            // Cancel the two most recent cancellable ones, one terminally.
            signals[signals.size() - 1]->emit(net::cancellation_type::terminal);
            signals[signals.size() - 2]->emit(net::cancellation_type::partial);
            BOOST_TEST_REQUIRE(run_until(ctx, [&] { return answered >= i - 20; }));
        }
    }
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return answered == n; }, 10s));
    BOOST_TEST(wrong == 0);
    BOOST_TEST(values + timeouts + cancels == n);
    BOOST_TEST(values > 0);
    for (int c : calls)
        BOOST_TEST(c == 1);
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
    const auto st = responder.stats();
    BOOST_TEST(st.completed + st.timed_out + st.cancelled == static_cast<std::uint64_t>(n));
}

// Both storages from several threads at once.
BOOST_AUTO_TEST_CASE_TEMPLATE(storage_used_from_several_threads, Storage, storages)
{
    constexpr int threads = 4, per_thread = 300;
    net::io_context ctx;
    auto ch = dx::make_asio_channel<ptr, ptr, Storage>(ctx.get_executor(), options(30s));
    std::promise<dx::result<void>> run_p;
    ch.second.async_run([](ptr p) { return std::make_unique<int>(*p + 1); }, dx::fixed_concurrency{4},
                        [&](dx::result<void> r) { run_p.set_value(std::move(r)); });
    auto work = net::make_work_guard(ctx);
    std::vector<std::thread> runners;
    for (int i = 0; i < 2; ++i)
        runners.emplace_back([&] { ctx.run_for(60s); });

    std::atomic<int> answered{0}, wrong{0};
    std::promise<void> all_p;
    auto all_f = all_p.get_future();
    std::vector<std::thread> issuers;
    for (int k = 0; k < threads; ++k)
        issuers.emplace_back([&, k, client = ch.first]() mutable {
            for (int i = 0; i < per_thread; ++i) {
                const int x = k * 1000 + i;
                client.async_request(std::make_unique<int>(x), [&, x](dx::result<ptr> r) {
                    if (!r.has_value() || !r.value() || *r.value() != x + 1)
                        ++wrong;
                    if (++answered == threads * per_thread)
                        all_p.set_value();
                });
            }
        });
    for (auto& t : issuers)
        t.join();
    const bool all = all_f.wait_for(20s) == std::future_status::ready;
    ch.second.stop();
    auto run_f = run_p.get_future();
    const bool run_done = run_f.wait_for(10s) == std::future_status::ready;
    work.reset();
    ctx.stop();
    for (auto& t : runners)
        t.join();
    BOOST_TEST_REQUIRE(all);
    BOOST_TEST(wrong.load() == 0);
    BOOST_TEST_REQUIRE(run_done);
    BOOST_TEST(run_f.get().has_value());
}
