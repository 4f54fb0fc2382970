//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Threads, Asio backend: clients used from many threads at once, io_contexts
// run by several threads, a client whose completions run on another
// io_context, a channel made on a strand or on a single-threaded context,
// stop() and destruction from another thread while requests flow.
// Everything must be answered exactly once and correctly.
//
// Boost.Test assertions are not thread-safe: worker threads only count, the
// main thread checks.

#define BOOST_TEST_MODULE asio_multithread
#include <boost/test/unit_test.hpp>

#include <boost/duplex/asio.hpp>
#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/error.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace net = boost::asio;
namespace dx = boost::duplex;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

dx::channel_options options(steady::duration timeout, std::size_t capacity = 64)
{
    dx::channel_options o;
    o.timeout = timeout;
    o.capacity = capacity;
    return o;
}

using client_t = dx::asio_client<int, int>;
using responder_t = dx::asio_responder<int, int>;

// Runs an io_context on `n` threads until destroyed (bounded, so that a bug
// cannot hang the test forever).
class thread_pool {
public:
    thread_pool(net::io_context& ctx, int n) : ctx_(ctx), work_(net::make_work_guard(ctx))
    {
        for (int i = 0; i < n; ++i)
            threads_.emplace_back([this] { ctx_.run_for(60s); });
    }
    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;
    // Stops the context (whatever is left is abandoned: every test waits for
    // what it checks first) and joins the threads.
    ~thread_pool()
    {
        work_.reset();
        ctx_.stop();
        for (auto& t : threads_)
            t.join();
    }

    bool runs_this_thread() const
    {
        for (auto& t : threads_)
            if (t.get_id() == std::this_thread::get_id())
                return true;
        return false;
    }

private:
    net::io_context& ctx_;
    net::executor_work_guard<net::io_context::executor_type> work_;
    std::vector<std::thread> threads_;
};

// Counts answers from any thread; the main thread waits for the total.
class tally {
public:
    explicit tally(int total) : total_(total) {}

    void answer(bool right)
    {
        if (!right)
            ++wrong_;
        if (++answered_ == total_)
            done_.set_value();
    }

    bool wait(steady::duration limit = 20s) { return future_.wait_for(limit) == std::future_status::ready; }
    int answered() const { return answered_.load(); }
    int wrong() const { return wrong_.load(); }

private:
    const int total_;
    std::atomic<int> answered_{0};
    std::atomic<int> wrong_{0};
    std::promise<void> done_;
    std::future<void> future_ = done_.get_future();
};

// The promise-backed completion of a run.
struct run_waiter {
    std::promise<dx::result<void>> p;
    std::future<dx::result<void>> f = p.get_future();
    auto handler()
    {
        return [this](dx::result<void> r) { p.set_value(std::move(r)); };
    }
    std::optional<dx::result<void>> wait(steady::duration limit = 10s)
    {
        if (f.wait_for(limit) != std::future_status::ready)
            return std::nullopt;
        return f.get();
    }
};

// Issues `per_thread` requests from each of `threads` threads, each thread
// with a client copy of its own; every answer must be `x * 2 + 1`.
void hammer(client_t client, int threads, int per_thread, tally& t)
{
    std::vector<std::thread> issuers;
    for (int k = 0; k < threads; ++k)
        issuers.emplace_back([&, k] {
            client_t mine = client;
            for (int i = 0; i < per_thread; ++i) {
                const int x = k * 100000 + i;
                mine.async_request(x, [&t, x](dx::result<int> r) { t.answer(r.has_value() && r.value() == x * 2 + 1); });
            }
        });
    for (auto& th : issuers)
        th.join();
}

}  // namespace

// A synchronous handler on a context run by 4 threads, clients on 6 threads:
// every answer right; the handler's invocations never overlap.
BOOST_AUTO_TEST_CASE(many_client_threads_on_a_four_thread_io_context)
{
    constexpr int threads = 6, per_thread = 400;
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s, 256));
    std::atomic<bool> inside{false};
    std::atomic<int> overlaps{0};
    run_waiter run;
    ch.second.async_run(
        [&](int x) {
            if (inside.exchange(true))
                ++overlaps;
            const int y = x * 2 + 1;
            inside.store(false);
            return y;
        },
        dx::fixed_concurrency{8}, run.handler());
    thread_pool pool(ctx, 4);

    tally t(threads * per_thread);
    // stats() from another thread meanwhile
    std::atomic<bool> stop_polling{false};
    std::atomic<int> bad_stats{0};
    std::thread poller([&] {
        while (!stop_polling.load()) {
            const auto st = ch.second.stats();
            if (st.in_flight > 8 || st.queued > 256)
                ++bad_stats;
            std::this_thread::yield();
        }
    });
    hammer(ch.first, threads, per_thread, t);
    const bool all = t.wait();
    stop_polling = true;
    poller.join();
    BOOST_TEST_REQUIRE(all);
    BOOST_TEST(t.wrong() == 0);
    BOOST_TEST(overlaps.load() == 0);
    BOOST_TEST(bad_stats.load() == 0);
    BOOST_TEST(ch.second.stats().completed == static_cast<std::uint64_t>(threads * per_thread));

    ch.second.stop();
    auto r = run.wait();
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->has_value());
}

