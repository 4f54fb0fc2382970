//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 10 (Asio conventions): every completion token works; a completion
// handler is never invoked from inside the initiating function and runs on its
// associated executor; the associated allocator is used; outstanding work
// keeps run() going; per-operation cancellation yields error::cancelled as
// specified (terminal at any point before delivery, partial/total only while
// queued or waiting for room).

#define BOOST_TEST_MODULE asio_asio_conventions
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/duplex/asio.hpp>
#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

using namespace duplex_test;

namespace {

using steady = std::chrono::steady_clock;

template <class F>
bool future_ready(const std::future<F>& f)
{
    return f.wait_for(0s) == std::future_status::ready;
}

// Holds handler invocations until the test releases them.
class holds {
public:
    // true once released; false when the wait was cancelled. A hold that is
    // not `cancellable` ignores the invocation's cancellation.
    net::awaitable<bool> hold(int id, bool cancellable = true)
    {
        auto e = std::make_shared<entry>(co_await net::this_coro::executor);
        entries_[id] = e;
        if (cancellable)
            co_await e->timer.async_wait(net::as_tuple(net::use_awaitable));
        else
            co_await e->timer.async_wait(net::bind_cancellation_slot(net::cancellation_slot(), net::as_tuple(net::use_awaitable)));
        e->done = true;
        co_return e->released;
    }

    bool holding(int id) const
    {
        auto it = entries_.find(id);
        return it != entries_.end() && !it->second->done;
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

using client_t = dx::asio_client<int, int>;
using responder_t = dx::asio_responder<int, int>;

// A channel on `ctx` whose responder runs `x -> x * 2` (sync), limit 4.
struct doubling_channel {
    doubling_channel(net::io_context& ctx, dx::channel_options opts = options(30s))
        : ch(dx::make_asio_channel<int, int>(ctx.get_executor(), opts))
    {
        ch.second.async_run(
            [this](int x) {
                handled.push_back(x);
                return x * 2;
            },
            dx::fixed_concurrency{4}, [this](dx::result<void> r) { run.emplace(std::move(r)); });
    }
    client_t& client() { return ch.first; }
    responder_t& responder() { return ch.second; }
    void finish(net::io_context& ctx)
    {
        responder().stop();
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
        BOOST_TEST(run->has_value());
    }

    std::pair<client_t, responder_t> ch;
    std::vector<int> handled;
    std::optional<dx::result<void>> run;
};

// Counts what goes through it.
struct alloc_counts {
    std::atomic<int> allocs{0};
    std::atomic<int> deallocs{0};
};

template <class T>
struct counting_allocator {
    using value_type = T;
    alloc_counts* counts;

    explicit counting_allocator(alloc_counts* c) noexcept : counts(c) {}
    template <class U>
    counting_allocator(const counting_allocator<U>& other) noexcept : counts(other.counts)
    {
    }

    T* allocate(std::size_t n)
    {
        ++counts->allocs;
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept
    {
        ++counts->deallocs;
        std::allocator<T>().deallocate(p, n);
    }
    template <class U>
    bool operator==(const counting_allocator<U>& other) const noexcept
    {
        return counts == other.counts;
    }
    template <class U>
    bool operator!=(const counting_allocator<U>& other) const noexcept
    {
        return counts != other.counts;
    }
};

}  // namespace

// ---- completion tokens ----------------------------------------------------

BOOST_AUTO_TEST_CASE(callback_token)
{
    net::io_context ctx;
    doubling_channel c(ctx);
    std::optional<dx::result<int>> one;
    std::optional<dx::result<std::vector<int>>> batch;
    std::optional<std::vector<dx::result<int>>> settled;
    c.client().async_request(21, [&](dx::result<int> r) { one.emplace(std::move(r)); });
    c.client().async_request_batch(std::vector<int>{1, 2}, 2, [&](dx::result<std::vector<int>> r) { batch.emplace(std::move(r)); });
    c.client().async_request_batch_settled(std::vector<int>{3}, 1, [&](std::vector<dx::result<int>> r) { settled.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return one && batch && settled; }));
    BOOST_TEST(holds_value(*one, 42));
    BOOST_TEST_REQUIRE(batch->has_value());
    BOOST_TEST((batch->value() == std::vector<int>{2, 4}));
    BOOST_TEST_REQUIRE(settled->size() == 1u);
    BOOST_TEST(holds_value((*settled)[0], 6));
    c.finish(ctx);
}

// A completion handler that throws: the exception leaves io_context::run(),
// as it would from any posted handler, even where the response was delivered
// by running the handler inline in the responder's loop (a client on the
// channel's own io_context); it does not escape into the responder, which
// keeps serving the requests behind it.
BOOST_AUTO_TEST_CASE(exception_from_completion_handler_leaves_run_and_channel_keeps_serving)
{
    net::io_context ctx;
    doubling_channel c(ctx);
    struct boom {
        int value;
    };
    std::optional<dx::result<int>> second, third;
    c.client().async_request(1, [](dx::result<int> r) { throw boom{r ? r.value() : -1}; });
    c.client().async_request(2, [&](dx::result<int> r) { second.emplace(std::move(r)); });
    std::optional<int> caught;
    try {
        run_until(ctx, [] { return false; }, 5s);
    } catch (const boom& b) {
        caught = b.value;
    }
    BOOST_TEST_REQUIRE(caught.has_value());
    BOOST_TEST(*caught == 2);  // the response reached the throwing handler first
    // The io_context goes on after the exception, and so does the channel.
    c.client().async_request(3, [&](dx::result<int> r) { third.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return second && third; }));
    BOOST_TEST(holds_value(*second, 4));
    BOOST_TEST(holds_value(*third, 6));
    BOOST_TEST(c.responder().stats().completed == 3u);
    c.finish(ctx);
}

BOOST_AUTO_TEST_CASE(use_awaitable_token)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;

