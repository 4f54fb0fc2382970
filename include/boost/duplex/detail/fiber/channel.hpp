//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_FIBER_CHANNEL_HPP
#define BOOST_DUPLEX_DETAIL_FIBER_CHANNEL_HPP

#include <boost/duplex/detail/core/channel_core.hpp>
#include <boost/duplex/detail/fiber/signal.hpp>
#include <boost/duplex/options.hpp>

#include <atomic>
#include <thread>

namespace boost::duplex::detail::fiber {

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

    // A handler fiber of the run with nothing to do, parked until handed a
    // request or told to look for one.
    struct idle_worker {
        signal wake;
        typename core_type::slot_type* next = nullptr;  // a request handed over by the run loop
    };

    explicit channel(const channel_options& opts) : core(opts) {}

    // Carries out what a call into the core asked for. The responder keeps the
    // deadlines of requests it holds; waiting clients keep their own, so a
    // re-armed timer needs nothing more than a wake-up of the run loop. Work
    // for an idle responder goes straight to the worker parked for it, if
    // there is one: the request's handler then starts after one fiber switch,
    // not two (run loop, then worker).
    void apply(effects fx) noexcept
    {
        if (fx.rearm_timer) {
            responder_wake.raise();  // the run loop takes the work too
        } else if (fx.wake_responder) {
            if (idle_worker* w = parked_worker.exchange(nullptr, std::memory_order_acq_rel))
                w->wake.raise();
            else
                responder_wake.raise();
        }
    }

    core_type core;
    signal responder_wake;
    // The worker that takes the next request of an idle responder itself
    // (at most one; whoever takes it out of here wakes it).
    std::atomic<idle_worker*> parked_worker{nullptr};
    std::atomic<bool> run_started{false};
    std::atomic<bool> running{false};
    // The thread of the running run loop, which keeps every deadline of the
    // channel while it waits (std::thread::id() when no run is going).
    std::atomic<std::thread::id> run_thread{};
};

}  // namespace boost::duplex::detail::fiber

#endif
