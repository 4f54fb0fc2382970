//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// A sans-io, discrete-event model of a responder in front of a resource of
// limited capacity, used to drive a concurrency limiter with a virtual clock.
// Shared by test/core/limiter_simulation.cpp and bench/limiter_sim.cpp; it
// needs nothing beyond the standard library.
//
// The resource serves its requests by processor sharing with `capacity`
// servers: while n <= capacity requests are in flight each runs at full speed
// (its latency is its work, `base`), beyond that they share the capacity, each
// at capacity / n of full speed, so that the latency grows in proportion to the
// number in flight and the throughput stays at capacity / base. Every request
// has the work `base`, varied by ±`jitter` (uniform) where asked, or drawn from
// an exponential distribution of mean `base` (`exponential`). With `at_start`
// the latency is fixed when the request starts instead: its work times
// max(1, n / capacity), n the number in flight with it.
//
// The "responder" starts requests while fewer than `limiter.limit()` run, as
// the real one does: it asks limit() before each start, calls `on_start()`
// (where the limiter has it) at each start and `on_complete(latency, ok)` at
// each end, in time order. Requests come from `users` closed-loop clients
// (each issues its next request as soon as its previous one is answered), or
// from an endless backlog when `users == 0`. Each completion fails
// (`ok == false`) with probability `loss`, and when it took longer than
// `timeout` (the handler of a request that timed out runs to its end, as in the
// real responder, and reports ok == false).
//
// Everything is deterministic: the random numbers come from a SplitMix64
// generator seeded by the scenario.

