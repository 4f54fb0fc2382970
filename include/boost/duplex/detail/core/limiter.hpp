//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CORE_LIMITER_HPP
#define BOOST_DUPLEX_DETAIL_CORE_LIMITER_HPP

#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/detail/core/parking_mutex.hpp>
#include <boost/duplex/detail/core/slot.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <type_traits>
#include <utility>

// The limiters the responder drives. Every one offers
//   limit()               the current limit, asked before each take() (and maybe more often);
//   on_start()            one handler invocation starts (called once per taken request);
//   on_complete(lat, ok)  one handler invocation ended, after `lat`, ok == false if it
//                         failed or its deadline passed (see end_invocation()).
// All three are called from the responder only, never concurrently
// (locked_limiter serialises them where invocations end on several threads).

namespace boost::duplex::detail {

// The dynamic limiters compute in double. Settings beyond 2^52 (SIZE_MAX
// meaning "no limit") are read as 2^52: every integer up to there is exact in
// a double, and converting the limit back to std::size_t stays defined.
inline constexpr std::size_t largest_dynamic_limit = std::size_t(1) << 52;

inline double as_dynamic_limit(std::size_t n) noexcept
{
    return static_cast<double>(std::clamp<std::size_t>(n, 1, largest_dynamic_limit));
}

class fixed_limiter {
public:
    explicit fixed_limiter(fixed_concurrency s) noexcept : limit_(std::max<std::size_t>(s.limit, 1)) {}
    std::size_t limit() const noexcept { return limit_; }
    void on_start() noexcept {}
    void on_complete(std::chrono::nanoseconds, bool) noexcept {}

    // Neither the latency nor the outcome changes the limit, so the responder
    // need not read the clock around each invocation.
    static constexpr bool ignores_outcome = true;

private:
    std::size_t limit_;
};

// A limiter that declares `static constexpr bool ignores_outcome = true`.
template <class Limiter>
concept outcome_blind = requires { requires Limiter::ignores_outcome; };

// The clock invocations are timed with: a real one, unless the limiter would
// not look at the times anyway.
template <class Limiter>
struct invocation_clock {
    static time_point now() noexcept
    {
        if constexpr (outcome_blind<Limiter>)
            return time_point{};
        else
            return clock_type::now();
    }
};

// The default of dynamic_concurrency: a latency-gradient limiter after Netflix
// concurrency-limits' GradientLimit (windowed: one update per window of
// completions, from the window's mean latency), with a probe of the no-load
// latency in the spirit of BBR's ProbeRTT. See doc/concurrency.md.
//
// Per window of max(window, limit) completions, with `mean` their mean latency:
//   failure in the window   limit ×= backoff
//   otherwise               gradient = clamp(tolerance × no_load / mean, 0.5, 1)
//                           target   = limit × gradient + sqrt(limit) / 2
//                           a rise is taken at once, but only while at least half
//                           the limit was in use during the window; a fall by the
//                           fraction `smoothing`.
// With a resource of capacity K whose latency grows in proportion beyond K the
// limit settles near tolerance × K + sqrt(limit) / 2.
//
// The no-load latency is never learnt from a loaded window (that is what makes
// Gradient2- or Vegas-style limiters drift upwards under a steady overload).
// It is measured: after the first window, then every `probe_interval` windows
// (while at least half the limit is in use), the limiter lets the running
// invocations end (limit() says `min`), then starts max(window, half the
// limit) requests, at most half the limit at once, and waits for all of them
// to end: one level of the probe. Their mean latency is unbiased because which
// requests are measured is decided as they start (the first n completions of a
// busy resource would favour the short ones). While a level's mean is more
// than 10% below the reference (the estimate before the probe, then the level
// above; for the first level also by more than two standard errors, so that
// noise does not read as a fall) the level above still queued, and the probe
// goes on at half the limit. The first probe always looks one level lower: its
// reference is only the first window's mean, taken at the initial limit. When
// a level no longer falls, it and its reference both measured the no-load
// latency and are averaged, unless the level is significantly higher (the
// resource became slower: its mean stands). So a start far above the capacity
// is corrected by the first probe, a few levels deep. A window run at a limit
// of 1 that still reads above tolerance is taken as a no-load measure at once
// (the resource became slower: the limit must not stay at 1 until the next
// probe). A resource that became faster is learnt at the next periodic probe.
//
// The exact probe needs on_start() (the in-flight count) and min == 1. Without
// on_start() the limiter counts itself fully in use, and a probe level waits
// at `min` for `limit` completions (those of the requests started before),
// lets the level's first half-limit of completions pass (they favour short
// requests), then averages the next ones: close, less exact for a heavy tail.
class gradient_limiter {
public:
    explicit gradient_limiter(const dynamic_concurrency& s) noexcept
        : min_(as_dynamic_limit(s.min))
        , max_(std::max(min_, as_dynamic_limit(s.max)))
        , limit_(std::clamp(as_dynamic_limit(s.initial), min_, max_))
        , tolerance_(s.tolerance >= 1.0 ? s.tolerance : 1.0)
        , smoothing_(s.smoothing > 0.0 && s.smoothing <= 1.0 ? s.smoothing : 0.4)
        , backoff_(s.backoff > 0.0 && s.backoff <= 1.0 ? s.backoff : 0.9)
        , window_(std::max<std::size_t>(s.window, 1))
        , probe_interval_(s.probe_interval)
    {
    }