// Coroutine handlers on a context run by 4 threads: each resumption runs on
// the responder strand (never two at once), at most `limit` in flight.
BOOST_AUTO_TEST_CASE(awaitable_handlers_on_a_four_thread_io_context)
{
    constexpr int threads = 4, per_thread = 300;
    constexpr std::size_t limit = 8;
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    std::atomic<bool> inside{false};
    std::atomic<int> overlaps{0};
    std::atomic<std::size_t> in_flight{0}, max_in_flight{0};
    auto enter = [&] {
        if (inside.exchange(true))
            ++overlaps;
    };
    run_waiter run;
    ch.second.async_run(
        [&](int x) -> net::awaitable<int> {
            enter();
            const std::size_t now_in = ++in_flight;
            std::size_t seen = max_in_flight.load();
            while (now_in > seen && !max_in_flight.compare_exchange_weak(seen, now_in)) {
            }
            inside.store(false);
            co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
            enter();
            --in_flight;
            inside.store(false);
            co_return x * 2 + 1;
        },
        dx::fixed_concurrency{limit}, run.handler());
    thread_pool pool(ctx, 4);

    tally t(threads * per_thread);
    hammer(ch.first, threads, per_thread, t);
    BOOST_TEST_REQUIRE(t.wait());
    BOOST_TEST(t.wrong() == 0);
    BOOST_TEST(overlaps.load() == 0);
    BOOST_TEST(max_in_flight.load() <= limit);
    ch.second.stop();
    auto r = run.wait();
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->has_value());
}

// The channel on ctx1 (2 threads); clients are coroutines on ctx2 (2 other
// threads) whose completions come back on ctx2.
BOOST_AUTO_TEST_CASE(clients_on_a_different_io_context_than_the_channel)
{
    constexpr int coroutines = 8, per_coroutine = 100;
    net::io_context ctx1, ctx2;
    auto ch = dx::make_asio_channel<int, int>(ctx1.get_executor(), options(30s));
    run_waiter run;
    ch.second.async_run([](int x) { return x * 2 + 1; }, dx::fixed_concurrency{4}, run.handler());
    thread_pool pool1(ctx1, 2);
    thread_pool pool2(ctx2, 2);

    tally t(coroutines * per_coroutine);
    std::atomic<int> off_ctx2{0};
    for (int k = 0; k < coroutines; ++k)
        net::co_spawn(
            ctx2,
            [&, k, client = ch.first]() mutable -> net::awaitable<void> {
                for (int i = 0; i < per_coroutine; ++i) {
                    const int x = k * 1000 + i;
                    auto r = co_await client.async_request(x, net::use_awaitable);
                    if (!ctx2.get_executor().running_in_this_thread() || !pool2.runs_this_thread())
                        ++off_ctx2;
                    t.answer(r.has_value() && r.value() == x * 2 + 1);
                }
            },
            net::detached);
    BOOST_TEST_REQUIRE(t.wait());
    BOOST_TEST(t.wrong() == 0);
    BOOST_TEST(off_ctx2.load() == 0);
    ch.second.stop();
    auto r = run.wait();
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->has_value());
}

// The channel made on a strand of a 4-thread context: unbound completions run
// on that strand.
BOOST_AUTO_TEST_CASE(channel_on_a_strand_of_a_multithreaded_context)
{
    constexpr int threads = 4, per_thread = 300;
    net::io_context ctx;
    auto strand = net::make_strand(ctx);
    auto ch = dx::make_asio_channel<int, int>(strand, options(30s));
    run_waiter run;
    ch.second.async_run([](int x) { return x * 2 + 1; }, dx::fixed_concurrency{4}, run.handler());
    thread_pool pool(ctx, 4);

    tally t(threads * per_thread);
    std::atomic<int> off_strand{0};
    std::vector<std::thread> issuers;
    for (int k = 0; k < threads; ++k)
        issuers.emplace_back([&, k, client = ch.first]() mutable {
            for (int i = 0; i < per_thread; ++i) {
                const int x = k * 100000 + i;
                client.async_request(x, [&, x](dx::result<int> r) {
                    if (!strand.running_in_this_thread())
                        ++off_strand;
                    t.answer(r.has_value() && r.value() == x * 2 + 1);
                });
            }
        });
    for (auto& th : issuers)
        th.join();
    BOOST_TEST_REQUIRE(t.wait());
    BOOST_TEST(t.wrong() == 0);
    BOOST_TEST(off_strand.load() == 0);
    ch.second.stop();
    auto r = run.wait();
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->has_value());
}