    std::optional<dx::result<void>> run;
    net::co_spawn(
        ctx,
        [&]() -> net::awaitable<void> {
            auto r = co_await responder.async_run([](int x) { return x + 1; }, dx::fixed_concurrency{2}, net::use_awaitable);
            run.emplace(std::move(r));
        },
        net::detached);

    std::optional<dx::result<int>> one;
    std::optional<dx::result<std::vector<int>>> batch;
    std::optional<std::vector<dx::result<int>>> settled;
    bool client_done = false;
    net::co_spawn(
        ctx,
        [&]() -> net::awaitable<void> {
            one.emplace(co_await client.async_request(1, net::use_awaitable));
            std::vector<int> reqs;
            reqs.push_back(10);
            reqs.push_back(20);
            batch.emplace(co_await client.async_request_batch(reqs, 2, net::use_awaitable));
            settled.emplace(co_await client.async_request_batch_settled(reqs, 1, net::use_awaitable));
            client_done = true;
        },
        net::detached);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return client_done; }));
    BOOST_TEST(holds_value(*one, 2));
    BOOST_TEST_REQUIRE(batch->has_value());
    BOOST_TEST((batch->value() == std::vector<int>{11, 21}));
    BOOST_TEST_REQUIRE(settled->size() == 2u);
    BOOST_TEST(holds_value((*settled)[1], 21));
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
    BOOST_TEST(run->has_value());
}

BOOST_AUTO_TEST_CASE(use_future_token)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;

    std::future<dx::result<void>> run = responder.async_run([](int x) { return -x; }, dx::fixed_concurrency{2}, net::use_future);
    std::future<dx::result<int>> one = client.async_request(5, net::use_future);
    std::future<dx::result<std::vector<int>>> batch = client.async_request_batch(std::vector<int>{1, 2, 3}, 2, net::use_future);
    std::future<std::vector<dx::result<int>>> settled =
        client.async_request_batch_settled(std::vector<int>{4}, 2, net::use_future);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return future_ready(one) && future_ready(batch) && future_ready(settled); }));
    BOOST_TEST(holds_value(one.get(), -5));
    auto b = batch.get();
    BOOST_TEST_REQUIRE(b.has_value());
    BOOST_TEST((b.value() == std::vector<int>{-1, -2, -3}));
    auto s = settled.get();
    BOOST_TEST_REQUIRE(s.size() == 1u);
    BOOST_TEST(holds_value(s[0], -4));
    BOOST_TEST(!future_ready(run));
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return future_ready(run); }));
    BOOST_TEST(run.get().has_value());
}

// A deferred operation does nothing until it is launched.
BOOST_AUTO_TEST_CASE(deferred_token)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;
    std::vector<int> handled;

    auto run_op = responder.async_run(
        [&](int x) {
            handled.push_back(x);
            return x * 3;
        },
        dx::fixed_concurrency{2}, net::deferred);
    auto one = client.async_request(7, net::deferred);
    std::vector<int> reqs{1, 2};
    auto batch = client.async_request_batch(reqs, 2, net::deferred);
    auto settled = client.async_request_batch_settled(std::vector<int>{9}, 2, net::deferred);
    poll(ctx);
    BOOST_TEST(handled.empty());
    BOOST_TEST(responder.stats().queued == 0u);  // not even submitted

    std::optional<dx::result<void>> run;
    std::move(run_op)([&](dx::result<void> r) { run.emplace(std::move(r)); });
    poll(ctx);
    BOOST_TEST(handled.empty());
    BOOST_TEST(responder.stats().concurrency_limit == 2u);

    std::optional<dx::result<int>> r1;
    std::optional<dx::result<std::vector<int>>> rb;
    std::move(one)([&](dx::result<int> r) { r1.emplace(std::move(r)); });
    std::move(batch)([&](dx::result<std::vector<int>> r) { rb.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return r1 && rb; }));
    BOOST_TEST(holds_value(*r1, 21));
    BOOST_TEST_REQUIRE(rb->has_value());
    BOOST_TEST((rb->value() == std::vector<int>{3, 6}));

    // A deferred request launched twice (as an lvalue) is two requests, each
    // with its own copy of the request.
    auto twice = client.async_request(5, net::deferred);
    std::optional<dx::result<int>> t1, t2;
    twice([&](dx::result<int> r) { t1.emplace(std::move(r)); });
    twice([&](dx::result<int> r) { t2.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return t1 && t2; }));
    BOOST_TEST(holds_value(*t1, 15));
    BOOST_TEST(holds_value(*t2, 15));

    // Launched into a coroutine.
    std::optional<std::vector<dx::result<int>>> rs;
    net::co_spawn(
        ctx, [&]() -> net::awaitable<void> { rs.emplace(co_await std::move(settled)(net::use_awaitable)); },
        net::detached);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return rs.has_value(); }));
    BOOST_TEST_REQUIRE(rs->size() == 1u);
    BOOST_TEST(holds_value((*rs)[0], 27));

    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
}

