//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//
// scripts/fiber_tsan.sh's check of the Boost.Fiber/Context it built with
// ThreadSanitizer: two threads, each running a fiber that increments one
// shared counter 1000 times and yields to its scheduler in between. Built
// with -DRACE=1 the increment is unprotected and TSan must report a data
// race (it follows the fiber switches: without them it could not tell the
// fibers apart); with -DRACE=0 it is under a boost::fibers::mutex, and the
// fiber switches, the mutex's lock and unlock, and the wake-ups across the
// threads inside the library must leave TSan with nothing to report.

#include <boost/fiber/all.hpp>

#include <cstdio>
#include <latch>
#include <mutex>
#include <thread>

namespace {

int counter = 0;
boost::fibers::mutex counter_mutex;
// Both fibers are alive while either increments: a fiber that ended before
// the other began could leave its TSan thread slot to the other, whose
// accesses TSan would then take for the same thread's (a limit of the tool).
std::latch started(2), finished(2);

void add_many()
{
    boost::fibers::fiber f([] {
        started.arrive_and_wait();
        for (int i = 0; i != 1000; ++i) {
#if RACE
            ++counter;
#else
            std::lock_guard lk(counter_mutex);
            ++counter;
#endif
            boost::this_fiber::yield();
        }
        finished.arrive_and_wait();
    });
    f.join();
}

} // namespace

int main()
{
    std::thread a(add_many), b(add_many);
    a.join();
    b.join();
    std::printf("counter %d\n", counter);
    return 0;
}
