//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CORE_REQUEST_SOURCE_HPP
#define BOOST_DUPLEX_DETAIL_CORE_REQUEST_SOURCE_HPP

#include <cstddef>
#include <memory>
#include <iterator>
#include <new>
#include <ranges>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace boost::duplex::detail {

// A batch's requests, read one at a time as the batch submits them, so that
// memory follows the concurrency rather than the batch size. An rvalue range
// is owned and its elements are moved from; an lvalue range is referred to
// (it must outlive the operation, like an Asio buffer) and copied from. A
// single-pass range, whose size cannot be known in advance, is read into a
// vector first.
template <class Request, class Range>
class request_source {
    static constexpr bool owned = !std::is_lvalue_reference_v<Range>;
    using range_type = std::remove_cvref_t<Range>;
    static constexpr bool countable = std::ranges::sized_range<range_type> || std::ranges::forward_range<range_type>;
    static constexpr bool by_value = owned || !countable;
    using view_type = std::conditional_t<!countable, std::vector<Request>,
                                         std::conditional_t<owned, range_type, std::remove_reference_t<Range>>>;
    using holder = std::conditional_t<by_value, view_type, view_type*>;

public:
    explicit request_source(Range&& r) : range_(make(std::forward<Range>(r), broken_)), it_(std::ranges::begin(get()))
    {
        if constexpr (std::ranges::sized_range<view_type>)
            size_ = static_cast<std::size_t>(std::ranges::size(get()));
        else
            size_ = static_cast<std::size_t>(std::ranges::distance(get()));
        if (broken_)
            ++size_;  // the request that could not be read: it fails (invalid_argument)
    }

    request_source(const request_source&) = delete;
    request_source& operator=(const request_source&) = delete;

    std::size_t size() const noexcept { return size_; }

    // The next request; called at most size() times, by one thread at a time.
    Request next()
    {
        if (broken_ && it_ == std::ranges::end(get()))
            throw std::invalid_argument("boost.duplex: reading the batch's input range failed");
        auto it = it_++;
        if constexpr (by_value)
            return Request(std::move(*it));
        else
            return Request(*it);
    }

private:
    // An input range is read here, before anything is sent. Where reading it
    // throws (not std::bad_alloc), the requests read so far stand and one
    // more fails with invalid_argument, as an element that cannot be
    // converted does in a range read lazily: the batch agrees either way.
    static holder make(Range&& r, bool& broken)
    {
        if constexpr (!countable) {
            std::vector<Request> v;
            try {
                for (auto&& e : r) {
                    if constexpr (owned)
                        v.emplace_back(std::move(e));
                    else
                        v.emplace_back(std::forward<decltype(e)>(e));  // copies an lvalue element, moves a prvalue one
                }
            } catch (const std::bad_alloc&) {
                throw;
            } catch (...) {
                broken = true;
            }
            return v;
        } else if constexpr (owned) {
            return holder(std::move(r));
        } else {
            return std::addressof(r);
        }
    }

    view_type& get() noexcept
    {
        if constexpr (by_value)
            return range_;
        else
            return *range_;
    }

    bool broken_ = false;  // before range_: make() sets it
    holder range_;
    std::ranges::iterator_t<view_type> it_;
    std::size_t size_ = 0;
};

}  // namespace boost::duplex::detail

#endif