#ifndef BOOST_DUPLEX_TEST_CORE_LIMITER_MODEL_HPP
#define BOOST_DUPLEX_TEST_CORE_LIMITER_MODEL_HPP

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace limiter_model {

// SplitMix64 (Steele, Lea, Flood 2014): fixed output for a fixed seed on every platform.
class splitmix64 {
public:
    explicit splitmix64(std::uint64_t seed) noexcept : state_(seed) {}
    std::uint64_t next() noexcept
    {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)

private:
    std::uint64_t state_;
};

// The resource from the `from`-th completion on (phases in increasing order of `from`).
struct phase {
    std::size_t from = 0;      // first completion (0-based) served under this phase
    std::size_t capacity = 8;  // requests served at full speed at once
    double base = 10e6;        // work of one request, in nanoseconds (its latency without queueing)
};

struct scenario {
    std::string name;
    std::vector<phase> phases;        // none: one default phase
    std::size_t completions = 20000;  // the run ends after this many
    std::size_t users = 0;            // closed-loop clients; 0: an endless backlog
    double jitter = 0.0;              // each request's work is base * (1 ± jitter), uniform
    bool exponential = false;         // each request's work is exponentially distributed, of mean base
    bool at_start = false;            // instead of processor sharing: a request started as the n-th in
                                      // flight takes work × max(1, n / capacity), fixed at its start
    double loss = 0.0;                // probability that a completion reports ok == false
    double timeout = 0.0;             // a request that ran longer (ns) reports ok == false; 0: none
    std::uint64_t seed = 1;
};

// One completion, as the limiter saw it.
struct sample {
    double time = 0.0;          // virtual time of the completion, nanoseconds since the start
    double latency = 0.0;       // nanoseconds
    bool ok = true;
    std::size_t in_flight = 0;  // running when it ended, itself included
    std::size_t limit = 0;      // limiter.limit() right after on_complete
    std::size_t capacity = 0;   // the resource's capacity at the time
    bool probing = false;       // the limiter is probing its no-load latency (where it tells)
};

struct run {
    std::vector<sample> trace;

    // Completions per second and mean latency (ns) over the completions [first, last).
    double throughput(std::size_t first, std::size_t last) const
    {
        last = std::min(last, trace.size());
        if (last <= first + 1)
            return 0.0;
        return static_cast<double>(last - first - 1) / ((trace[last - 1].time - trace[first].time) * 1e-9);
    }
    double mean_latency(std::size_t first, std::size_t last) const
    {
        last = std::min(last, trace.size());
        double sum = 0.0;
        for (std::size_t i = first; i < last; ++i)
            sum += trace[i].latency;
        return last > first ? sum / static_cast<double>(last - first) : 0.0;
    }
    // The smallest and largest limit over the completions [first, last).
    std::pair<std::size_t, std::size_t> limit_range(std::size_t first, std::size_t last) const
    {
        last = std::min(last, trace.size());
        std::size_t lo = std::numeric_limits<std::size_t>::max(), hi = 0;
        for (std::size_t i = first; i < last; ++i) {
            lo = std::min(lo, trace[i].limit);
            hi = std::max(hi, trace[i].limit);
        }
        return {lo, hi};
    }
    double mean_limit(std::size_t first, std::size_t last) const
    {
        last = std::min(last, trace.size());
        double sum = 0.0;
        for (std::size_t i = first; i < last; ++i)
            sum += static_cast<double>(trace[i].limit);
        return last > first ? sum / static_cast<double>(last - first) : 0.0;
    }
    // The first completion index from which the limit stays within [lo, hi]
    // up to `last`, probes of the no-load latency aside (`with_probes`: those
    // too); `last` itself if it never settles.
    std::size_t settled_from(std::size_t first, std::size_t last, std::size_t lo, std::size_t hi,
                             bool with_probes = false) const
    {
        last = std::min(last, trace.size());
        std::size_t from = last;
        for (std::size_t i = last; i-- > first;) {
            if ((with_probes || !trace[i].probing) && (trace[i].limit < lo || trace[i].limit > hi))
                break;
            from = i;
        }
        return from;
    }
    // The share of the completions [first, last) that ended while the limiter probed.
    double probing_share(std::size_t first, std::size_t last) const
    {
        last = std::min(last, trace.size());
        std::size_t n = 0;
        for (std::size_t i = first; i < last; ++i)
            n += trace[i].probing ? 1 : 0;
        return last > first ? static_cast<double>(n) / static_cast<double>(last - first) : 0.0;
    }
};

// Runs `s` against `limiter`, which is used as the responder uses it.
template <class Limiter>
run simulate(Limiter& limiter, const scenario& s)
{
    struct request {
        double remaining;  // work left, ns at full speed
        double started;
    };
    splitmix64 rng(s.seed);
    std::vector<request> running;
    run out;
    out.trace.reserve(s.completions);

    std::size_t ph = 0;
    double now = 0.0;
    std::size_t waiting = s.users;  // closed-loop clients with a request ready

    while (out.trace.size() < s.completions) {
        while (ph + 1 < s.phases.size() && s.phases[ph + 1].from <= out.trace.size())
            ++ph;
        const phase p = s.phases.empty() ? phase{} : s.phases[ph];

        // Start whatever the limit allows.
        while ((s.users == 0 || waiting != 0) && running.size() < std::max<std::size_t>(limiter.limit(), 1)) {
            if constexpr (requires { limiter.on_start(); })
                limiter.on_start();
            const double work = s.exponential ? -p.base * std::log(1.0 - rng.uniform())
                                              : p.base * (1.0 + s.jitter * (2.0 * rng.uniform() - 1.0));
            const double n = static_cast<double>(running.size() + 1);
            const double stretch = s.at_start ? std::max(1.0, n / static_cast<double>(std::max<std::size_t>(p.capacity, 1))) : 1.0;
            running.push_back(request{std::max(work * stretch, 1.0), now});
            if (s.users != 0)
                --waiting;
        }
        if (running.empty())
            break;  // no users: nothing will ever happen

        // Advance to the next completion (processor sharing).
        const double n = static_cast<double>(running.size());
        const double cap = static_cast<double>(std::max<std::size_t>(p.capacity, 1));
        const double rate = s.at_start || n <= cap ? 1.0 : cap / n;
        std::size_t next = 0;
        for (std::size_t i = 1; i < running.size(); ++i)
            if (running[i].remaining < running[next].remaining)
                next = i;
        const double dt = running[next].remaining / rate;
        now += dt;
        for (auto& r : running)
            r.remaining -= dt * rate;

        sample smp;
        smp.time = now;
        smp.latency = now - running[next].started;
        smp.in_flight = running.size();
        smp.capacity = p.capacity;
        smp.ok = !(s.loss > 0.0 && rng.uniform() < s.loss) && !(s.timeout > 0.0 && smp.latency > s.timeout);
        running[next] = running.back();
        running.pop_back();
        limiter.on_complete(std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(std::max(smp.latency, 1.0)))),
                            smp.ok);
        smp.limit = limiter.limit();
        if constexpr (requires { limiter.probing(); })
            smp.probing = limiter.probing();
        out.trace.push_back(smp);
        if (s.users != 0)
            ++waiting;
    }
    return out;
}

}  // namespace limiter_model

#endif