// The channel on a context run by one thread, clients on 4 other threads
// waiting on futures, one request at a time, plus batches.
BOOST_AUTO_TEST_CASE(single_threaded_channel_context_with_client_threads)
{
    constexpr int threads = 4, per_thread = 150;
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    run_waiter run;
    ch.second.async_run([](int x) { return x * 2 + 1; }, dx::fixed_concurrency{2}, run.handler());
    thread_pool pool(ctx, 1);

    std::atomic<int> right{0}, wrong{0}, batches_right{0};
    std::vector<std::thread> issuers;
    for (int k = 0; k < threads; ++k)
        issuers.emplace_back([&, k, client = ch.first]() mutable {
            for (int i = 0; i < per_thread; ++i) {
                const int x = k * 1000 + i;
                auto f = client.async_request(x, net::use_future);
                if (f.wait_for(10s) != std::future_status::ready) {
                    ++wrong;
                    return;
                }
                auto r = f.get();
                ++(r.has_value() && r.value() == x * 2 + 1 ? right : wrong);
            }
            // (A batch through a callback and a promise: use_future with
            // result<std::vector<int>> trips a g++ 12 -Wmaybe-uninitialized
            // false positive at -O2 in this spot.)
            std::vector<int> reqs{k, k + 1, k + 2};
            std::promise<bool> pb;
            client.async_request_batch(reqs, 2, [&pb, k](dx::result<std::vector<int>> b) {
                pb.set_value(b.has_value() && b.value() == std::vector<int>{2 * k + 1, 2 * k + 3, 2 * k + 5});
            });
            auto fb = pb.get_future();
            if (fb.wait_for(10s) == std::future_status::ready && fb.get())
                ++batches_right;
        });
    for (auto& th : issuers)
        th.join();
    BOOST_TEST(right.load() == threads * per_thread);
    BOOST_TEST(wrong.load() == 0);
    BOOST_TEST(batches_right.load() == threads);
    ch.second.stop();
    auto r = run.wait();
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->has_value());
}

// stop() from the main thread while 4 threads issue requests to a 4-thread
// context: each request completes exactly once, with its value or closed;
// the run completes with success.
BOOST_AUTO_TEST_CASE(stop_from_another_thread_while_requests_flow)
{
    constexpr int threads = 4, per_thread = 500;
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    run_waiter run;
    ch.second.async_run(
        [](int x) -> net::awaitable<int> {
            co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
            co_return x * 2 + 1;
        },
        dx::fixed_concurrency{8}, run.handler());
    thread_pool pool(ctx, 4);

    std::vector<std::atomic<int>> calls(threads * per_thread);
    std::atomic<int> values{0}, closed{0}, other{0}, answered{0};
    std::promise<void> all_p, some_p;
    auto all_f = all_p.get_future(), some_f = some_p.get_future();
    std::vector<std::thread> issuers;
    for (int k = 0; k < threads; ++k)
        issuers.emplace_back([&, k, client = ch.first]() mutable {
            for (int i = 0; i < per_thread; ++i) {
                const int x = k * per_thread + i;
                client.async_request(x, [&, x](dx::result<int> r) {
                    ++calls[static_cast<std::size_t>(x)];
                    if (r.has_value() && r.value() == x * 2 + 1)
                        ++values;
                    else if (!r.has_value() && r.error() == dx::make_error_code(dx::error::closed))
                        ++closed;
                    else
                        ++other;
                    const int n = ++answered;
                    if (n == 100)
                        some_p.set_value();
                    if (n == threads * per_thread)
                        all_p.set_value();
                });
            }
        });
    BOOST_TEST_REQUIRE((some_f.wait_for(20s) == std::future_status::ready));
    ch.second.stop();
    for (auto& th : issuers)
        th.join();
    BOOST_TEST_REQUIRE((all_f.wait_for(20s) == std::future_status::ready));
    auto r = run.wait();
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->has_value());
    BOOST_TEST(other.load() == 0);
    BOOST_TEST(values.load() + closed.load() == threads * per_thread);
    BOOST_TEST(values.load() >= 100);
    int not_once = 0;
    for (auto& c : calls)
        not_once += c.load() == 1 ? 0 : 1;
    BOOST_TEST(not_once == 0);
    BOOST_TEST_MESSAGE("stop under load: " << values.load() << " answered, " << closed.load() << " closed");
}

