//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Which sanitizer, if any, this test is built with (g++ says so with
// __SANITIZE_*__, clang with __has_feature). Tests that count allocations or
// bound memory and time measure the tool under one, not the library, and
// report instead of checking there (see test/sanitizers/README.md):
//   DUPLEX_TEST_UNDER_TSAN   ThreadSanitizer (it owns operator new/delete)
//   DUPLEX_TEST_SANITIZED    any sanitizer that intercepts the allocator or
//                            slows the code down several times

#ifndef BOOST_DUPLEX_TEST_SANITIZED_HPP
#define BOOST_DUPLEX_TEST_SANITIZED_HPP

#if defined(__SANITIZE_THREAD__)
#define DUPLEX_TEST_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DUPLEX_TEST_UNDER_TSAN 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(DUPLEX_TEST_UNDER_TSAN)
#define DUPLEX_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(hwaddress_sanitizer)
#define DUPLEX_TEST_SANITIZED 1
#endif
#endif

namespace duplex_test_support {
#if defined(DUPLEX_TEST_SANITIZED)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif
}  // namespace duplex_test_support

#endif
