//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_TEST_THROWING_LIMITER_HPP
#define BOOST_DUPLEX_TEST_THROWING_LIMITER_HPP

#include <chrono>
#include <cstddef>
#include <new>
#include <stdexcept>

namespace duplex_test_support {

// A user limiter that throws from every call: limit() every third time (4
// otherwise), on_start() always, on_complete() std::bad_alloc always.
// `*calls` counts the limit() calls.
struct throwing_limiter {
    int* calls;

    std::size_t limit()
    {
        if (++*calls % 3 == 0)
            throw std::runtime_error("limit");
        return 4;
    }
    void on_start() { throw std::runtime_error("on_start"); }
    void on_complete(std::chrono::nanoseconds, bool) { throw std::bad_alloc(); }
};

}  // namespace duplex_test_support

#endif
