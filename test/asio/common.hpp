//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Small helpers shared by the Asio tests.
//
// Everything here waits for events, never for time: an io_context is run until
// a condition holds (with a bound, so that a bug fails the test instead of
// hanging it), and a handler is held "in flight" by a gate that the test opens.

#ifndef BOOST_DUPLEX_TEST_ASIO_COMMON_HPP
#define BOOST_DUPLEX_TEST_ASIO_COMMON_HPP

#include <boost/duplex/asio.hpp>
#include <boost/duplex/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace duplex_test {

namespace net = boost::asio;
namespace dx = boost::duplex;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// The error_code a result holds, or a default (success) code for a value.
// Boost.Test can print error codes, not the duplex enum, so tests compare these.
template <class T>
boost::system::error_code code_of(const dx::result<T>& r)
{
    return r.has_value() ? boost::system::error_code() : r.error();
}

inline boost::system::error_code code(dx::error e)
{
    return dx::make_error_code(e);
}

template <class T>
bool failed_with(const dx::result<T>& r, dx::error e)
{
    return !r.has_value() && r.error() == code(e);
}

template <class T>
bool holds_value(const dx::result<T>& r, const T& v)
{
    return r.has_value() && r.value() == v;
}

// Channel options with the given default timeout and capacity.
inline dx::channel_options options(clock_type::duration timeout, std::size_t capacity = 64)
{
    dx::channel_options o;
    o.timeout = timeout;
    o.capacity = capacity;
    return o;
}

// Runs `io` on the calling thread until `pred()` holds, for at most `limit`;
// returns whether it holds. It runs `io` in short slices, so that a condition
// made true by another thread (or another io_context) is seen too, and goes
// on waiting when `io` has run out of work.
template <class Pred>
bool run_until(net::io_context& io, Pred pred, clock_type::duration limit = 5s)
{
    const auto end = clock_type::now() + limit;
    while (!pred()) {
        if (clock_type::now() >= end)
            return false;
        if (io.stopped())
            io.restart();
        if (io.run_one_for(10ms) == 0 && io.stopped())
            std::this_thread::yield();
    }
    return true;
}

// Runs every handler that is ready now, without waiting.
inline void poll(net::io_context& io)
{
    if (io.stopped())
        io.restart();
    io.poll();
}

// Seconds since `t0`, for messages.
inline double seconds_since(clock_type::time_point t0)
{
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// One request's outcome, how many times it completed, and when.
struct outcome {
    std::optional<dx::result<int>> r;
    int completions = 0;
    clock_type::time_point started{};
    clock_type::time_point at{};

    bool done() const { return r.has_value(); }
    clock_type::duration elapsed() const { return at - started; }
    bool is(dx::error e) const { return done() && code_of(*r) == code(e); }
    bool holds(int v) const { return done() && r->has_value() && r->value() == v; }
};

// A completion handler for async_request that fills `o` (one thread only).
// The request's clock starts when this is called, just before the request.
inline auto record(outcome& o)
{
    o.started = clock_type::now();
    return [&o](dx::result<int> r) {
        o.at = clock_type::now();
        ++o.completions;
        o.r.emplace(std::move(r));
    };
}

template <class Range>
bool all_done(const Range& outcomes)
{
    for (const outcome& o : outcomes)
        if (!o.done())
            return false;
    return true;
}

// Something an awaitable handler can wait on until the test opens it. Each
// waiter waits on a timer of its own, made on its coroutine's executor (the
// responder strand); open() posts the timer's cancellation to that executor,
// so it may be called from any thread. A terminal cancellation of the waiting
// coroutine also ends the wait.
class gate {
public:
    gate() = default;
    gate(const gate&) = delete;
    gate& operator=(const gate&) = delete;

    // Waits until the gate opens or the coroutine is cancelled. True when the
    // gate is open.
    net::awaitable<bool> wait()
    {
        auto ex = co_await net::this_coro::executor;
        auto t = std::make_shared<net::steady_timer>(ex, net::steady_timer::time_point::max());
        if (!enlist(t))
            co_return true;
        co_await t->async_wait(net::as_tuple(net::use_awaitable));
        co_return is_open();
    }

    // Waits until the gate opens, whatever cancellations come meanwhile (a
    // handler that finishes anyway and produces a late result).
    net::awaitable<void> wait_ignoring_cancellation()
    {
        // (g++ 12 miscompiles a co_await in a loop condition: keep it a statement.)
        for (;;) {
            const bool open = co_await wait();
            if (open)
                co_return;
            co_await net::this_coro::reset_cancellation_state();
        }
    }

    void open()
    {
        std::vector<std::shared_ptr<net::steady_timer>> waiting;
        {
            std::lock_guard lock(mutex_);
            open_ = true;
            waiting.swap(waiting_);
        }
        for (auto& t : waiting)
            net::post(t->get_executor(), [t] { t->cancel(); });
    }

    bool is_open() const
    {
        std::lock_guard lock(mutex_);
        return open_;
    }

private:
    bool enlist(const std::shared_ptr<net::steady_timer>& t)
    {
        std::lock_guard lock(mutex_);
        if (open_)
            return false;
        waiting_.push_back(t);
        return true;
    }

    mutable std::mutex mutex_;
    bool open_ = false;
    std::vector<std::shared_ptr<net::steady_timer>> waiting_;
};

// A condition that threads announce and the test thread waits for, with a bound.
class event {
public:
    // Call after changing whatever the waited-for predicate reads.
    void notify()
    {
        std::lock_guard lock(mutex_);
        cv_.notify_all();
    }

    template <class Pred>
    bool wait_for(Pred pred, clock_type::duration limit)
    {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, limit, pred);
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
};

// Runs `io` on `threads` threads until `pred()` holds (checked whenever `ev`
// is notified), at most `limit`; then stops them, joins them and runs whatever
// handlers were left ready (so that a duplicate completion still shows).
// Returns whether `pred()` held in time.
template <class Pred>
bool run_threads_until(net::io_context& io, int threads, event& ev, Pred pred, clock_type::duration limit)
{
    auto guard = net::make_work_guard(io);
    std::vector<std::thread> pool;
    for (int i = 0; i != threads; ++i)
        pool.emplace_back([&io] { io.run(); });
    const bool ok = ev.wait_for(pred, limit);
    guard.reset();
    io.stop();
    for (auto& t : pool)
        t.join();
    io.restart();
    io.poll();
    return ok;
}

// An awaitable handler that records the requests it sees, holds each one
// until `g` opens (cancellation notwithstanding: its result then comes late)
// and answers req * 2.
inline auto gated_handler(gate& g, std::vector<int>& seen)
{
    return [&g, &seen](int req) -> net::awaitable<int> {
        seen.push_back(req);
        co_await g.wait_ignoring_cancellation();
        co_return req * 2;
    };
}

// A synchronous handler that records the requests it sees and answers req * 2.
inline auto recording_handler(std::vector<int>& seen)
{
    return [&seen](int req) {
        seen.push_back(req);
        return req * 2;
    };
}

}  // namespace duplex_test

#endif