    std::size_t limit() const noexcept
    {
        switch (phase_) {
        case phase::drain:
            return whole(min_);
        case phase::measure:
            return exact_probe() && started_ >= probe_size() ? whole(min_) : whole(probe_limit_);
        default:
            return whole(limit_);
        }
    }

    void on_start() noexcept
    {
        tracking_ = true;
        ++in_flight_;
        ++started_;
        peak_ = std::max(peak_, in_flight_);
    }

    void on_complete(std::chrono::nanoseconds latency, bool ok) noexcept
    {
        if (in_flight_ != 0)
            --in_flight_;
        const double x = static_cast<double>(std::max<std::int64_t>(latency.count(), 1));
        switch (phase_) {
        case phase::drain:
            if (exact_probe() ? in_flight_ == 0 : ++skipped_ >= skip_)
                begin_measure();
            return;
        case phase::measure:
            if (warm_ != 0) {
                --warm_;  // without on_start(): the level's first completions favour short requests
                return;
            }
            add(x, ok);
            if (exact_probe() ? in_flight_ == 0 && started_ >= probe_size() : n_ >= probe_size())
                end_level();
            return;
        default:
            add(x, ok);
            if (n_ >= std::max(window_, whole(limit_)))
                end_window();
        }
    }

    // For tests and the simulation.
    bool probing() const noexcept { return phase_ != phase::none; }
    double no_load_latency() const noexcept { return no_load_; }  // ns; 0 before the first window
    double estimate() const noexcept { return limit_; }           // the limit outside probes, unrounded

private:
    enum class phase { none, drain, measure };

    static std::size_t whole(double x) noexcept { return static_cast<std::size_t>(x); }
    std::size_t probe_size() const noexcept { return std::max(window_, whole(probe_limit_)); }
    bool exact_probe() const noexcept { return tracking_ && min_ == 1.0; }

    void add(double x, bool ok) noexcept
    {
        ++n_;
        sum_ += x;
        squares_ += x * x;
        if (!ok)
            ++failed_;
    }

    void reset_window() noexcept
    {
        n_ = failed_ = 0;
        sum_ = squares_ = 0.0;
        peak_ = in_flight_;
    }

    void end_window() noexcept
    {
        // Without on_start() the limiter cannot tell, and counts itself in use.
        const bool in_use = !tracking_ || 2 * peak_ >= whole(limit_);
        const double mean = sum_ / static_cast<double>(n_);
        if (no_load_ <= 0.0)
            no_load_ = mean;  // a first guess, until the first probe
        if (failed_ != 0) {
            limit_ *= backoff_;
        } else if (whole(limit_) <= 1 && mean > tolerance_ * no_load_) {
            const double n = static_cast<double>(n_);
            measured_ = true;
            no_load_ = mean;  // each ran alone: this is the no-load latency now
            no_load_se2_ = std::max(0.0, squares_ / n - mean * mean) / n;
        } else {
            const double gradient = std::clamp(tolerance_ * no_load_ / mean, 0.5, 1.0);
            const double target = limit_ * gradient + 0.5 * std::sqrt(limit_);
            if (target < limit_)
                limit_ += smoothing_ * (target - limit_);
            else if (in_use)
                limit_ = target;
        }
        limit_ = std::clamp(limit_, min_, max_);
        reset_window();
        ++windows_;
        // A probe while little is in use would tell nothing new: it waits for load.
        if (probe_interval_ != 0 && windows_ >= next_probe_ && in_use)
            begin_probe();
    }

