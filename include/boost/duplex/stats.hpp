//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_STATS_HPP
#define BOOST_DUPLEX_STATS_HPP

#include <cstddef>
#include <cstdint>

namespace boost::duplex {

/// A snapshot of a responder's state, taken by `stats()` from any thread.
///
/// Each request that ends is counted in at most one of the totals:
/// `completed` (answered with a value), `failed` (its handler returned an error
/// or threw), `timed_out`, `cancelled` or `shed`. Requests closed by `stop()` or
/// rejected with `queue_full` are in none of them.
struct responder_stats {
    std::size_t queued = 0;             ///< accepted into the queue, not yet handed to the handler
    std::size_t in_flight = 0;          ///< handler invocations running now
    std::size_t concurrency_limit = 0;  ///< the current limit (moves under dynamic_concurrency)
    std::uint64_t completed = 0;        ///< total answered with a value
    std::uint64_t failed = 0;           ///< total whose handler failed (error result or exception)
    std::uint64_t timed_out = 0;        ///< total ended with error::timeout
    std::uint64_t cancelled = 0;        ///< total ended with error::cancelled
    std::uint64_t shed = 0;             ///< total ended with error::overloaded (shed or displaced)
};

}  // namespace boost::duplex

#endif
