//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_CONCURRENCY_HPP
#define BOOST_DUPLEX_CONCURRENCY_HPP

#include <chrono>
#include <concepts>
#include <cstddef>

namespace boost::duplex {

/// Holds the responder's concurrency limit at `limit` handler invocations.
/// A limit of 0 is read as 1: a responder always makes progress.
struct fixed_concurrency {
    std::size_t limit = 16;
};

/// Moves the responder's concurrency limit between `min` and `max` from the
/// latency it observes (additive increase while latency stays near the no-load
/// latency, multiplicative decrease when it grows or requests fail).
///
/// The members after `min` tune the algorithm; their defaults suit most uses.
struct dynamic_concurrency {
    std::size_t initial = 4;  ///< the limit at the start of the run (clamped into [min, max])
    std::size_t max = 16;     ///< the limit never rises above this
    std::size_t min = 1;      ///< the limit never falls below this (0 is read as 1)

    /// A completion slower than `tolerance` times the no-load latency counts as a sign of overload.
    double tolerance = 2.0;

    /// On overload the limit is multiplied by `backoff` (at most once per window of `limit` completions).
    double backoff = 0.75;
};

/// A user concurrency limiter: `l.limit()` gives the current limit and
/// `l.on_complete(latency, ok)` is told of every finished handler invocation,
/// with its duration and `ok == false` where the handler failed or the request's
/// deadline passed before it ended. Both are called from the responder only
/// (never concurrently). A limit of 0 is read as 1.
template <class L>
concept concurrency_limiter = requires(L& l, std::chrono::nanoseconds latency, bool ok) {
    { l.limit() } -> std::convertible_to<std::size_t>;
    l.on_complete(latency, ok);
};

/// What `async_run` and `run` accept as their strategy.
template <class S>
concept concurrency_strategy = std::same_as<S, fixed_concurrency> || std::same_as<S, dynamic_concurrency> ||
                               concurrency_limiter<S>;

}  // namespace boost::duplex

#endif