    void begin_probe() noexcept
    {
        phase_ = phase::drain;
        probe_limit_ = std::max(min_, std::floor(limit_ / 2));
        reference_ = no_load_;
        reference_se2_ = no_load_se2_;
        first_level_ = true;
        skip_ = whole(limit_);
        skipped_ = 0;
        if (exact_probe() && in_flight_ == 0)
            begin_measure();
    }

    void begin_measure() noexcept
    {
        phase_ = phase::measure;
        started_ = 0;
        warm_ = exact_probe() ? 0 : whole(probe_limit_);
        reset_window();
    }

    // One level of the probe is over. More than 10% below the reference (the
    // estimate before the probe, then the level above), the level above still
    // queued: the probe goes on at half this level's limit; the first level
    // must also be lower by more than two standard errors of the difference,
    // so that a noisy latency does not read as a fall. Otherwise the probe
    // ends: where the level is not significantly above the reference both
    // measure the no-load latency and are averaged (which also steadies the
    // estimate from one probe to the next); above it, the resource became
    // slower and the level's mean stands.
    void end_level() noexcept
    {
        const double n = static_cast<double>(n_);
        const double mean = sum_ / n;
        const double se2 = std::max(0.0, squares_ / n - mean * mean) / n;  // squared standard error
        const double lower = std::max(min_, std::floor(probe_limit_ / 2));
        const double noise = 2.0 * std::sqrt(se2 + reference_se2_);
        // Before the first probe the estimate is the first window's mean, taken
        // at the initial limit, queueing or not: always look one level lower.
        const bool falling = !measured_ || (mean < 0.9 * reference_ && (!first_level_ || mean < reference_ - noise));
        if (falling && lower < probe_limit_) {
            reference_ = mean;
            reference_se2_ = se2;
            first_level_ = false;
            measured_ = true;
            skip_ = whole(probe_limit_);  // without on_start(): the previous level's requests
            skipped_ = 0;
            probe_limit_ = lower;
            if (exact_probe())
                begin_measure();  // the level is over: nothing runs
            else
                phase_ = phase::drain;
            return;
        }
        measured_ = true;
        if (mean <= reference_ + noise) {
            no_load_ = (mean + reference_) / 2;
            no_load_se2_ = (se2 + reference_se2_) / 4;
        } else {
            no_load_ = mean;
            no_load_se2_ = se2;
        }
        phase_ = phase::none;
        reset_window();
        windows_ = 0;
        next_probe_ = probe_interval_;
    }

    double min_, max_, limit_, tolerance_, smoothing_, backoff_;
    std::size_t window_, probe_interval_;
    std::size_t next_probe_ = 1;  // the first probe follows the first window
    double no_load_ = 0.0;      // ns
    double no_load_se2_ = 0.0;  // its squared standard error
    double probe_limit_ = 1.0;  // the limit of the current probe level
    double reference_ = 0.0;    // the mean latency the current probe level must beat
    double reference_se2_ = 0.0;
    double sum_ = 0.0, squares_ = 0.0;
    std::size_t n_ = 0, failed_ = 0;
    std::size_t in_flight_ = 0, peak_ = 0, started_ = 0, skip_ = 0, skipped_ = 0, warm_ = 0, windows_ = 0;
    bool tracking_ = false, first_level_ = true, measured_ = false;
    phase phase_ = phase::none;
};

// aimd_concurrency: additive increase, multiplicative decrease, steered by latency.
//
// The no-load latency is the smallest latency seen. It is never learnt from a
// loaded completion (letting it creep towards the present latency makes the
// limit drift up to max under a steady overload); a completion that ran alone
// at a limit of 1 and was still slow shows that the resource became slower,
// and sets it. A completion within tolerance × that estimate adds 1/limit (so
// +1 per window of `limit` completions, i.e. about once per round trip) while
// at least half the limit is in use; a slower or failed one cuts the limit by
// `backoff`, at most once per window so that one burst of slow completions (all
// started under the old limit) does not collapse it to min.
class aimd_limiter {
public:
    explicit aimd_limiter(const aimd_concurrency& s) noexcept
        : min_(as_dynamic_limit(s.min))
        , max_(std::max(min_, as_dynamic_limit(s.max)))
        , limit_(std::clamp(as_dynamic_limit(s.initial), min_, max_))
        , tolerance_(s.tolerance > 1.0 ? s.tolerance : 1.0)
        , backoff_(s.backoff > 0.0 && s.backoff < 1.0 ? s.backoff : 0.75)
    {
    }

