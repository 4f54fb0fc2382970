//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Small helpers shared by the Boost.Fiber guarantee tests.
//
// Everything here waits for events, never for time: a handler is held "in
// flight" by a gate the test opens, the test waits (with a bound) until a
// counter reaches a value, and each test case runs under a watchdog thread
// that ends the process with a message if the case hangs, so that a bug
// fails the test instead of blocking CI.
//
// The primitives are Boost.Fiber ones (fibers::mutex, condition_variable):
// waiting on them blocks only the calling fiber, they work across threads,
// and a thread's main context (a plain thread that never started a fiber)
// may use them too.
//
// Boost.Test is not thread-safe: fibers of the test's own thread may use
// BOOST_TEST (never BOOST_TEST_REQUIRE, whose exception would escape the
// fiber and terminate), other threads record into atomics that the test
// checks afterwards.

#ifndef BOOST_DUPLEX_TEST_FIBER_COMMON_HPP
#define BOOST_DUPLEX_TEST_FIBER_COMMON_HPP

#include <boost/duplex/error.hpp>
#include <boost/duplex/fiber.hpp>

#include <boost/fiber/all.hpp>
#include <boost/system/error_code.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

// Lets BOOST_TEST print std::chrono durations (in seconds) and time points
// when a comparison of them fails.
namespace boost::test_tools::tt_detail {
template <class Rep, class Period>
struct print_log_value<std::chrono::duration<Rep, Period>> {
    void operator()(std::ostream& os, const std::chrono::duration<Rep, Period>& d)
    {
        os << std::chrono::duration<double>(d).count() << " s";
    }
};
template <class Clock, class Duration>
struct print_log_value<std::chrono::time_point<Clock, Duration>> {
    void operator()(std::ostream& os, const std::chrono::time_point<Clock, Duration>& t)
    {
        os << std::chrono::duration<double>(t.time_since_epoch()).count() << " s since the clock's epoch";
    }
};
}  // namespace boost::test_tools::tt_detail

namespace fiber_test {

namespace dx = boost::duplex;
namespace fibers = boost::fibers;
namespace this_fiber = boost::this_fiber;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using duration = clock_type::duration;

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

inline double seconds(duration d)
{
    return std::chrono::duration<double>(d).count();
}

inline double seconds_since(clock_type::time_point t0)
{
    return seconds(clock_type::now() - t0);
}

// Ends the process (exit code 3), naming the test case, if it is still alive
// after `limit`: a hang fails the test instead of blocking CI. Start one at the top
// of each test case, before anything that may block.
class watchdog {
public:
    explicit watchdog(duration limit = 20s)
        : name_(boost::unit_test::framework::current_test_case().full_name())
        , thread_([this, limit] {
            std::unique_lock lk(mutex_);
            if (!cv_.wait_for(lk, limit, [this] { return done_; })) {
                std::fprintf(stderr, "\n*** watchdog: test case '%s' still running after %.0f s: exiting (a hang)\n",
                             name_.c_str(), seconds(limit));
                std::fflush(stderr);
                std::fflush(stdout);
                // Not abort(): Boost.Test catches SIGABRT and would jump back
                // into the test thread from this one.
                std::_Exit(3);
            }
        })
    {
    }

    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;

