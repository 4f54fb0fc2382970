//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// A value whose moves throw on demand, for the tests of what a Request or a
// Response whose move throws does (issue #12): after arm(k), the k-th move
// (counted on every thread) throws std::bad_alloc, once. Move-only, so that
// only moves carry it.

#ifndef BOOST_DUPLEX_TEST_FRAGILE_HPP
#define BOOST_DUPLEX_TEST_FRAGILE_HPP

#include <atomic>
#include <new>

namespace duplex_test_support {

class fragile {
public:
    explicit fragile(int x = 0) noexcept : v(x) {}
    fragile(fragile&& o) : v(o.v) { tick(); }
    fragile& operator=(fragile&& o)
    {
        tick();
        v = o.v;
        return *this;
    }
    fragile(const fragile&) = delete;
    fragile& operator=(const fragile&) = delete;
    ~fragile() = default;

    int v;

    // The k-th move from now throws (0: none).
    static void arm(int k) noexcept { countdown().store(k); }

private:
    static std::atomic<int>& countdown() noexcept
    {
        static std::atomic<int> n{0};
        return n;
    }

    static void tick()
    {
        int n = countdown().load();
        while (n > 0 && !countdown().compare_exchange_weak(n, n - 1)) {
        }
        if (n == 1)
            throw std::bad_alloc();
    }
};

// What a request for `fragile(x)` may end with when a move may have thrown:
// its value `expect`, or the error `failed`.
template <class Result, class Error>
bool is_value_or(const Result& r, int expect, const Error& failed)
{
    return r.has_value() ? r.value().v == expect : r.error() == failed;
}

}  // namespace duplex_test_support

#endif
