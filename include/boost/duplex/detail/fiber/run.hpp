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
#include <boost/duplex/detail/core/parking_mutex.hpp>
#include <boost/duplex/detail/fiber/channel.hpp>
#include <boost/duplex/detail/fiber/stack_pool.hpp>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include <boost/fiber/condition_variable.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

namespace boost::duplex::detail::fiber {

// The handler fibers of a run. A worker runs invocations one after another:
// when one ends it takes the next request from the core itself, so that a
// busy responder needs neither a fiber per request nor a hand-off through the
// run loop for each. A worker that finds nothing parks until the run loop
// hands it a request, or the run ends; the last of them to park (the
// responder is then wholly idle) is the one the next request wakes directly
// (channel::apply()), so that a lone client's request reaches its handler in
// one fiber switch. Workers live on recycled stacks, and the run returns only
// after the last of them stopped touching it.
//
// A worker that always finds more work would never give its thread up, and
// the requests the run loop handed to other workers (taken earlier) would wait
// behind every newer one it takes; their deadlines passed before their
// handlers started. So a worker yields before taking more while a request
// handed over by the run loop waits for its worker, and after a run of
// invocations in a row, so that the run loop (the channel's timer) and the
// clients of its thread get their turn. A request the run loop takes while
// no worker is idle waits for the first worker to come back (from its
// handler, its yield or a wake-up); only those still waiting after one round
// of the thread's fibers get new workers (settle()). So the pool stays as
// large as the most handlers ever blocked at once, not as the largest burst
// the run loop ever took.
template <class Channel, class Handler, class Limiter>
class worker_pool {
    using core_type = typename Channel::core_type;
    using slot_type = typename core_type::slot_type;
    using Response = typename Channel::response_type;

    // Lives on the worker's own stack.
    struct worker : Channel::idle_worker {
        worker* below = nullptr;  // the idle stack
    };

public:
    worker_pool(Channel& ch, Handler& handler, Limiter& limiter, std::size_t stack_size)
        : ch_(ch), handler_(handler), limiter_(limiter), stacks_(stack_size)
    {
    }

    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;

    // Hands the taken request `s` (not yet begun) to an idle worker, or
    // leaves it for the next worker to come back (settle()).
    void start(slot_type* s) noexcept
    {
        handed_.fetch_add(1, std::memory_order_relaxed);
        std::unique_lock lk(mutex_);
        typename Channel::idle_worker* w = idle_;
        if (w)
            idle_ = idle_->below;
        else
            w = ch_.parked_worker.exchange(nullptr, std::memory_order_acq_rel);
        if (w) {
            w->next = s;
            w->wake.raise();
            return;
        }
        s->chain = nullptr;
        (waiting_last_ ? waiting_last_->chain : waiting_first_) = s;
        waiting_last_ = s;
        ++waiting_count_;
    }

    // Called by the run loop after it handed out what it took: the requests
    // no idle worker took start on new workers -- but only those still
    // waiting once every worker woken or yielding meanwhile had its turn.
    // With handlers that return at once, the workers just woken come back for
    // them and the pool keeps the size it has; a handler that blocks leaves
    // them waiting, and they get workers of their own one round later.
    // Without this, a batch larger than the idle workers made the pool grow
    // to the largest batch ever taken -- stacks the load never needed, taken
    // in steady state.
    void settle() noexcept
    {
        {
            std::unique_lock lk(mutex_);
            if (waiting_count_ <= yielding_)
                return;
        }
        boost::this_fiber::yield();
        std::unique_lock lk(mutex_);
        while (waiting_count_ > yielding_) {
            slot_type* s = pop_waiting();
            ++live_;
            lk.unlock();
            spawn(s);
            lk.lock();
        }
    }

    // Workers hold the run's state through this (see run_state): a worker
    // still running when a drained run returns keeps it alive.
    void set_owner(std::weak_ptr<void> owner) noexcept { owner_ = std::move(owner); }

    // Ends the parked workers and, with `wait`, waits until every worker is
    // gone. Called when the run is over: no request is running any more, or
    // (a drain passed, `wait` false) those still running were closed and
    // their workers end by themselves.
    void close(bool wait)
    {
        std::unique_lock lk(mutex_);
        closing_ = true;
        while (worker* w = idle_) {
            idle_ = w->below;
            w->wake.raise();
        }
        if (auto* w = ch_.parked_worker.exchange(nullptr, std::memory_order_acq_rel))
            w->wake.raise();
        if (wait)
            gone_.wait(lk, [this] { return live_ == 0; });
    }

private:
    // Starts a worker for `s`, counted in live_ already.
    void spawn(slot_type* s) noexcept
    {
        try {
            fibers::fiber(std::allocator_arg, stacks_, [this, s, keep = owner_.lock()] { work(s, false); }).detach();
        } catch (...) {
            fail_unstarted(s);
        }
    }

