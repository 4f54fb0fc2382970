//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_FIBER_SIGNAL_HPP
#define BOOST_DUPLEX_DETAIL_FIBER_SIGNAL_HPP

#include <boost/duplex/detail/core/parking_mutex.hpp>
#include <boost/duplex/options.hpp>

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/context.hpp>
#include <boost/fiber/waker.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>

namespace boost::duplex::detail::fiber {

namespace fibers = boost::fibers;

// A flag that one fiber waits for and any thread raises. Its owner may go
// away as soon as it sees the flag, so raise() touches nothing of it once the
// waiter can see the flag.
//
// Only public Boost.Fiber API: the running fiber's context, its wakers and
// condition_variable_any.
//
// An untimed wait -- the one on every request's path: a client on the
// responder's thread, a parked worker -- takes no lock. The waiter publishes
// a waker of its context and suspends; the raiser that moves the flag from
// `parked` to `raised` owns that waker and is the only one to use it. The
// waiter cannot have been resumed before that wake (nothing else holds its
// waker's epoch, and creating it made every older waker stale), so the
// waker and the signal stay put until then; the waiter, once resumed, waits
// for the raiser to be out of wake() before it looks. A wake that overtakes the
// waiter's suspend() can only come from another thread: Boost.Fiber queues it
// as a remote wake-up, which the waiter's scheduler takes only after the
// waiter has suspended.
//
// A timed wait goes through a condition_variable_any and a small lock of our
// own instead: Boost.Fiber's lock-free timed wait makes a waker of its own
// (which makes a published one stale), and the timed wait that takes a waker
// wants Boost.Fiber's detail:: spinlock. Timed waits are the run loop's and
// those of clients on other threads than the responder's, which pay a
// cross-thread wake-up anyway.
class signal {
public:
    void raise() noexcept
    {
        std::uint8_t s = state_.load(std::memory_order_relaxed);
        for (;;) {
            switch (s) {
            case raised:
            case waking:
                return;  // a flag, not a count
            case empty:
                if (state_.compare_exchange_weak(s, raised, std::memory_order_release, std::memory_order_relaxed))
                    return;
                break;
            case parked:
                if (state_.compare_exchange_weak(s, waking, std::memory_order_acquire, std::memory_order_relaxed)) {
                    // Ours alone now: the waiter sleeps until this wake, and
                    // then waits for `raised`, set once wake() has returned.
                    // It must: the woken fiber may end its thread at once,
                    // and a remote wake-up touches that thread's scheduler
                    // until it returns (found by ThreadSanitizer: a run
                    // ending on the last client's wake-up).
                    waker_.wake();
                    state_.store(raised, std::memory_order_release);
                    return;
                }
                break;
            default: {  // timed: the waiter leaves that state under the lock only
                std::lock_guard<parking_mutex> lk(lock_);
                s = state_.load(std::memory_order_relaxed);
                if (s != timed)
                    continue;
                state_.store(raised, std::memory_order_release);
                timed_.notify_one();
                return;  // releasing the lock is the last touch: the waiter re-takes it before it looks
            }
            }
        }
    }

    // Waits until raised (and lowers it again), or until `deadline`; true if raised.
    bool wait_until(time_point deadline)
    {
        if (take_raised())
            return true;
        if (deadline == time_point::max()) {
            fibers::context* self = fibers::context::active();
            waker_ = self->create_waker();
            std::uint8_t s = empty;
            if (state_.compare_exchange_strong(s, parked, std::memory_order_release, std::memory_order_relaxed)) {
                self->suspend();  // resumed by the raise() that took `parked` away, and by nothing else
                for (unsigned spins = 0; state_.load(std::memory_order_acquire) == waking; ++spins) {
                    if (spins < 64)
                        spin_pause();  // the raiser is returning from wake()
                    else
                        std::this_thread::yield();  // ... or was preempted there
                }
            }
            // raised, either before the publication or by the wake
            state_.exchange(empty, std::memory_order_acquire);
            return true;
        }
        std::unique_lock<parking_mutex> lk(lock_);
        for (;;) {
            if (take_raised())
                return true;
            if (clock_type::now() >= deadline)
                return false;
            std::uint8_t s = empty;
            if (!state_.compare_exchange_strong(s, timed, std::memory_order_relaxed, std::memory_order_relaxed))
                continue;  // raised meanwhile
            timed_.wait_until(lk, deadline);
            if (state_.load(std::memory_order_relaxed) == timed)  // not raised: the deadline, or spurious
                state_.store(empty, std::memory_order_relaxed);
        }
    }

private:
    enum : std::uint8_t { empty, raised, parked, waking, timed };

    bool take_raised() noexcept
    {
        std::uint8_t s = raised;
        return state_.compare_exchange_strong(s, empty, std::memory_order_acquire, std::memory_order_relaxed);
    }

    std::atomic<std::uint8_t> state_{empty};
    fibers::waker waker_;  // written by the waiter before it publishes `parked`
    parking_mutex lock_;   // never held across a fiber switch, so no fiber of its thread can contend
    fibers::condition_variable_any timed_;
};

}  // namespace boost::duplex::detail::fiber

#endif