BOOST_AUTO_TEST_CASE(as_tuple_token)
{
    net::io_context ctx;
    doubling_channel c(ctx);
    std::optional<dx::result<int>> from_coro, from_callback;
    net::co_spawn(
        ctx,
        [&]() -> net::awaitable<void> {
            auto [r] = co_await c.client().async_request(4, net::as_tuple(net::use_awaitable));
            from_coro.emplace(std::move(r));
        },
        net::detached);
    c.client().async_request(5, net::as_tuple([&](std::tuple<dx::result<int>> t) { from_callback.emplace(std::move(std::get<0>(t))); }));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return from_coro && from_callback; }));
    BOOST_TEST(holds_value(*from_coro, 8));
    BOOST_TEST(holds_value(*from_callback, 10));
    c.finish(ctx);
}

BOOST_AUTO_TEST_CASE(detached_token)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;
    std::vector<int> handled;
    responder.async_run(
        [&](int x) {
            handled.push_back(x);
            return x;
        },
        dx::fixed_concurrency{1}, net::detached);
    client.async_request(1, net::detached);
    client.async_request_batch(std::vector<int>{2, 3}, 1, net::detached);
    client.async_request_batch_settled(std::vector<int>{4}, 1, net::detached);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return handled.size() == 4; }));
    // The detached run ends (and lets the context run out of work) when the last client goes.
    { auto gone = std::move(ch.first); }
    ctx.restart();
    ctx.run_for(5s);
    BOOST_TEST(ctx.stopped());  // out of work, not out of time
}

// ---- never inside the initiating function -----------------------------------

namespace {

// Calls `initiate(handler)` and checks that `handler` runs later, from the
// io_context, and not from inside the initiating function.
template <class Result, class Initiate>
Result completes_later(net::io_context& ctx, Initiate initiate)
{
    bool returned = false;
    bool inside = false;
    std::optional<Result> got;
    initiate([&](Result r) {
        inside = !returned;
        got.emplace(std::move(r));
    });
    returned = true;
    BOOST_TEST(!got.has_value());
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return got.has_value(); }));
    BOOST_TEST(!inside);
    return std::move(*got);
}

}  // namespace