    // No fiber (std::bad_alloc, or no stack): the request fails, the run goes
    // on. Out of line: its result<Response> would otherwise take room on
    // every frame of the run loop, which runs on its caller's stack (with a
    // large Response, more than a fiber's default stack).
    BOOST_NOINLINE void fail_unstarted(slot_type* s) noexcept
    {
        handed_.fetch_sub(1, std::memory_order_relaxed);
        if (ch_.core.begin(s, time_to_begin(s))) {
            limiter_.on_start();
            end_invocation(ch_.core, limiter_, s, result<Response>(make_error_code(error::handler_failed)),
                           time_point{}, time_point{});
        }
        std::unique_lock lk(mutex_);
        --live_;
    }

    // The oldest request waiting for a worker, or null. Under the lock.
    slot_type* pop_waiting() noexcept
    {
        slot_type* s = waiting_first_;
        if (s) {
            waiting_first_ = s->chain;
            if (!waiting_first_)
                waiting_last_ = nullptr;
            s->chain = nullptr;
            --waiting_count_;
        }
        return s;
    }

    // `started`: `s` was taken by this worker and starts at once; a request
    // handed over by the run loop waited meanwhile and must pass begin().
    void work(slot_type* s, bool started) noexcept
    {
        static constexpr unsigned streak_limit = 64;
        worker self;
        unsigned streak = 0;
        for (;;) {
            if (s) {
                if (!started)
                    handed_.fetch_sub(1, std::memory_order_relaxed);
                if (started || ch_.core.begin(s, time_to_begin(s)))
                    invoke(s);
                if (handed_.load(std::memory_order_relaxed) != 0 || ++streak == streak_limit) {
                    streak = 0;
                    if (slot_type* handed = yield()) {
                        s = handed;
                        started = false;
                        continue;
                    }
                }
            }
            // Woken for an idle responder's request (s is null), the worker
            // does not come back for more until its handler returns, which
            // may block: the next request must wake the run loop then.
            auto next = ch_.core.take(limiter_.limit(), clock_type::now(), 1, 1,
                                      s ? core_type::taker::comes_back : core_type::taker::may_block);
            if (next.more || next.done)
                ch_.responder_wake.raise();  // room for more than one, or the run is over
            if (next.count != 0) {
                s = next.first;
                started = true;
                continue;
            }
            // Nothing to do. The take above left the responder idle, so the
            // next request asks for a wake-up. The last worker to park gets
            // it directly (channel::apply()): the whole responder is idle, and
            // the request's handler starts one fiber switch later. While
            // other workers still run, it is theirs and the run loop's to
            // take (they come back for more, the run loop takes in bursts),
            // so the others wait on the idle stack for the run loop.
            std::unique_lock lk(mutex_);
            if (!closing_) {
                typename Channel::idle_worker* none = nullptr;
                if (live_ - parked_ != 1 ||
                    !ch_.parked_worker.compare_exchange_strong(none, &self, std::memory_order_acq_rel)) {
                    self.below = idle_;
                    idle_ = &self;
                }
                ++parked_;
                lk.unlock();
                self.wake.wait_until(time_point::max());  // raised by whoever took it off the stack or the channel
                lk.lock();
                --parked_;
            }
            slot_type* handed = std::exchange(self.next, nullptr);
            if (!handed)
                handed = pop_waiting();  // woken by a client, or for the end: a request left for any worker first
            if (handed) {
                s = handed;
                started = false;
                continue;
            }
            if (closing_) {
                // The worker's very last touch of the pool.
                if (--live_ == 0)
                    gone_.notify_all();
                return;
            }
            s = nullptr;  // woken for a request to take: look for it
        }
    }

    // Takes a request left for any worker, if there is one; otherwise lets
    // the other fibers of the thread run, counting meanwhile as a worker that
    // comes back for one (settle()), and returns what is left then.
    slot_type* yield() noexcept
    {
        {
            std::unique_lock lk(mutex_);
            if (slot_type* s = pop_waiting())
                return s;
            ++yielding_;
        }
        boost::this_fiber::yield();
        std::unique_lock lk(mutex_);
        --yielding_;
        return pop_waiting();
    }

    void invoke(slot_type* s) noexcept
    {
        limiter_.on_start();
        const time_point started = invocation_clock<Limiter>::now();
        auto r = invoke_taken<Response, core_type>(handler_, s);
        end_invocation(ch_.core, limiter_, s, std::move(r), started, invocation_clock<Limiter>::now());
    }

    Channel& ch_;
    Handler& handler_;
    Limiter& limiter_;
    stack_pool stacks_;
    std::weak_ptr<void> owner_;

