//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_FIBER_CHANNEL_HPP
#define BOOST_DUPLEX_DETAIL_FIBER_CHANNEL_HPP

#include <boost/duplex/detail/core/channel_core.hpp>
#include <boost/duplex/options.hpp>

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>

#include <atomic>
#include <mutex>

namespace boost::duplex::detail::fiber {

namespace fibers = boost::fibers;

// A flag that one fiber waits for and any thread raises. Its owner may go
// away as soon as it sees the flag, so raise() touches nothing after
// releasing the lock.
class signal {
public:
    void raise() noexcept
    {
        std::unique_lock lk(mutex_);
        raised_ = true;
        cv_.notify_all();
    }

    // Waits until raised (and lowers it again), or until `deadline`; true if raised.
    bool wait_until(time_point deadline)
    {
        std::unique_lock lk(mutex_);
        while (!raised_) {
            if (deadline == time_point::max())
                cv_.wait(lk);
            else if (cv_.wait_until(lk, deadline) == fibers::cv_status::timeout)
                break;
        }
        const bool was = raised_;
        raised_ = false;
        return was;
    }

    bool raised() noexcept
    {
        std::unique_lock lk(mutex_);
        return raised_;
    }

private:
    fibers::mutex mutex_;
    fibers::condition_variable cv_;
    bool raised_ = false;
};

// Waits for `done` while driving the channel's deadlines: whenever the wait
// reaches `next_deadline()` it expires what is due, so that no timer thread
// is needed (each waiting fiber keeps the deadlines it waits on).
template <class Core, class NextDeadline>
void wait_driving_deadlines(Core& core, signal& done, NextDeadline next_deadline)
{
    while (!done.wait_until(next_deadline()))
        core.expire(clock_type::now());
}

// The state shared by the clients and the responder of a fiber channel.
template <class Request, class Response, class Storage>
class channel {
public:
    using core_type = channel_core<Request, Response, Storage>;
    using request_type = Request;
    using response_type = Response;

    explicit channel(const channel_options& opts) : core(opts) {}

    // Carries out what a call into the core asked for. The responder keeps the
    // deadlines of requests it holds; waiting clients keep their own, so a
    // re-armed timer needs nothing more than a wake-up.
    void apply(effects fx) noexcept
    {
        if (fx.wake_responder || fx.rearm_timer)
            responder_wake.raise();
    }

    core_type core;
    signal responder_wake;
    std::atomic<bool> run_started{false};
    std::atomic<bool> running{false};
};

}  // namespace boost::duplex::detail::fiber

#endif