BOOST_AUTO_TEST_CASE(never_invoked_inside_initiating_function_on_immediate_errors)
{
    net::io_context ctx;
    using R = dx::result<int>;
    using B = dx::result<std::vector<int>>;
    using S = std::vector<dx::result<int>>;

    // queue_full: capacity 1, reject, nobody serving.
    {
        dx::channel_options opts = options(30s, 1);
        opts.on_full = dx::overflow::reject;
        auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), opts);
        auto first = completes_later<R>(ctx, [&](auto h) {
            ch.first.async_request(1, std::move(h));
            BOOST_TEST(failed_with(completes_later<R>(ctx, [&](auto h2) { ch.first.async_request(2, std::move(h2)); }),
                                   dx::error::queue_full));
            ch.second.stop();  // lets the first one complete (closed)
        });
        BOOST_TEST(failed_with(first, dx::error::closed));
    }

    // Zero and negative timeouts.
    {
        doubling_channel c(ctx);
        BOOST_TEST(failed_with(completes_later<R>(ctx, [&](auto h) { c.client().async_request(1, 0s, std::move(h)); }),
                               dx::error::timeout));
        BOOST_TEST(failed_with(completes_later<R>(ctx, [&](auto h) { c.client().async_request(1, -5s, std::move(h)); }),
                               dx::error::timeout));

        // Batches: concurrency 0, empty.
        std::vector<int> reqs{1, 2, 3};
        std::vector<int> none;
        auto b0 = completes_later<B>(ctx, [&](auto h) { c.client().async_request_batch(reqs, 0, std::move(h)); });
        BOOST_TEST(failed_with(b0, dx::error::invalid_argument));
        auto s0 = completes_later<S>(ctx, [&](auto h) { c.client().async_request_batch_settled(reqs, 0, std::move(h)); });
        BOOST_TEST_REQUIRE(s0.size() == 3u);
        for (auto& r : s0)
            BOOST_TEST(failed_with(r, dx::error::invalid_argument));
        auto be = completes_later<B>(ctx, [&](auto h) { c.client().async_request_batch(none, 4, std::move(h)); });
        BOOST_TEST_REQUIRE(be.has_value());
        BOOST_TEST(be.value().empty());
        auto se = completes_later<S>(ctx, [&](auto h) { c.client().async_request_batch_settled(none, 4, std::move(h)); });
        BOOST_TEST(se.empty());
        auto bz = completes_later<B>(ctx, [&](auto h) { c.client().async_request_batch(reqs, 2, 0s, std::move(h)); });
        BOOST_TEST(failed_with(bz, dx::error::timeout));

        // A second run while the first one runs.
        auto second = completes_later<dx::result<void>>(
            ctx, [&](auto h) { c.responder().async_run([](int x) { return x; }, dx::fixed_concurrency{1}, std::move(h)); });
        BOOST_TEST(failed_with(second, dx::error::invalid_argument));
        BOOST_TEST(c.handled.empty());

        // closed after stop(), requests and batches alike.
        c.finish(ctx);
        BOOST_TEST(failed_with(completes_later<R>(ctx, [&](auto h) { c.client().async_request(1, std::move(h)); }),
                               dx::error::closed));
        auto bc = completes_later<B>(ctx, [&](auto h) { c.client().async_request_batch(reqs, 2, std::move(h)); });
        BOOST_TEST(failed_with(bc, dx::error::closed));
        auto sc = completes_later<S>(ctx, [&](auto h) { c.client().async_request_batch_settled(reqs, 3, std::move(h)); });
        BOOST_TEST_REQUIRE(sc.size() == 3u);
        for (auto& r : sc)
            BOOST_TEST(failed_with(r, dx::error::closed));

        // A run after the run ended.
        auto again = completes_later<dx::result<void>>(
            ctx, [&](auto h) { c.responder().async_run([](int x) { return x; }, dx::fixed_concurrency{1}, std::move(h)); });
        BOOST_TEST(failed_with(again, dx::error::closed));
    }

    // closed after the responder is gone; initiated from inside a handler running on the context.
    {
        auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
        { auto gone = std::move(ch.second); }
        std::optional<R> got;
        bool returned = false, inside = false, inline_result = false;
        net::post(ctx, [&] {
            ch.first.async_request(1, [&](R r) {
                inside = !returned;
                got.emplace(std::move(r));
            });
            returned = true;
            inline_result = got.has_value();
        });
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return got.has_value(); }));
        BOOST_TEST(!inside);
        BOOST_TEST(!inline_result);
        BOOST_TEST(failed_with(*got, dx::error::closed));
    }
}

BOOST_AUTO_TEST_CASE(never_invoked_inside_initiating_function_on_success)
{
    net::io_context ctx;
    doubling_channel c(ctx);
    poll(ctx);  // the run is going and idle
    BOOST_TEST(holds_value(completes_later<dx::result<int>>(ctx, [&](auto h) { c.client().async_request(8, std::move(h)); }), 16));
    c.finish(ctx);
}

// ---- associated executor ---------------------------------------------------

BOOST_AUTO_TEST_CASE(completion_runs_on_bound_strand)
{
    net::io_context ctx;
    doubling_channel c(ctx);
    auto strand = net::make_strand(ctx);
    int on_strand = 0, calls = 0;
    auto check = [&] {
        ++calls;
        if (strand.running_in_this_thread())
            ++on_strand;
    };
    c.client().async_request(1, net::bind_executor(strand, [&](dx::result<int>) { check(); }));
    c.client().async_request(1, 0s, net::bind_executor(strand, [&](dx::result<int>) { check(); }));  // immediate error
    c.client().async_request_batch(std::vector<int>{1, 2}, 1,
                                   net::bind_executor(strand, [&](dx::result<std::vector<int>>) { check(); }));
    c.client().async_request_batch_settled(std::vector<int>{1}, 0,
                                           net::bind_executor(strand, [&](std::vector<dx::result<int>>) { check(); }));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return calls == 4; }));
    BOOST_TEST(on_strand == 4);

    // The run's completion too.
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    bool run_done = false, run_on_strand = false;
    ch.second.async_run([](int x) { return x; }, dx::fixed_concurrency{1}, net::bind_executor(strand, [&](dx::result<void>) {
                            run_done = true;
                            run_on_strand = strand.running_in_this_thread();
                        }));
    ch.second.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run_done; }));
    BOOST_TEST(run_on_strand);
    c.finish(ctx);
}

