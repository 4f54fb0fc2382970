//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The CPU time the calling thread has used (user + system), for tests that
// check that something idle costs nothing (test/asio/idle.cpp, test/fiber/idle.cpp).

#ifndef BOOST_DUPLEX_TEST_CPU_TIME_HPP
#define BOOST_DUPLEX_TEST_CPU_TIME_HPP

#include <sys/resource.h>

namespace duplex_test_support {

inline double thread_cpu_seconds()
{
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

}  // namespace duplex_test_support

#endif