// The responder destroyed from the main thread while 4 threads issue requests
// to a 4-thread context and coroutine handlers are in flight: each request
// completes exactly once (value or closed), the run with closed.
BOOST_AUTO_TEST_CASE(responder_destroyed_from_another_thread_while_requests_flow)
{
    constexpr int threads = 4, per_thread = 500;
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    std::optional<responder_t> responder(std::move(ch.second));
    run_waiter run;
    responder->async_run(
        [](int x) -> net::awaitable<int> {
            net::steady_timer t(co_await net::this_coro::executor, std::chrono::microseconds(200 * (x % 5)));
            co_await t.async_wait(net::use_awaitable);
            co_return x * 2 + 1;
        },
        dx::fixed_concurrency{8}, run.handler());
    thread_pool pool(ctx, 4);

    std::vector<std::atomic<int>> calls(threads * per_thread);
    std::atomic<int> values{0}, closed{0}, other{0}, answered{0};
    std::promise<void> all_p, some_p;
    auto all_f = all_p.get_future(), some_f = some_p.get_future();
    std::vector<std::thread> issuers;
    for (int k = 0; k < threads; ++k)
        issuers.emplace_back([&, k, client = ch.first]() mutable {
            for (int i = 0; i < per_thread; ++i) {
                const int x = k * per_thread + i;
                client.async_request(x, [&, x](dx::result<int> r) {
                    ++calls[static_cast<std::size_t>(x)];
                    if (r.has_value() && r.value() == x * 2 + 1)
                        ++values;
                    else if (!r.has_value() && r.error() == dx::make_error_code(dx::error::closed))
                        ++closed;
                    else
                        ++other;
                    const int n = ++answered;
                    if (n == 50)
                        some_p.set_value();
                    if (n == threads * per_thread)
                        all_p.set_value();
                });
            }
        });
    BOOST_TEST_REQUIRE((some_f.wait_for(20s) == std::future_status::ready));
    responder.reset();
    for (auto& th : issuers)
        th.join();
    BOOST_TEST_REQUIRE((all_f.wait_for(20s) == std::future_status::ready));
    auto r = run.wait();
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST((!r->has_value() && r->error() == dx::make_error_code(dx::error::closed)));
    BOOST_TEST(other.load() == 0);
    BOOST_TEST(values.load() + closed.load() == threads * per_thread);
    int not_once = 0;
    for (auto& c : calls)
        not_once += c.load() == 1 ? 0 : 1;
    BOOST_TEST(not_once == 0);
}

// Requests with short deadlines racing their handlers across threads: each
// completes exactly once, with its value or timeout.
BOOST_AUTO_TEST_CASE(deadlines_racing_handlers_across_threads)
{
    constexpr int threads = 4, per_thread = 250;
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s, 1000));
    run_waiter run;
    ch.second.async_run(
        [](int x) -> net::awaitable<int> {
            net::steady_timer t(co_await net::this_coro::executor, std::chrono::microseconds(300 * (x % 7)));
            co_await t.async_wait(net::use_awaitable);
            co_return x * 2 + 1;
        },
        dx::fixed_concurrency{16}, run.handler());
    thread_pool pool(ctx, 4);

    std::vector<std::atomic<int>> calls(threads * per_thread);
    std::atomic<int> values{0}, timeouts{0}, other{0};
    tally t(threads * per_thread);
    std::vector<std::thread> issuers;
    for (int k = 0; k < threads; ++k)
        issuers.emplace_back([&, k, client = ch.first]() mutable {
            for (int i = 0; i < per_thread; ++i) {
                const int x = k * per_thread + i;
                client.async_request(x, std::chrono::milliseconds(1 + 10 * (i % 5)), [&, x](dx::result<int> r) {
                    ++calls[static_cast<std::size_t>(x)];
                    if (r.has_value() && r.value() == x * 2 + 1)
                        ++values;
                    else if (!r.has_value() && r.error() == dx::make_error_code(dx::error::timeout))
                        ++timeouts;
                    else
                        ++other;
                    t.answer(true);
                });
            }
        });
    for (auto& th : issuers)
        th.join();
    BOOST_TEST_REQUIRE(t.wait());
    BOOST_TEST(other.load() == 0);
    BOOST_TEST(values.load() + timeouts.load() == threads * per_thread);
    ch.second.stop();
    auto r = run.wait();
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->has_value());
    int not_once = 0;
    for (auto& c : calls)
        not_once += c.load() == 1 ? 0 : 1;
    BOOST_TEST(not_once == 0);
    const auto st = ch.second.stats();
    BOOST_TEST(st.completed + st.timed_out == static_cast<std::uint64_t>(threads * per_thread));
    BOOST_TEST_MESSAGE("deadline race: " << values.load() << " values, " << timeouts.load() << " timeouts");
}