// The channel runs on ctx1 (another thread); handlers bound to ctx2 run on
// ctx2's thread (this one); unbound ones on the channel's executor.
BOOST_AUTO_TEST_CASE(completion_runs_on_bound_executor_of_another_io_context)
{
    net::io_context ctx1, ctx2;
    auto work = net::make_work_guard(ctx1);
    std::promise<std::thread::id> bg_id;
    std::thread bg([&] {
        bg_id.set_value(std::this_thread::get_id());
        ctx1.run_for(20s);
    });
    const auto bg_thread = bg_id.get_future().get();
    const auto main_thread = std::this_thread::get_id();

    auto ch = dx::make_asio_channel<int, int>(ctx1.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;
    std::promise<dx::result<void>> run_p;
    responder.async_run([](int x) { return x * 5; }, dx::fixed_concurrency{2},
                        [&](dx::result<void> r) { run_p.set_value(std::move(r)); });

    std::optional<dx::result<int>> got;
    std::optional<dx::result<std::vector<int>>> batch;
    bool got_on_ctx2 = false, batch_on_ctx2 = false;
    std::thread::id got_thread, batch_thread;
    client.async_request(3, net::bind_executor(ctx2.get_executor(), [&](dx::result<int> r) {
                             got_thread = std::this_thread::get_id();
                             got_on_ctx2 = ctx2.get_executor().running_in_this_thread();
                             got.emplace(std::move(r));
                         }));
    client.async_request_batch(std::vector<int>{1, 2}, 2, net::bind_executor(ctx2, [&](dx::result<std::vector<int>> r) {
                                   batch_thread = std::this_thread::get_id();
                                   batch_on_ctx2 = ctx2.get_executor().running_in_this_thread();
                                   batch.emplace(std::move(r));
                               }));
    BOOST_TEST_REQUIRE(run_until(ctx2, [&] { return got && batch; }));
    BOOST_TEST(holds_value(*got, 15));
    BOOST_TEST(got_thread == main_thread);
    BOOST_TEST(got_on_ctx2);
    BOOST_TEST_REQUIRE(batch->has_value());
    BOOST_TEST((batch->value() == std::vector<int>{5, 10}));
    BOOST_TEST(batch_thread == main_thread);
    BOOST_TEST(batch_on_ctx2);

    // Unbound: the channel's executor, i.e. ctx1's thread.
    std::promise<std::pair<std::thread::id, bool>> unbound;
    client.async_request(4, [&](dx::result<int> r) {
        unbound.set_value({std::this_thread::get_id(), holds_value(r, 20)});
    });
    auto f = unbound.get_future();
    BOOST_TEST_REQUIRE((f.wait_for(5s) == std::future_status::ready));
    const auto [thread, right] = f.get();
    BOOST_TEST(thread == bg_thread);
    BOOST_TEST(right);
    BOOST_TEST((client.get_executor() == net::any_io_executor(ctx1.get_executor())));

    responder.stop();
    auto run_f = run_p.get_future();
    BOOST_TEST_REQUIRE((run_f.wait_for(5s) == std::future_status::ready));
    BOOST_TEST(run_f.get().has_value());
    work.reset();
    bg.join();
}

// ---- associated allocator --------------------------------------------------

BOOST_AUTO_TEST_CASE(associated_allocator_is_used)
{
    net::io_context ctx;
    alloc_counts req_counts, batch_counts, run_counts;
    {
        auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
        auto& client = ch.first;
        auto& responder = ch.second;
        bool run_done = false;
        responder.async_run([](int x) { return x; }, dx::fixed_concurrency{2},
                            net::bind_allocator(counting_allocator<void>(&run_counts), [&](dx::result<void>) { run_done = true; }));
        BOOST_TEST(run_counts.allocs.load() > 0);

        std::optional<dx::result<int>> got;
        client.async_request(1, net::bind_allocator(counting_allocator<void>(&req_counts),
                                                    [&](dx::result<int> r) { got.emplace(std::move(r)); }));
        BOOST_TEST(req_counts.allocs.load() > 0);  // the operation's state, at initiation
        std::optional<dx::result<std::vector<int>>> batch;
        client.async_request_batch(std::vector<int>{1, 2, 3}, 2,
                                   net::bind_allocator(counting_allocator<void>(&batch_counts),
                                                       [&](dx::result<std::vector<int>> r) { batch.emplace(std::move(r)); }));
        BOOST_TEST(batch_counts.allocs.load() > 0);
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return got && batch; }));
        BOOST_TEST(holds_value(*got, 1));
        BOOST_TEST(batch->has_value());
        // Immediate completions use it too.
        std::optional<dx::result<int>> late;
        const int before = req_counts.allocs.load();
        client.async_request(1, 0s, net::bind_allocator(counting_allocator<void>(&req_counts), [&](dx::result<int> r) {
                                 late.emplace(std::move(r));
                             }));
        BOOST_TEST(req_counts.allocs.load() > before);
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return late.has_value(); }));

        responder.stop();
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run_done; }));
    }
    ctx.restart();
    ctx.run_for(2s);
    BOOST_TEST(ctx.stopped());
    // Everything allocated was given back through the same allocator.
    BOOST_TEST(req_counts.allocs.load() == req_counts.deallocs.load());
    BOOST_TEST(batch_counts.allocs.load() == batch_counts.deallocs.load());
    BOOST_TEST(run_counts.allocs.load() == run_counts.deallocs.load());
}

// ---- outstanding work ------------------------------------------------------

