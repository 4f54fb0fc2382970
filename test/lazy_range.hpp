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
#include <stdexcept>
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

// A single-pass range of 0, 1, 2, ... whose iterator throws on its
// `throw_at`-th increment (a stream that breaks): input ranges are read
// before anything is sent.
struct breaking_input_range {
    int size;
    int throw_at;

    struct iterator {
        using value_type = int;
        using difference_type = std::ptrdiff_t;
        using iterator_concept = std::input_iterator_tag;
        const breaking_input_range* r = nullptr;
        int v = 0;
        int operator*() const { return v; }
        iterator& operator++()
        {
            if (++v == r->throw_at)
                throw std::runtime_error("the stream broke");
            return *this;
        }
        void operator++(int) { ++*this; }
        bool operator==(std::default_sentinel_t) const { return v == r->size; }
    };

    iterator begin() const { return {this, 0}; }
    std::default_sentinel_t end() const { return {}; }
};
static_assert(std::ranges::input_range<breaking_input_range>);
static_assert(!std::ranges::forward_range<breaking_input_range>);

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