    ~watchdog()
    {
        {
            std::lock_guard lk(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();  // returns at once: the watchdog thread runs no fiber
    }

private:
    std::string name_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

// A fiber joined when it goes out of scope (a fibers::fiber still joinable
// at destruction would terminate the process).
class scoped_fiber {
public:
    scoped_fiber() = default;
    template <class F>
    explicit scoped_fiber(F&& f) : f_(std::forward<F>(f))
    {
    }
    scoped_fiber(scoped_fiber&&) = default;
    scoped_fiber& operator=(scoped_fiber&& other)
    {
        join();
        f_ = std::move(other.f_);
        return *this;
    }
    ~scoped_fiber() { join(); }

    void join()
    {
        if (f_.joinable())
            f_.join();
    }

private:
    fibers::fiber f_;
};

// Something a handler can wait on until the test opens it. Usable from any
// fiber on any thread.
class gate {
public:
    void wait()
    {
        std::unique_lock lk(mutex_);
        cv_.wait(lk, [this] { return open_; });
    }

    // Waits at most `limit`; true if the gate is open.
    bool wait_for(duration limit)
    {
        std::unique_lock lk(mutex_);
        return cv_.wait_for(lk, limit, [this] { return open_; });
    }

    void open()
    {
        std::unique_lock lk(mutex_);
        open_ = true;
        cv_.notify_all();
    }

    bool is_open()
    {
        std::unique_lock lk(mutex_);
        return open_;
    }

private:
    fibers::mutex mutex_;
    fibers::condition_variable cv_;
    bool open_ = false;
};

// A counter that fibers and threads bump and the test waits on, with a bound.
// It also records the highest value it held (for "at most N at once").
class counter {
public:
    std::size_t add(std::size_t n = 1)
    {
        std::unique_lock lk(mutex_);
        value_ += n;
        max_ = std::max(max_, value_);
        cv_.notify_all();
        return value_;
    }

    std::size_t sub(std::size_t n = 1)
    {
        std::unique_lock lk(mutex_);
        value_ -= n;
        cv_.notify_all();
        return value_;
    }

    std::size_t get()
    {
        std::unique_lock lk(mutex_);
        return value_;
    }

    std::size_t max()
    {
        std::unique_lock lk(mutex_);
        return max_;
    }

    // Waits until the value is at least `n`; false if that took longer than `limit`.
    bool wait_at_least(std::size_t n, duration limit = 5s)
    {
        std::unique_lock lk(mutex_);
        return cv_.wait_for(lk, limit, [&] { return value_ >= n; });
    }

    bool wait_at_most(std::size_t n, duration limit = 5s)
    {
        std::unique_lock lk(mutex_);
        return cv_.wait_for(lk, limit, [&] { return value_ <= n; });
    }

private:
    fibers::mutex mutex_;
    fibers::condition_variable cv_;
    std::size_t value_ = 0;
    std::size_t max_ = 0;
};

// Waits, blocking only the calling fiber, until `pred()` holds, checking it
// every millisecond; false if it still does not after `limit`. For
// conditions nothing notifies (a responder's stats, a plain thread's flag).
template <class Pred>
bool poll_until(Pred pred, duration limit = 5s)
{
    const auto end = clock_type::now() + limit;
    while (!pred()) {
        if (clock_type::now() >= end)
            return pred();
        this_fiber::sleep_for(1ms);
    }
    return true;
}

// Lets every other ready fiber of this thread run a few rounds: enough for a
// responder that could (wrongly) start another handler to do so. Used only to
// check that something does NOT happen; never to wait for something.
inline void let_others_run(int rounds = 50)
{
    for (int i = 0; i != rounds; ++i)
        this_fiber::yield();
}

// A fiber channel whose two ends can be dropped separately.
template <class Request, class Response, class Storage = dx::sharded_slab>
struct channel {
    using client_type = dx::fiber_client<Request, Response, Storage>;
    using responder_type = dx::fiber_responder<Request, Response, Storage>;

    explicit channel(dx::channel_options opts = {})
    {
        auto p = dx::make_fiber_channel<Request, Response, Storage>(opts);
        client.emplace(std::move(p.first));
        responder.emplace(std::move(p.second));
    }

    std::optional<client_type> client;
    std::optional<responder_type> responder;
};

// Runs `responder.run(handler, strategy)` in a fiber of the calling thread
// and keeps its result. The responder must outlive this object (declare it
// first). join() waits for the run to return.
class runner {
public:
    template <class Responder, class Handler, class Strategy>
    runner(Responder& responder, Handler handler, Strategy strategy)
        : f_([this, &responder, handler = std::move(handler), strategy]() mutable {
            auto r = responder.run(std::move(handler), std::move(strategy));
            result_ = r ? boost::system::error_code() : r.error();
            done_.add();
        })
    {
    }

    template <class Responder, class Handler>
    runner(Responder& responder, Handler handler) : runner(responder, std::move(handler), dx::fixed_concurrency{})
    {
    }

    // Waits (bounded) for the run to return; true if it did.
    bool wait_done(duration limit = 5s) { return done_.wait_at_least(1, limit); }
    bool done() { return done_.get() != 0; }
    void join() { f_.join(); }
    // The run's result: a default code for success.
    boost::system::error_code result() const { return *result_; }
    bool has_result() const { return result_.has_value(); }

private:
    counter done_;
    std::optional<boost::system::error_code> result_;
    scoped_fiber f_;
};

// Objects that count how many of them are alive, to check that every request
// and response the channel took over is destroyed once (no leak, no double
// destruction).
template <class Tag>
struct tracked {
    static inline std::atomic<long> alive{0};

    int value = 0;

    explicit tracked(int v) : value(v) { ++alive; }
    tracked(const tracked& o) : value(o.value) { ++alive; }
    tracked(tracked&& o) noexcept : value(o.value) { ++alive; }
    tracked& operator=(const tracked&) = default;
    tracked& operator=(tracked&&) = default;
    ~tracked() { --alive; }
};

}  // namespace fiber_test

#endif
