//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CORE_PARKING_MUTEX_HPP
#define BOOST_DUPLEX_DETAIL_CORE_PARKING_MUTEX_HPP

#include <atomic>
#include <cstdint>

namespace boost::duplex::detail {

// Tells the processor that this thread spins (lets a sibling hyper-thread run,
// and leaves the spin loop without a memory-order mis-speculation).
inline void spin_pause() noexcept
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    asm volatile("yield" ::: "memory");
#endif
}

// The lock of the channel's core and of its helpers: a Lockable that spins
// briefly, then parks on the lock word (a futex on Linux, through
// std::atomic::wait).
//
// Why not std::mutex: the core's critical sections are a few dozen
// instructions, taken by a client and the responder on different threads many
// million times a second. glibc's mutex parks a thread in the kernel at the
// first sign of contention, so a client that meets the responder inside the
// lock pays two system calls and a sleep for a lock that would have been free
// a few hundred nanoseconds later; and its uncontended lock and unlock are
// calls into libc with more checks than this needs. Here the uncontended
// path is one compare-and-swap to lock and one exchange to unlock, inline.
// The spin is bounded (a few microseconds at most) and only reads the word,
// so a preempted holder costs a waiter that much before it parks, not a core.
//
// The states are those of the classic futex mutex (Drepper, "Futexes Are
// Tricky", mutex 3): 0 free, 1 locked, 2 locked and someone may be parked.
class parking_mutex {
public:
    parking_mutex() = default;
    parking_mutex(const parking_mutex&) = delete;
    parking_mutex& operator=(const parking_mutex&) = delete;

    void lock() noexcept
    {
        if (!try_lock()) [[unlikely]]
            lock_contended();
    }

    bool try_lock() noexcept
    {
        std::uint32_t expected = 0;
        return state_.compare_exchange_strong(expected, 1, std::memory_order_acquire, std::memory_order_relaxed);
    }

    void unlock() noexcept
    {
        if (state_.exchange(0, std::memory_order_release) == 2) [[unlikely]]
            state_.notify_one();
    }

private:
    void lock_contended() noexcept
    {
        // Spin first: the holder is most likely running and about to let go.
        for (int i = 0; i != spin_rounds; ++i) {
            spin_pause();
            std::uint32_t s = state_.load(std::memory_order_relaxed);
            if (s == 0 && state_.compare_exchange_weak(s, 1, std::memory_order_acquire, std::memory_order_relaxed))
                return;
            if (s == 2)
                break;  // others are parked already: join them rather than cut in line for long
        }
        // Park. Whoever takes the lock from here on marks it 2, so that its
        // unlock wakes the next sleeper; a spurious 2 costs one empty wake-up.
        while (state_.exchange(2, std::memory_order_acquire) != 0)
            state_.wait(2, std::memory_order_relaxed);
    }

    // 0.2-4 µs of pauses, depending on the processor: longer than the core's
    // critical sections, far shorter than a sleep and its wake-up.
    static constexpr int spin_rounds = 64;

    std::atomic<std::uint32_t> state_{0};
};

}  // namespace boost::duplex::detail

#endif