BOOST_AUTO_TEST_CASE(pending_request_keeps_io_context_run_from_returning)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(steady::duration::max()));
    auto& client = ch.first;
    ctx.poll();
    BOOST_TEST(ctx.stopped());  // nothing pending: out of work

    // A request nobody serves, without deadline (so no timer either).
    ctx.restart();
    std::optional<dx::result<int>> got;
    client.async_request(1, [&](dx::result<int> r) { got.emplace(std::move(r)); });
    ctx.poll();
    BOOST_TEST(!ctx.stopped());  // the pending request is outstanding work
    BOOST_TEST(!got.has_value());
    ctx.run_for(20ms);
    BOOST_TEST(!ctx.stopped());
    BOOST_TEST(!got.has_value());

    // Once it completes, run() returns by itself.
    { auto gone = std::move(ch.second); }
    ctx.restart();
    const auto t0 = steady::now();
    ctx.run_for(5s);
    BOOST_TEST(ctx.stopped());
    BOOST_TEST((steady::now() - t0 < 4s));
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST(failed_with(*got, dx::error::closed));
}

// Work is tracked on the handler's own executor.
BOOST_AUTO_TEST_CASE(pending_request_keeps_the_bound_executors_context_busy)
{
    net::io_context ctx, ctx2;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(steady::duration::max()));
    std::optional<dx::result<int>> got;
    ctx2.poll();
    BOOST_TEST(ctx2.stopped());
    ctx2.restart();
    ch.first.async_request(1, net::bind_executor(ctx2, [&](dx::result<int> r) { got.emplace(std::move(r)); }));
    ctx2.poll();
    BOOST_TEST(!ctx2.stopped());
    ch.second.stop();
    ctx2.restart();
    ctx2.run_for(5s);
    BOOST_TEST(ctx2.stopped());
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST(failed_with(*got, dx::error::closed));
}

// A pending async_run keeps run() going; it returns once the run ended by
// itself (the last client gone, its request answered).
BOOST_AUTO_TEST_CASE(run_ends_when_clients_gone_and_io_context_run_returns)
{
    net::io_context ctx;
    std::optional<dx::result<void>> run;
    std::optional<dx::result<int>> got;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    ch.second.async_run([](int x) { return x + 1; }, dx::fixed_concurrency{1},
                        [&](dx::result<void> r) { run.emplace(std::move(r)); });
    ch.first.async_request(1, [&](dx::result<int> r) { got.emplace(std::move(r)); });
    { auto gone = std::move(ch.first); }  // its request is still pending
    const auto t0 = steady::now();
    ctx.run_for(5s);
    BOOST_TEST(ctx.stopped());
    BOOST_TEST((steady::now() - t0 < 4s));
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST(holds_value(*got, 2));
    BOOST_TEST_REQUIRE(run.has_value());
    BOOST_TEST(run->has_value());
}

// Once every operation has completed (the requests answered, the run ended),
// the channel leaves no outstanding work behind: io_context::run() returns,
// instead of waiting for the deadline of a request long answered.
BOOST_AUTO_TEST_CASE(io_context_run_returns_once_nothing_is_pending)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(1h));
    std::optional<dx::result<void>> run;
    ch.second.async_run(
        [](int x) -> net::awaitable<int> {
            co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
            co_return x;
        },
        dx::fixed_concurrency{1}, [&](dx::result<void> r) { run.emplace(std::move(r)); });
    std::optional<dx::result<int>> got;
    ch.first.async_request(1, [&](dx::result<int> r) { got.emplace(std::move(r)); });  // deadline: 1 h from now
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return got.has_value(); }));
    BOOST_TEST(holds_value(*got, 1));
    ch.second.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));

    // Nothing is pending any more (the client still exists, unused).
    ctx.restart();
    const auto t0 = steady::now();
    ctx.run_for(3s);
    BOOST_TEST(ctx.stopped());  // out of work, not out of time
    BOOST_TEST((steady::now() - t0 < 2s));
}

// The same when the only request ended early: cancelled while queued (no run
// yet), it leaves nothing behind that would hold run() until its deadline.
BOOST_AUTO_TEST_CASE(io_context_run_returns_after_the_only_request_was_cancelled)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(1h));
    net::cancellation_signal sig;
    std::optional<dx::result<int>> got;
    ch.first.async_request(1, net::bind_cancellation_slot(sig.slot(), [&](dx::result<int> r) { got.emplace(std::move(r)); }));
    ctx.poll();  // the deadline timer is armed
    BOOST_TEST(!ctx.stopped());
    sig.emit(net::cancellation_type::partial);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return got.has_value(); }));
    BOOST_TEST(failed_with(*got, dx::error::cancelled));

    ctx.restart();
    const auto t0 = steady::now();
    ctx.run_for(3s);
    BOOST_TEST(ctx.stopped());  // out of work, not out of time
    BOOST_TEST((steady::now() - t0 < 2s));
}

// ---- per-operation cancellation --------------------------------------------