    std::atomic<std::size_t> handed_{0};  // handed over by the run loop, not yet begun by their worker
    // Never held across a suspension (waits release it), so a thread's lock
    // serves: a fiber mutex costs several look-ups of the running fiber.
    parking_mutex mutex_;
    worker* idle_ = nullptr;
    // Handed over while no worker was idle, for the next worker to come back
    // (settle() starts new workers for those still there after a round),
    // oldest first, chained through slot::chain.
    slot_type* waiting_first_ = nullptr;
    slot_type* waiting_last_ = nullptr;
    std::size_t waiting_count_ = 0;
    std::size_t yielding_ = 0;
    std::size_t live_ = 0;
    std::size_t parked_ = 0;  // of the live workers, those waiting to be woken (counted until they run)
    bool closing_ = false;
    fibers::condition_variable_any gone_;
};

// The handler fibers' stack unless the user says otherwise: 128 KiB, and room
// for a few requests and responses more where they are large (an invocation
// holds the request, the handler's copy of it, the response and its result
// on its frames), rounded up to 4 KiB pages.
template <class Request, class Response>
constexpr std::size_t default_stack_size() noexcept
{
    constexpr std::size_t base = 128 * 1024;
    constexpr std::size_t frames = 64 * 1024 + 8 * (sizeof(Request) + sizeof(result<Response>));
    constexpr std::size_t want = frames > base ? frames : base;
    return (want + 4095) / 4096 * 4096;
}

// What a run owns, on the heap: a worker still running when a drained run
// returns (stop(drain)) keeps it, and the channel, alive until it ends.
template <class Channel, class Handler, class Limiter>
struct run_state {
    using locked_type = locked_limiter<Limiter>;

    run_state(std::shared_ptr<Channel> c, Handler&& h, Limiter&& l, std::size_t stack_size)
        : ch(std::move(c)), handler(std::move(h)), limiter(std::move(l)), workers(*ch, handler, limiter, stack_size)
    {
    }

    std::shared_ptr<Channel> ch;
    Handler handler;
    locked_type limiter;
    worker_pool<Channel, Handler, locked_type> workers;
};

// fiber_responder::run: takes requests from the core as the limiter allows and
// hands them to the worker fibers. While idle the loop waits for a wake-up or
// for the channel's earliest deadline, which it then expires; after
// stop(drain), for the drain's end too, when it closes what still runs and
// returns without waiting for it (error::timeout if a handler still ran).
template <class Channel, class Handler, class Limiter>
result<void> run(std::shared_ptr<Channel> chp, Handler handler, Limiter l, std::size_t stack_size)
{
    auto state = std::make_shared<run_state<Channel, Handler, Limiter>>(std::move(chp), std::move(handler), std::move(l),
                                                                        stack_size);
    state->workers.set_owner(state);
    Channel& ch = *state->ch;
    auto& core = ch.core;
    auto& limiter = state->limiter;
    auto& workers = state->workers;
    core.set_limit(limiter.limit());
    ch.run_thread.store(std::this_thread::get_id());

    bool fired = false;     // the last wait ended at the core's deadline
    bool drained = false;   // a drain passed before the run was over
    bool abandoned = false; // ... with handlers still running
    for (;;) {
        const time_point drain_at = core.drain_deadline();
        if (drain_at != time_point::max() && clock_type::now() >= drain_at) {
            auto end = core.end_drain();
            ch.apply(end.fx);
            drained = true;
            abandoned = end.abandoned;
            break;
        }
        // Workers start the requests later, each when its fiber runs: each
        // request is checked then (begin()), not here.
        auto batch = core.take(limiter.limit(), clock_type::now(), SIZE_MAX, 0);
        if (batch.done)
            break;
        for (auto* s = batch.first; s;) {
            auto* next = s->chain;  // read first: the worker may finish the slot at once
            workers.start(s);
            s = next;
        }
        workers.settle();
        // The loop is the channel's timer: next_deadline() records what it
        // waits for, so that an earlier deadline wakes it. With nothing
        // pending it waits lazily (up to a default timeout from now, once per
        // idle period): requests with the default timeout then need no
        // re-arm, so the wake-up of an idle responder goes straight to a
        // parked worker (channel::apply()) rather than through this loop.
        if (batch.count == 0) {
            const time_point due = core.next_deadline(clock_type::now(), true, fired);
            const time_point until = std::min(due, drain_at);
            fired = !ch.responder_wake.wait_until(until) && until == due;
            if (fired)
                core.expire(clock_type::now());
        }
    }
    ch.run_thread.store(std::thread::id());
    workers.close(!drained);
    if (abandoned)
        return make_error_code(error::timeout);
    return boost::outcome_v2::success();
}

}  // namespace boost::duplex::detail::fiber

#endif
