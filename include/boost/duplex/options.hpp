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
#include <optional>

namespace boost::duplex {

/// What a request does when the responder's queue is at capacity.
enum class overflow {
    /// Wait for room; the wait counts against the request's deadline.
    wait,
    /// Complete at once with `error::queue_full`.
    reject
};

/// Overload control of a channel's queue (see doc/overload.md).
///
/// The channel is *overloaded* while a run is going and its queue (requests
/// accepted and not yet taken; not those waiting for room) has stayed
/// non-empty, without a break, for at least `interval`.
struct overload_options {
    /// How long the queue must stand before the channel counts as overloaded.
    /// Zero or less: as soon as a request is queued while a run is going.
    std::chrono::steady_clock::duration interval = std::chrono::milliseconds(100);

    /// With `shed`, while overloaded, a queued request that has waited longer
    /// than this ends with `error::overloaded` instead of being handled.
    /// Zero or less: any wait is too long.
    std::chrono::steady_clock::duration target = std::chrono::milliseconds(5);

    /// CoDel-style shedding of requests that waited longer than `target`, oldest first.
    bool shed = true;

    /// Adaptive LIFO: while overloaded, the responder takes the newest request of a flow first.
    bool lifo = false;
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

    /// Overload control. Unset: no shedding, and requests of one priority and
    /// one flow are taken oldest first (the first edition's behaviour).
    /// Priorities and flows order the queue either way.
    std::optional<overload_options> overload = std::nullopt;
};

}  // namespace boost::duplex

#endif
