//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_OPTIONS_HPP
#define BOOST_DUPLEX_OPTIONS_HPP

#include <chrono>
#include <cstddef>

namespace boost::duplex {

/// What a request does when the responder's queue is at capacity.
enum class overflow {
    /// Wait for room; the wait counts against the request's deadline.
    wait,
    /// Complete at once with `error::queue_full`.
    reject
};

/// Settings of one channel, fixed when it is made.
struct channel_options {
    /// Most requests queued for the responder (accepted, not yet handed to the handler).
    /// Zero makes a rendezvous channel: a request waits until the responder takes it.
    std::size_t capacity = 64;

    /// Default per-request deadline, counted from the call. `duration::max()` means none.
    std::chrono::steady_clock::duration timeout = std::chrono::seconds(2);

    /// What a request does when the queue is full.
    overflow on_full = overflow::wait;
};

}  // namespace boost::duplex

#endif
