//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_FIBER_RUN_HPP
#define BOOST_DUPLEX_DETAIL_FIBER_RUN_HPP

#include <boost/duplex/detail/core/invocation.hpp>
#include <boost/duplex/detail/core/limiter.hpp>
#include <boost/duplex/detail/fiber/channel.hpp>
#include <boost/duplex/detail/fiber/stack_pool.hpp>

#include <boost/fiber/fiber.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>

namespace boost::duplex::detail::fiber {

// Counts the handler fibers of a run, so that the run returns only after the
// last of them stopped touching it.
class fiber_count {
public:
    void add() noexcept
    {
        std::unique_lock lk(mutex_);
        ++live_;
    }

    // A fiber's very last touch of the run.
    void remove() noexcept
    {
        std::unique_lock lk(mutex_);
        if (--live_ == 0)
            cv_.notify_all();
    }

    void wait_zero()
    {
        std::unique_lock lk(mutex_);
        cv_.wait(lk, [this] { return live_ == 0; });
    }

private:
    fibers::mutex mutex_;
    fibers::condition_variable cv_;
    std::size_t live_ = 0;
};

// fiber_responder::run: takes requests from the core as the limiter allows and
// runs each handler invocation in a fiber of its own, which reports its end
// back and wakes this loop. While idle the loop waits for a wake-up or for the
// channel's earliest deadline, which it then expires.
template <class Channel, class Handler, class Limiter>
result<void> run(Channel& ch, Handler& handler, Limiter l)
{
    using core_type = typename Channel::core_type;
    using slot_type = typename core_type::slot_type;
    using Response = typename Channel::response_type;

    locked_limiter<Limiter> limiter(std::move(l));
    fiber_count fibers_alive;
    auto& core = ch.core;
    core.set_limit(limiter.limit());
    stack_pool stacks;

    for (;;) {
        auto batch = core.take(limiter.limit(), clock_type::now());
        if (batch.done)
            break;
        for (slot_type* s = batch.first; s;) {
            slot_type* next = s->chain;
            limiter.on_start();
            fibers_alive.add();
            try {
                fibers::fiber(std::allocator_arg, stacks, [&ch, &handler, &limiter, &fibers_alive, s] {
                    const time_point started = clock_type::now();
                    auto r = invoke_sync<Response>(handler, core_type::take_request(s));
                    end_invocation(ch.core, limiter, s, std::move(r), started, clock_type::now());
                    ch.responder_wake.raise();
                    fibers_alive.remove();
                }).detach();
            } catch (...) {
                // No fiber (std::bad_alloc, or no stack): the request fails, the run goes on.
                end_invocation(core, limiter, s, result<Response>(make_error_code(error::handler_failed)),
                               clock_type::now(), clock_type::now());
                fibers_alive.remove();
            }
            s = next;
        }
        if (batch.count == 0 && !ch.responder_wake.wait_until(core.earliest_deadline()))
            core.expire(clock_type::now());
    }
    fibers_alive.wait_zero();
    return boost::outcome_v2::success();
}

}  // namespace boost::duplex::detail::fiber

#endif