    std::size_t limit() const noexcept { return static_cast<std::size_t>(limit_); }

    void on_start() noexcept
    {
        tracking_ = true;
        ++in_flight_;
    }

    void on_complete(std::chrono::nanoseconds latency, bool ok) noexcept
    {
        const std::size_t in_flight = in_flight_;  // this one included
        if (in_flight_ != 0)
            --in_flight_;
        const double sample = static_cast<double>(std::max<std::int64_t>(latency.count(), 1));
        if (no_load_ <= 0.0 || sample < no_load_)
            no_load_ = sample;
        else if (static_cast<std::size_t>(limit_) <= 1 && in_flight <= 1 && sample > tolerance_ * no_load_)
            no_load_ = sample;  // ran alone and still slow: the resource became slower

        if (since_decrease_ < limit_)
            ++since_decrease_;

        const bool overloaded = !ok || sample > tolerance_ * no_load_;
        if (overloaded) {
            if (since_decrease_ >= limit_) {
                limit_ = std::max(min_, limit_ * backoff_);
                since_decrease_ = 0;
            }
        } else if (!tracking_ || 2 * in_flight >= static_cast<std::size_t>(limit_)) {
            limit_ = std::min(max_, limit_ + 1.0 / limit_);
        }
    }

private:
    double min_, max_, limit_, tolerance_, backoff_;
    double no_load_ = 0.0;
    double since_decrease_ = 0.0;
    std::size_t in_flight_ = 0;
    bool tracking_ = false;
};

// A user limiter is used as it is; its on_start() is called where it has one.
template <class L>
class user_limiter {
public:
    explicit user_limiter(L l) : l_(std::move(l)) {}

    // The responder calls these from paths that cannot fail (an invocation
    // ending, a completion), so a user's exception stops here: from limit()
    // the last limit read stands (1 before any), from the others it is
    // ignored. The request it concerned is served as usual.
    std::size_t limit() noexcept
    {
        try {
            last_ = std::max<std::size_t>(static_cast<std::size_t>(l_.limit()), 1);
        } catch (...) {
        }
        return last_;
    }

    void on_start() noexcept
    {
        if constexpr (requires { l_.on_start(); }) {
            try {
                l_.on_start();
            } catch (...) {
            }
        }
    }

    void on_complete(std::chrono::nanoseconds latency, bool ok) noexcept
    {
        try {
            l_.on_complete(latency, ok);
        } catch (...) {
        }
    }

private:
    L l_;
    std::size_t last_ = 1;
};

// A limiter shared by handler invocations that may end on several threads at
// once (fibers migrated by a work-sharing scheduler). The lock is held only
// for the limiter's own call, which never waits.
template <class L>
class locked_limiter {
public:
    explicit locked_limiter(L l) : l_(std::move(l)) {}

    // A limiter blind to outcomes (a fixed limit) never changes: no lock.
    std::size_t limit()
    {
        if constexpr (outcome_blind<L>) {
            return l_.limit();
        } else {
            std::lock_guard lock(mutex_);
            return l_.limit();
        }
    }

    void on_start()
    {
        if constexpr (outcome_blind<L>) {
            l_.on_start();
        } else {
            std::lock_guard lock(mutex_);
            l_.on_start();
        }
    }

    void on_complete(std::chrono::nanoseconds latency, bool ok)
    {
        if constexpr (outcome_blind<L>) {
            l_.on_complete(latency, ok);
        } else {
            std::lock_guard lock(mutex_);
            l_.on_complete(latency, ok);
        }
    }

    static constexpr bool ignores_outcome = outcome_blind<L>;

private:
    parking_mutex mutex_;
    L l_;
};

inline fixed_limiter make_limiter(fixed_concurrency s) noexcept { return fixed_limiter(s); }
inline gradient_limiter make_limiter(const dynamic_concurrency& s) noexcept { return gradient_limiter(s); }
inline aimd_limiter make_limiter(const aimd_concurrency& s) noexcept { return aimd_limiter(s); }

template <concurrency_limiter L>
    requires(!std::same_as<std::decay_t<L>, fixed_concurrency> && !std::same_as<std::decay_t<L>, dynamic_concurrency> &&
             !std::same_as<std::decay_t<L>, aimd_concurrency>)
user_limiter<std::decay_t<L>> make_limiter(L&& l)
{
    return user_limiter<std::decay_t<L>>(std::forward<L>(l));
}

}  // namespace boost::duplex::detail

#endif