namespace {

// A channel whose awaitable handler holds each request until released,
// records whether it saw a cancellation and whether it ended.
struct holding_channel {
    holding_channel(net::io_context& ctx, std::size_t limit, bool cancellable, dx::channel_options opts = options(30s))
        : ch(dx::make_asio_channel<int, int>(ctx.get_executor(), opts))
    {
        ch.second.async_run(
            [this, cancellable](int x) -> net::awaitable<int> {
                handled.push_back(x);
                co_await h.hold(x, cancellable);
                auto cs = co_await net::this_coro::cancellation_state;
                if ((cs.cancelled() & net::cancellation_type::terminal) != net::cancellation_type::none)
                    saw_terminal.push_back(x);
                else if (cs.cancelled() != net::cancellation_type::none)
                    saw_other.push_back(x);
                ended.push_back(x);
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
    static bool has(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

    holds h;
    std::pair<client_t, responder_t> ch;
    std::vector<int> handled, ended, saw_terminal, saw_other;
    std::optional<dx::result<void>> run;
};

struct tracked_result {
    int calls = 0;
    std::optional<dx::result<int>> r;
    auto handler()
    {
        return [this](dx::result<int> res) {
            ++calls;
            r.emplace(std::move(res));
        };
    }
};

}  // namespace

// Terminal while the handler runs: cancelled at once (the handler still
// holds), the late result is dropped, and the handler heard of it.
BOOST_AUTO_TEST_CASE(terminal_cancellation_in_flight_completes_at_once_and_drops_late_result)
{
    net::io_context ctx;
    holding_channel c(ctx, 4, /*cancellable=*/false);
    net::cancellation_signal sig;
    tracked_result t;
    c.client().async_request(1, net::bind_cancellation_slot(sig.slot(), t.handler()));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.h.holding(1); }));
    const auto t0 = steady::now();
    sig.emit(net::cancellation_type::terminal);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return t.r.has_value(); }));
    BOOST_TEST((steady::now() - t0 < 1s));
    BOOST_TEST(failed_with(*t.r, dx::error::cancelled));
    BOOST_TEST(c.h.holding(1));  // not waiting for the handler
    c.h.release(1);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.ended.size() == 1 && c.responder().stats().in_flight == 0; }));
    poll(ctx);
    BOOST_TEST(t.calls == 1);  // the late 10 was dropped
    BOOST_TEST(failed_with(*t.r, dx::error::cancelled));
    BOOST_TEST(c.has(c.saw_terminal, 1));
    const auto st = c.responder().stats();
    BOOST_TEST(st.cancelled == 1u);
    BOOST_TEST(st.completed == 0u);
    c.finish(ctx);
}

// Where the handler's wait honours cancellation, the forwarded terminal
// cancellation ends it early.
BOOST_AUTO_TEST_CASE(terminal_cancellation_in_flight_reaches_awaitable_handler)
{
    net::io_context ctx;
    holding_channel c(ctx, 4, /*cancellable=*/true);
    net::cancellation_signal sig;
    tracked_result t;
    c.client().async_request(1, net::bind_cancellation_slot(sig.slot(), t.handler()));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.h.holding(1); }));
    sig.emit(net::cancellation_type::terminal);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return t.r.has_value() && c.ended.size() == 1; }));
    BOOST_TEST(failed_with(*t.r, dx::error::cancelled));
    BOOST_TEST(c.has(c.saw_terminal, 1));
    poll(ctx);
    BOOST_TEST(t.calls == 1);
    c.finish(ctx);
}

// partial and total while the handler runs: no effect, the request completes normally.
BOOST_AUTO_TEST_CASE(partial_and_total_cancellation_in_flight_have_no_effect)
{
    for (auto type : {net::cancellation_type::partial, net::cancellation_type::total}) {
        net::io_context ctx;
        holding_channel c(ctx, 4, /*cancellable=*/true);
        net::cancellation_signal sig;
        tracked_result t;
        c.client().async_request(1, net::bind_cancellation_slot(sig.slot(), t.handler()));
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.h.holding(1); }));
        sig.emit(type);
        poll(ctx);
        BOOST_TEST(!t.r.has_value());
        BOOST_TEST(c.h.holding(1));  // the handler was not interrupted
        c.h.release(1);
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return t.r.has_value(); }));
        BOOST_TEST(holds_value(*t.r, 10));
        BOOST_TEST(t.calls == 1);
        BOOST_TEST(c.saw_terminal.empty());
        BOOST_TEST(c.saw_other.empty());
        BOOST_TEST(c.responder().stats().cancelled == 0u);
        BOOST_TEST(c.responder().stats().completed == 1u);
        c.finish(ctx);
    }
}

// Any type while queued: cancelled at once, never reaches the handler.
BOOST_AUTO_TEST_CASE(any_cancellation_while_queued_cancels)
{
    for (auto type : {net::cancellation_type::partial, net::cancellation_type::total, net::cancellation_type::terminal}) {
        net::io_context ctx;
        holding_channel c(ctx, 1, /*cancellable=*/true);
        tracked_result first, queued;
        net::cancellation_signal sig;
        c.client().async_request(1, first.handler());
        c.client().async_request(2, net::bind_cancellation_slot(sig.slot(), queued.handler()));
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.h.holding(1); }));
        BOOST_TEST(c.responder().stats().queued == 1u);
        sig.emit(type);
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return queued.r.has_value(); }));
        BOOST_TEST(failed_with(*queued.r, dx::error::cancelled));
        BOOST_TEST(c.h.holding(1));
        BOOST_TEST(c.responder().stats().queued == 0u);
        c.h.release(1);
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return first.r.has_value(); }));
        BOOST_TEST(holds_value(*first.r, 10));
        poll(ctx);
        BOOST_TEST((c.handled == std::vector<int>{1}));
        BOOST_TEST(queued.calls == 1);
        BOOST_TEST(c.responder().stats().cancelled == 1u);
        c.finish(ctx);
    }
}

