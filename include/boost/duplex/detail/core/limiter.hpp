//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CORE_LIMITER_HPP
#define BOOST_DUPLEX_DETAIL_CORE_LIMITER_HPP

#include <boost/duplex/concurrency.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <type_traits>
#include <utility>

namespace boost::duplex::detail {

class fixed_limiter {
public:
    explicit fixed_limiter(fixed_concurrency s) noexcept : limit_(std::max<std::size_t>(s.limit, 1)) {}
    std::size_t limit() const noexcept { return limit_; }
    void on_complete(std::chrono::nanoseconds, bool) noexcept {}

private:
    std::size_t limit_;
};

// Additive increase, multiplicative decrease, steered by latency.
//
// The no-load latency is the smallest latency seen, let to creep upwards slowly
// so that a permanent change of the resource is learnt again. A completion
// within tolerance × that estimate adds 1/limit (so +1 per window of `limit`
// completions, i.e. about once per round trip); a slower or failed one cuts
// the limit by `backoff`, at most once per window so that one burst of slow
// completions (all started under the old limit) does not collapse it to min.
class aimd_limiter {
public:
    explicit aimd_limiter(const dynamic_concurrency& s) noexcept
        : min_(static_cast<double>(std::max<std::size_t>(s.min, 1)))
        , max_(static_cast<double>(std::max(std::max<std::size_t>(s.min, 1), s.max)))
        , limit_(std::clamp(static_cast<double>(s.initial), min_, max_))
        , tolerance_(s.tolerance > 1.0 ? s.tolerance : 1.0)
        , backoff_(s.backoff > 0.0 && s.backoff < 1.0 ? s.backoff : 0.75)
    {
    }

    std::size_t limit() const noexcept { return static_cast<std::size_t>(limit_); }

    void on_complete(std::chrono::nanoseconds latency, bool ok) noexcept
    {
        const double sample = static_cast<double>(std::max<std::int64_t>(latency.count(), 1));
        if (no_load_ <= 0.0 || sample < no_load_)
            no_load_ = sample;
        else
            no_load_ += (sample - no_load_) / 4096.0;  // creep towards the present, very slowly

        if (since_decrease_ < limit_)
            ++since_decrease_;

        const bool overloaded = !ok || sample > tolerance_ * no_load_;
        if (overloaded) {
            if (since_decrease_ >= limit_) {
                limit_ = std::max(min_, limit_ * backoff_);
                since_decrease_ = 0;
            }
        } else {
            limit_ = std::min(max_, limit_ + 1.0 / limit_);
        }
    }

private:
    double min_, max_, limit_, tolerance_, backoff_;
    double no_load_ = 0.0;
    double since_decrease_ = 0.0;
};

// A user limiter is used as it is.
template <class L>
class user_limiter {
public:
    explicit user_limiter(L l) : l_(std::move(l)) {}
    std::size_t limit() { return std::max<std::size_t>(static_cast<std::size_t>(l_.limit()), 1); }
    void on_complete(std::chrono::nanoseconds latency, bool ok) { l_.on_complete(latency, ok); }

private:
    L l_;
};

// A limiter shared by handler invocations that may end on several threads at
// once (fibers migrated by a work-sharing scheduler). The lock is held only
// for the limiter's own call, which never waits.
template <class L>
class locked_limiter {
public:
    explicit locked_limiter(L l) : l_(std::move(l)) {}

    std::size_t limit()
    {
        std::lock_guard lock(mutex_);
        return l_.limit();
    }

    void on_complete(std::chrono::nanoseconds latency, bool ok)
    {
        std::lock_guard lock(mutex_);
        l_.on_complete(latency, ok);
    }

private:
    std::mutex mutex_;
    L l_;
};

inline fixed_limiter make_limiter(fixed_concurrency s) noexcept { return fixed_limiter(s); }
inline aimd_limiter make_limiter(const dynamic_concurrency& s) noexcept { return aimd_limiter(s); }

template <concurrency_limiter L>
    requires(!std::same_as<std::decay_t<L>, fixed_concurrency> && !std::same_as<std::decay_t<L>, dynamic_concurrency>)
user_limiter<std::decay_t<L>> make_limiter(L&& l)
{
    return user_limiter<std::decay_t<L>>(std::forward<L>(l));
}

}  // namespace boost::duplex::detail

#endif
