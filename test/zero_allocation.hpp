//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// What the zero-allocation tests of both backends share: the process-wide
// allocation counter (defined here: include this header in exactly one unit
// of a test program, after <boost/test/unit_test.hpp>), the load's shape and
// the echo handler.

#ifndef BOOST_DUPLEX_TEST_ZERO_ALLOCATION_HPP
#define BOOST_DUPLEX_TEST_ZERO_ALLOCATION_HPP

// The counter replaces malloc & co; a sanitizer that intercepts them
// (AddressSanitizer, ThreadSanitizer, MemorySanitizer) cannot live with that:
// its own interceptors (strdup & co) allocate from its heap, which the
// replacement free() then hands to glibc. Under one the counter is left out
// and the cases check nothing.
#include "sanitized.hpp"
#if defined(DUPLEX_TEST_SANITIZED)
#define DUPLEX_TEST_NO_ALLOCATION_COUNTER
#endif
#if !defined(DUPLEX_TEST_NO_ALLOCATION_COUNTER)
#define BOOST_DUPLEX_BENCH_ALLOC_COUNTER_DEFINE
#endif
#include "../bench/alloc_counter.hpp"

#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <cstdint>

namespace zero_allocation_test {

namespace bench = boost::duplex::bench;

using value_type = std::uint64_t;

constexpr std::uint64_t warm_requests = 10'000;
constexpr std::uint64_t measured_requests = 10'000;
constexpr std::size_t client_count = 64;
constexpr std::size_t batch_concurrency = 64;

// False, with a message, where the counter does not see allocations.
inline bool counting()
{
#if defined(DUPLEX_TEST_NO_ALLOCATION_COUNTER)
    const bool on = false;
#else
    const bool on = bench::allocation_counting();
#endif
    if (on)
        return true;
    BOOST_TEST_MESSAGE("allocation counting is off in this build (a sanitizer, or another allocator, intercepts "
                       "malloc): "
                       << boost::unit_test::framework::current_test_case().p_name.get() << " is not checked");
    return false;
}

struct echo {
    value_type operator()(value_type v) const noexcept { return v; }
};

// A request value no other request of the run carries.
constexpr value_type request_value(std::uint64_t client, std::uint64_t n)
{
    return (client << 32) | n;
}

}  // namespace zero_allocation_test

#endif