// Any type while waiting for room (capacity 1): cancelled, never handled; the
// queued request behind the running one still is.
BOOST_AUTO_TEST_CASE(any_cancellation_while_waiting_for_room_cancels)
{
    for (auto type : {net::cancellation_type::partial, net::cancellation_type::total, net::cancellation_type::terminal}) {
        net::io_context ctx;
        dx::channel_options opts = options(30s, 1);
        opts.on_full = dx::overflow::wait;
        holding_channel c(ctx, 1, /*cancellable=*/true, opts);
        tracked_result first, second, third;
        net::cancellation_signal sig;
        c.client().async_request(1, first.handler());
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.h.holding(1); }));
        c.client().async_request(2, second.handler());
        c.client().async_request(3, net::bind_cancellation_slot(sig.slot(), third.handler()));
        poll(ctx);
        BOOST_TEST(c.responder().stats().queued == 1u);  // 2 queued, 3 waits for room
        sig.emit(type);
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return third.r.has_value(); }));
        BOOST_TEST(failed_with(*third.r, dx::error::cancelled));
        BOOST_TEST(!second.r.has_value());
        c.h.release(1);
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.h.holding(2); }));
        c.h.release(2);
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return first.r && second.r; }));
        BOOST_TEST(holds_value(*second.r, 20));
        poll(ctx);
        BOOST_TEST((c.handled == std::vector<int>{1, 2}));
        BOOST_TEST(third.calls == 1);
        c.finish(ctx);
    }
}

// Before the run started, a queued request can be cancelled too.
BOOST_AUTO_TEST_CASE(cancellation_before_run_starts_cancels)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    net::cancellation_signal sig;
    tracked_result t, other;
    ch.first.async_request(1, net::bind_cancellation_slot(sig.slot(), t.handler()));
    ch.first.async_request(2, other.handler());
    sig.emit(net::cancellation_type::partial);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return t.r.has_value(); }));
    BOOST_TEST(failed_with(*t.r, dx::error::cancelled));
    std::vector<int> handled;
    std::optional<dx::result<void>> run;
    ch.second.async_run(
        [&](int x) {
            handled.push_back(x);
            return x;
        },
        dx::fixed_concurrency{1}, [&](dx::result<void> r) { run.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return other.r.has_value(); }));
    BOOST_TEST(holds_value(*other.r, 2));
    BOOST_TEST((handled == std::vector<int>{2}));
    ch.second.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
}

// A signal emitted after the request completed does nothing.
BOOST_AUTO_TEST_CASE(cancellation_after_completion_has_no_effect)
{
    net::io_context ctx;
    doubling_channel c(ctx);
    net::cancellation_signal sig;
    tracked_result t;
    c.client().async_request(3, net::bind_cancellation_slot(sig.slot(), t.handler()));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return t.r.has_value(); }));
    sig.emit(net::cancellation_type::terminal);
    // The slot is free again: a new request may use it, and is cancellable through it.
    tracked_result t2;
    c.client().async_request(4, net::bind_cancellation_slot(sig.slot(), t2.handler()));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return t2.r.has_value(); }));
    sig.emit(net::cancellation_type::terminal);
    poll(ctx);
    BOOST_TEST(t.calls == 1);
    BOOST_TEST(t2.calls == 1);
    BOOST_TEST(holds_value(*t.r, 6));
    BOOST_TEST(holds_value(*t2.r, 8));
    BOOST_TEST(c.responder().stats().cancelled == 0u);
    c.finish(ctx);
}

// Cancelling a coroutine that awaits a request (use_awaitable) cancels the request.
BOOST_AUTO_TEST_CASE(cancelling_an_awaiting_coroutine_cancels_its_request)
{
    net::io_context ctx;
    holding_channel c(ctx, 1, /*cancellable=*/false);
    tracked_result first;
    c.client().async_request(1, first.handler());
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return c.h.holding(1); }));

    net::cancellation_signal sig;
    std::optional<dx::result<int>> in_coro;
    bool coro_done = false;
    net::co_spawn(
        ctx,
        [&]() -> net::awaitable<void> { in_coro.emplace(co_await c.client().async_request(2, net::use_awaitable)); },
        net::bind_cancellation_slot(sig.slot(), [&](std::exception_ptr) { coro_done = true; }));
    poll(ctx);
    BOOST_TEST(c.responder().stats().queued == 1u);
    sig.emit(net::cancellation_type::terminal);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return coro_done; }));
    BOOST_TEST_REQUIRE(in_coro.has_value());
    BOOST_TEST(failed_with(*in_coro, dx::error::cancelled));
    c.h.release(1);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return first.r.has_value(); }));
    BOOST_TEST((c.handled == std::vector<int>{1}));
    c.finish(ctx);
}
