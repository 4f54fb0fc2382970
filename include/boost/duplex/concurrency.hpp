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
/// latency it observes, so that a handler backed by a resource of unknown
/// capacity gets close to its best throughput without piling up queueing delay.
///
/// The algorithm is a latency-gradient limiter after the `GradientLimit` of
/// Netflix's concurrency-limits: once per window of completions it compares
/// their mean latency with the no-load latency and aims the limit at
/// `limit × gradient + sqrt(limit) / 2`, where
/// `gradient = clamp(tolerance × no_load / mean, 0.5, 1)`; a rise is taken at
/// once, a fall by the fraction `smoothing`. The no-load latency is measured by
/// a periodic probe that briefly halves the limit. A window with a failure
/// (handler error or exception, deadline passed) cuts the limit by `backoff`;
/// a cancelled request is no sign of overload. The limit does not grow while
/// fewer than half of it are in use. See doc/concurrency.md for the details
/// and the simulation results.
///
/// The members after `min` tune the algorithm; their defaults suit most uses.
struct dynamic_concurrency {
    std::size_t initial = 4;  ///< the limit at the start of the run (clamped into [min, max])
    std::size_t max = 16;     ///< the limit never rises above this (values above 2^52, SIZE_MAX for "no limit", read as 2^52)
    std::size_t min = 1;      ///< the limit never falls below this (0 is read as 1)

    /// Latency up to `tolerance` times the no-load latency is not read as
    /// queueing (values below 1 are read as 1). Higher: more throughput on a
    /// noisy resource, more queueing delay; the limit settles near
    /// `tolerance × capacity + sqrt(limit) / 2`.
    double tolerance = 1.25;

    /// How far one window moves a falling limit towards its new estimate, in
    /// (0, 1]. Higher: faster reaction to overload, more reaction to noise.
    double smoothing = 0.4;

    /// A window in which a request failed multiplies the limit by `backoff`,
    /// in (0, 1] (1: failures are ignored).
    double backoff = 0.9;

    /// The fewest completions per window: the limit moves once per window of
    /// `max(window, limit)` completions, about one round trip at full load.
    /// Raise it for a latency with a heavy tail (e.g. 64).
    std::size_t window = 16;

    /// Windows between two probes of the no-load latency (0: never probe; the
    /// mean latency of the first window stands for it). A probe lets the
    /// running requests end, then runs rounds of at most half the limit until
    /// `window` requests have ended, and takes their mean latency as the
    /// no-load latency (going on at half that limit while the mean keeps
    /// falling): it costs about two round trips at half the limit. A resource
    /// that became faster is learnt at the next probe.
    std::size_t probe_interval = 100;
};

/// Additive increase, multiplicative decrease, steered by latency: the simpler
/// alternative to `dynamic_concurrency`. A completion within `tolerance` times
/// the smallest latency seen adds `1 / limit` (about +1 per round trip); a
/// slower or failed one cuts the limit by `backoff`, at most once per window of
/// `limit` completions. It reacts to every completion, so it is quicker but
/// noisier than `dynamic_concurrency`, and it settles higher (near
/// `tolerance × capacity`).
struct aimd_concurrency {
    std::size_t initial = 4;  ///< the limit at the start of the run (clamped into [min, max])
    std::size_t max = 16;     ///< the limit never rises above this (values above 2^52, SIZE_MAX for "no limit", read as 2^52)
    std::size_t min = 1;      ///< the limit never falls below this (0 is read as 1)

    /// A completion slower than `tolerance` times the no-load latency counts as a sign of overload.
    double tolerance = 2.0;

    /// On overload the limit is multiplied by `backoff` (at most once per window of `limit` completions).
    double backoff = 0.75;
};

/// A user concurrency limiter: `l.limit()` gives the current limit and
/// `l.on_complete(latency, ok)` is told of every finished handler invocation,
/// with its duration and `ok == false` where the handler failed or the request's
/// deadline passed before it ended (a request cancelled or closed meanwhile
/// counts as ok). `limit()` is asked before the responder starts requests, and
/// may be asked more often than requests start. Where `l.on_start()` exists it
/// is called as each handler invocation starts, so that the limiter can follow
/// the number in flight. All are called from the responder only (never
/// concurrently). A limit of 0 is read as 1. An exception thrown by any of
/// them is caught: from `limit()`, the last limit read stands (1 if none
/// was); from `on_start()` and `on_complete()`, it is ignored. Neither
/// changes how the request is served.
template <class L>
concept concurrency_limiter = requires(L& l, std::chrono::nanoseconds latency, bool ok) {
    { l.limit() } -> std::convertible_to<std::size_t>;
    l.on_complete(latency, ok);
};

/// What `async_run` and `run` accept as their strategy.
template <class S>
concept concurrency_strategy = std::same_as<S, fixed_concurrency> || std::same_as<S, dynamic_concurrency> ||
                               std::same_as<S, aimd_concurrency> || concurrency_limiter<S>;

}  // namespace boost::duplex

#endif
