//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// What the bad-input tests of both backends use to make huge batches cheaply
// and to see how much memory they cost.

#ifndef BOOST_DUPLEX_TEST_LAZY_RANGE_HPP
#define BOOST_DUPLEX_TEST_LAZY_RANGE_HPP

#include <cstddef>
#include <cstring>
#include <fstream>
#include <iterator>
#include <ranges>
#include <string>

namespace duplex_test_support {

// A lazy, sized range of consecutive numbers (std::views::iota, which clang 14
// cannot compile with libstdc++ 12): a batch reads it element by element,
// so the requests take no memory.
template <class T>
struct counting_iterator {
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::forward_iterator_tag;
    T v{};
    T operator*() const { return v; }
    counting_iterator& operator++()
    {
        ++v;
        return *this;
    }
    counting_iterator operator++(int)
    {
        auto t = *this;
        ++v;
        return t;
    }
    bool operator==(const counting_iterator&) const = default;
    friend difference_type operator-(const counting_iterator& a, const counting_iterator& b)
    {
        return static_cast<difference_type>(a.v) - static_cast<difference_type>(b.v);
    }
};

template <class T>
struct counting_range {
    T first, last;
    counting_iterator<T> begin() const { return {first}; }
    counting_iterator<T> end() const { return {last}; }
};

template <class T>
counting_range<T> counting(T first, T last)
{
    return {first, last};
}
static_assert(std::ranges::forward_range<counting_range<int>>);
static_assert(std::ranges::sized_range<counting_range<int>>);

// A field of /proc/self/status in kB (VmRSS, VmHWM), or -1 if unreadable.
inline long proc_status_kb(const char* field)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::size_t n = std::strlen(field);
    while (std::getline(in, line))
        if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':')
            return std::stol(line.substr(n + 1));
    return -1;
}

}  // namespace duplex_test_support

#endif
