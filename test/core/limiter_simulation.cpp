//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 7 for dynamic_concurrency, proven in simulation: the limiter that
// make_limiter(dynamic_concurrency) returns is driven, as the responder drives
// it, by a discrete-event model of a resource of capacity K (latency = base
// while at most K run, growing in proportion beyond: processor sharing) with a
// virtual clock (limiter_model.hpp). Deterministic: fixed seeds, no threads,
// no real time.
//
// Also: the aimd_concurrency alternative, user limiters' optional on_start(),
// how end_invocation() reports failures, timeouts and cancellations to the
// limiter, and that a rising limit lets the core hand out every waiting
// request that now fits.

#define BOOST_TEST_MODULE core_limiter_simulation
#include <boost/test/unit_test.hpp>

#include "limiter_model.hpp"
#include "support.hpp"

#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/detail/core/invocation.hpp>
#include <boost/duplex/detail/core/limiter.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

namespace dx = boost::duplex;
namespace dd = boost::duplex::detail;
namespace lm = limiter_model;
using namespace std::chrono_literals;

constexpr double base = 10e6;  // 10 ms of work per request, in ns
constexpr std::size_t max_limit = 64;
constexpr std::size_t capacities[] = {2, 4, 8, 32};

// Bounds of the proofs (completions). Generous against the observed values,
// which the messages print.
constexpr std::size_t settle_bound = 1500;
constexpr double probe_share_bound = 0.05;

using default_limiter = decltype(dd::make_limiter(std::declval<const dx::dynamic_concurrency&>()));

dx::dynamic_concurrency strategy(std::size_t initial = 4, std::size_t max = max_limit, std::size_t min = 1)
{
    dx::dynamic_concurrency s;
    s.initial = initial;
    s.max = max;
    s.min = min;
    return s;
}

lm::scenario resource(std::size_t capacity, std::size_t completions = 20000)
{
    lm::scenario s;
    s.phases.push_back(lm::phase{0, capacity, base});
    s.completions = completions;
    return s;
}

struct fixed {
    std::size_t n;
    std::size_t limit() const { return n; }
    void on_complete(std::chrono::nanoseconds, bool) {}
};

lm::run simulate_fixed(std::size_t n, const lm::scenario& s)
{
    fixed f{n};
    return lm::simulate(f, s);
}

lm::run simulate_default(const dx::dynamic_concurrency& d, const lm::scenario& s)
{
    auto l = dd::make_limiter(d);
    return lm::simulate(l, s);
}

// The completions in [first, last) that ended outside [lo, hi], probes aside.
std::size_t outside(const lm::run& r, std::size_t first, std::size_t last, std::size_t lo, std::size_t hi)
{
    std::size_t n = 0;
    for (std::size_t i = first; i < std::min(last, r.trace.size()); ++i)
        if (!r.trace[i].probing && (r.trace[i].limit < lo || r.trace[i].limit > hi))
            ++n;
    return n;
}

// The dynamic limit against fixed limits of 1, K and max on the same resource
// over the second half of the run: throughput within 90% of the best fixed
// limit, mean latency below the max fixed limit's.
void check_against_fixed(const lm::run& r, const lm::scenario& s, std::size_t capacity)
{
    const std::size_t first = s.completions / 2, last = s.completions;
    double best = 0.0, latency_at_max = 0.0;
    for (std::size_t n : {std::size_t{1}, capacity, max_limit}) {
        const lm::run f = simulate_fixed(n, s);
        best = std::max(best, f.throughput(first, last));
        if (n == max_limit)
            latency_at_max = f.mean_latency(first, last);
    }
    const double throughput = r.throughput(first, last), latency = r.mean_latency(first, last);
    BOOST_TEST_MESSAGE(s.name << " K=" << capacity << ": throughput " << 100.0 * throughput / best
                              << "% of the best fixed limit, mean latency " << latency / 1e6 << " ms vs "
                              << latency_at_max / 1e6 << " ms at the fixed limit " << max_limit);
    BOOST_TEST(throughput >= 0.9 * best);
    BOOST_TEST(latency < latency_at_max);
}

}  // namespace

// ---- the strategy types ----------------------------------------------------

BOOST_AUTO_TEST_CASE(dynamic_concurrency_is_a_plain_value_with_tuning_members_after_initial_max_min)
{
    const dx::dynamic_concurrency a{4, 16};
    const dx::dynamic_concurrency b{.initial = 2, .max = 32, .min = 1};
    const dx::dynamic_concurrency c{.initial = 2, .max = 32, .min = 1, .tolerance = 1.5, .window = 32};
    BOOST_TEST(a.initial == 4u);
    BOOST_TEST(a.max == 16u);
    BOOST_TEST(a.min == 1u);
    BOOST_TEST(b.max == 32u);
    BOOST_TEST(c.tolerance == 1.5);
    BOOST_TEST(c.window == 32u);
    static_assert(std::is_trivially_copyable_v<dx::dynamic_concurrency>);
    static_assert(std::is_trivially_copyable_v<dx::aimd_concurrency>);
    static_assert(dx::concurrency_strategy<dx::dynamic_concurrency>);
    static_assert(dx::concurrency_strategy<dx::aimd_concurrency>);
    static_assert(dx::concurrency_strategy<dx::fixed_concurrency>);
    static_assert(std::is_same_v<default_limiter, dd::gradient_limiter>);
    static_assert(std::is_same_v<decltype(dd::make_limiter(dx::aimd_concurrency{})), dd::aimd_limiter>);
    static_assert(dx::concurrency_limiter<dd::gradient_limiter>);
    static_assert(dx::concurrency_limiter<dd::aimd_limiter>);
}

BOOST_AUTO_TEST_CASE(initial_limit_is_clamped_into_min_max)
{
    BOOST_TEST(dd::make_limiter(strategy(100, 6, 2)).limit() == 6u);
    BOOST_TEST(dd::make_limiter(strategy(0, 6, 2)).limit() == 2u);
    BOOST_TEST(dd::make_limiter(strategy(3, 6, 0)).limit() == 3u);
    BOOST_TEST(dd::make_limiter(strategy(3, 0, 0)).limit() == 1u);  // min 0 is read as 1, max below min as min
    dx::aimd_concurrency a;
    a.initial = 100;
    a.max = 6;
    a.min = 2;
    BOOST_TEST(dd::make_limiter(a).limit() == 6u);
}

// ---- item 3: the proofs in simulation --------------------------------------

// For K in {2, 4, 8, 32} and max 64: the limit settles within [K, 2K] within
// a bounded number of completions and stays there (apart from the brief probes
// of the no-load latency), and the throughput and latency beat the fixed limits.
BOOST_AUTO_TEST_CASE(limit_settles_within_capacity_and_twice_capacity)
{
    for (std::size_t k : capacities) {
        BOOST_TEST_CONTEXT("capacity " << k)
        {
            lm::scenario s = resource(k);
            s.name = "steady";
            const lm::run r = simulate_default(strategy(), s);
            const std::size_t settled = r.settled_from(0, s.completions, k, 2 * k);
            const auto [lo, hi] = r.limit_range(settled, s.completions);
            BOOST_TEST_MESSAGE("K=" << k << ": settled within [K, 2K] after " << settled << " completions; then "
                                    << lo << ".." << hi << " (probes included), mean "
                                    << r.mean_limit(settled, s.completions) << ", probing "
                                    << 100.0 * r.probing_share(settled, s.completions) << "% of the time");
            BOOST_TEST(settled <= settle_bound);
            BOOST_TEST(hi <= 2 * k);                  // probes only ever lower the limit
            BOOST_TEST(r.probing_share(settled, s.completions) <= probe_share_bound);
            check_against_fixed(r, s, k);
        }
    }
}

BOOST_AUTO_TEST_CASE(limit_grows_to_max_under_constant_latency)
{
    lm::scenario s = resource(100000, 5000);  // capacity far above max: the latency never moves
    const lm::run r = simulate_default(strategy(), s);
    const std::size_t reached = r.settled_from(0, s.completions, max_limit, max_limit);
    BOOST_TEST_MESSAGE("constant latency: the limit reached max (" << max_limit << ") after " << reached
                                                                   << " completions");
    BOOST_TEST(reached <= settle_bound);
    BOOST_TEST(r.trace.back().limit == max_limit);
}

// K steps 8 -> 2 -> 8: the limit follows, settling within [K, 2K] after each step.
BOOST_AUTO_TEST_CASE(limit_resettles_after_capacity_steps)
{
    constexpr std::size_t step = 10000;
    lm::scenario s;
    s.phases = {lm::phase{0, 8, base}, lm::phase{step, 2, base}, lm::phase{2 * step, 8, base}};
    s.completions = 3 * step;
    const lm::run r = simulate_default(strategy(), s);
    for (std::size_t i = 0; i != 3; ++i) {
        const std::size_t k = s.phases[i].capacity, first = i * step, last = first + step;
        const std::size_t settled = r.settled_from(first, last, k, 2 * k);
        BOOST_TEST_MESSAGE("step to K=" << k << ": settled within [K, 2K] after " << settled - first
                                        << " completions");
        BOOST_TEST(settled - first <= settle_bound);
        BOOST_TEST(r.limit_range(settled, last).second <= 2 * k);
    }
}

// ±20% uniform jitter on every request's work (deterministic PRNG, fixed seed):
// the limit neither collapses nor leaves [K, 2K].
BOOST_AUTO_TEST_CASE(noisy_latency_does_not_collapse_the_limit)
{
    for (std::size_t k : capacities) {
        BOOST_TEST_CONTEXT("capacity " << k)
        {
            lm::scenario s = resource(k);
            s.name = "jitter 20%";
            s.jitter = 0.2;
            s.seed = 42 + k;
            const lm::run r = simulate_default(strategy(), s);
            const std::size_t settled = r.settled_from(0, s.completions, k, 2 * k);
            BOOST_TEST_MESSAGE("jitter K=" << k << ": settled within [K, 2K] after " << settled
                                           << " completions, mean limit "
                                           << r.mean_limit(s.completions / 2, s.completions));
            BOOST_TEST(settled <= settle_bound);
            check_against_fixed(r, s, k);
        }
    }
}

// A heavy-tailed latency (exponentially distributed work, as noisy as its
// mean) with the documented remedy, a window of 64 completions: the limit
// stays useful (throughput within 90% of the best fixed limit, latency below
// the fixed limit 64's) over several seeds.
BOOST_AUTO_TEST_CASE(heavy_tailed_latency_with_a_larger_window_keeps_the_throughput)
{
    for (std::size_t k : {std::size_t{2}, std::size_t{8}, std::size_t{32}}) {
        for (std::uint64_t seed : {1u, 2u, 3u}) {
            BOOST_TEST_CONTEXT("capacity " << k << ", seed " << seed)
            {
                lm::scenario s = resource(k);
                s.name = "exponential, window 64";
                s.exponential = true;
                s.seed = seed;
                dx::dynamic_concurrency d = strategy();
                d.window = 64;
                check_against_fixed(simulate_default(d, s), s, k);
            }
        }
    }
}

// 1% of the requests fail (ok == false) at random: each such window cuts the
// limit a little, but it stays near the capacity, far from min.
BOOST_AUTO_TEST_CASE(one_percent_failures_do_not_collapse_the_limit)
{
    for (std::size_t k : capacities) {
        BOOST_TEST_CONTEXT("capacity " << k)
        {
            lm::scenario s = resource(k);
            s.name = "1% failures";
            s.loss = 0.01;
            s.seed = 7 + k;
            const lm::run r = simulate_default(strategy(), s);
            const std::size_t half = s.completions / 2;
            const double mean = r.mean_limit(half, s.completions);
            const std::size_t below = outside(r, half, s.completions, k, 2 * k);
            BOOST_TEST_MESSAGE("1% failures K=" << k << ": mean limit " << mean << ", outside [K, 2K] "
                                                << 100.0 * below / half << "% of the time");
            BOOST_TEST(mean >= 0.75 * k);
            BOOST_TEST(below <= half / 10);
            check_against_fixed(r, s, k);
        }
    }
}

// A timed-out request is a sign of overload: started at 64 on a resource of
// capacity 2 with a deadline of 5 × base (every request of the first windows
// times out), the limit comes down to [K, 2K] and the timeouts stop.
BOOST_AUTO_TEST_CASE(timeouts_bring_the_limit_down)
{
    lm::scenario s = resource(2, 5000);
    s.timeout = 5 * base;
    const lm::run r = simulate_default(strategy(64), s);
    const std::size_t settled = r.settled_from(0, s.completions, 2, 4);
    std::size_t late = 0;
    for (std::size_t i = settled; i < s.completions; ++i)
        late += r.trace[i].ok ? 0 : 1;
    BOOST_TEST_MESSAGE("timeouts: from 64 to [2, 4] after " << settled << " completions, " << late
                                                          << " timeouts after that");
    BOOST_TEST(settled <= 2 * settle_bound);
    BOOST_TEST(late == 0u);
}

// Idle or low load: while fewer than half the limit are in use the limit does
// not grow. Closed loops of 3 and 7 clients against a limit of 16 (and a
// resource that would allow far more) leave it at 16; 8 clients (half) let it grow.
BOOST_AUTO_TEST_CASE(limit_does_not_grow_while_fewer_than_half_are_in_use)
{
    for (std::size_t users : {std::size_t{1}, std::size_t{3}, std::size_t{7}}) {
        lm::scenario s = resource(100000, 5000);
        s.users = users;
        const lm::run r = simulate_default(strategy(16), s);
        const auto [lo, hi] = r.limit_range(0, s.completions);
        BOOST_TEST_MESSAGE(users << " clients: limit " << lo << ".." << hi);
        BOOST_TEST(hi == 16u);
        BOOST_TEST(lo == 16u);  // nor is it lowered: the probe waits for load too
    }
    lm::scenario s = resource(100000, 5000);
    s.users = 8;
    const lm::run r = simulate_default(strategy(16), s);
    BOOST_TEST(r.limit_range(0, s.completions).second > 16u);
}

BOOST_AUTO_TEST_CASE(limit_stays_within_min_and_max)
{
    // A narrow range, a resource far larger, then far smaller.
    for (std::size_t k : {std::size_t{1}, std::size_t{100000}}) {
        lm::scenario s = resource(k, 10000);
        s.jitter = 0.2;
        s.loss = 0.01;
        const lm::run r = simulate_default(strategy(4, 6, 3), s);
        const auto [lo, hi] = r.limit_range(0, s.completions);
        BOOST_TEST_CONTEXT("capacity " << k)
        {
            BOOST_TEST(lo >= 3u);
            BOOST_TEST(hi <= 6u);
        }
    }
    // Probes too stay within [min, max]: a min above 1 is honoured while probing.
    lm::scenario s = resource(16, 10000);
    const lm::run r = simulate_default(strategy(4, max_limit, 4), s);
    BOOST_TEST(r.limit_range(0, s.completions).first >= 4u);
    BOOST_TEST(r.probing_share(0, s.completions) > 0.0);
}

// No drift without bound: over a long steady run at the operating point (a
// little above capacity: mild queueing all the time), neither the no-load
// estimate nor the limit creeps upwards.
BOOST_AUTO_TEST_CASE(no_upward_drift_under_steady_mild_overload)
{
    constexpr std::size_t k = 8;
    lm::scenario s = resource(k, 200000);
    s.jitter = 0.2;
    auto l = dd::make_limiter(strategy());
    const lm::run r = lm::simulate(l, s);
    const std::size_t tenth = s.completions / 10;
    const double early = r.mean_limit(tenth, 2 * tenth), late = r.mean_limit(9 * tenth, s.completions);
    BOOST_TEST_MESSAGE("long run K=8: mean limit " << early << " early, " << late << " late; no-load estimate "
                                                   << l.no_load_latency() / 1e6 << " ms (true " << base / 1e6
                                                   << " ms)");
    BOOST_TEST(r.limit_range(tenth, s.completions).second <= 2 * k);
    BOOST_TEST(late <= early + 1.0);
    BOOST_TEST(l.no_load_latency() <= 1.1 * base);
    BOOST_TEST(l.no_load_latency() >= 0.9 * base);
}

// The resource becomes three times slower (same capacity), then six times
// faster: the no-load latency is learnt again and the limit re-settles within
// [K, 2K] rather than sticking at min or drifting up. A slower resource is
// learnt at once (the limit falls to min, where a window measures the no-load
// latency); a faster one at the next periodic probe, within probe_interval
// windows of at most max completions.
BOOST_AUTO_TEST_CASE(a_changed_no_load_latency_is_learnt_again)
{
    constexpr std::size_t k = 8, step = 10000;
    const dx::dynamic_concurrency d = strategy();
    lm::scenario s;
    s.phases = {lm::phase{0, k, base}, lm::phase{step, k, 3 * base}, lm::phase{2 * step, k, base / 2}};
    s.completions = 3 * step;
    auto l = dd::make_limiter(d);
    const lm::run r = lm::simulate(l, s);
    const std::size_t bounds[] = {0, 2 * settle_bound, d.probe_interval * d.max};
    for (std::size_t i = 1; i != 3; ++i) {
        const std::size_t first = i * step, last = first + step;
        const std::size_t settled = r.settled_from(first, last, k, 2 * k);
        BOOST_TEST_MESSAGE("no-load latency x" << s.phases[i].base / s.phases[i - 1].base
                                               << ": settled within [K, 2K] after " << settled - first
                                               << " completions");
        BOOST_TEST(settled - first <= bounds[i]);
        BOOST_TEST(r.limit_range(first, last).first >= 1u);
    }
    BOOST_TEST(l.no_load_latency() <= 1.1 * base / 2);
    BOOST_TEST(l.no_load_latency() >= 0.9 * base / 2);
}

namespace {

// The limiter as the backends drive it before they call on_start(): it cannot
// see the in-flight count.
struct blind {
    dd::gradient_limiter l;
    std::size_t limit() const { return l.limit(); }
    void on_complete(std::chrono::nanoseconds d, bool ok) { l.on_complete(d, ok); }
    bool probing() const { return l.probing(); }
};

}  // namespace

// Started far above the capacity, the first window sees only queueing and
// takes it for the no-load latency; the first probe descends level by level
// until the latency stops falling, and the limit comes down to [K, 2K]. Both
// resource models (processor sharing, latency fixed at the start), with and
// without on_start().
BOOST_AUTO_TEST_CASE(a_start_far_above_capacity_converges)
{
    for (bool at_start : {false, true}) {
        for (bool with_on_start : {true, false}) {
            BOOST_TEST_CONTEXT("at_start " << at_start << ", on_start " << with_on_start)
            {
                lm::scenario s = resource(2, 5000);
                s.at_start = at_start;
                lm::run r;
                if (with_on_start) {
                    r = simulate_default(strategy(64), s);
                } else {
                    blind b{dd::gradient_limiter(strategy(64))};
                    r = lm::simulate(b, s);
                }
                const std::size_t settled = r.settled_from(0, s.completions, 2, 4);
                BOOST_TEST_MESSAGE("from 64 on K=2 (" << (at_start ? "latency fixed at start" : "processor sharing")
                                                      << (with_on_start ? "" : ", without on_start()")
                                                      << "): settled within [K, 2K] after " << settled
                                                      << " completions");
                BOOST_TEST(settled <= settle_bound);
            }
        }
    }
}

// Before the backends call on_start(), the limiter cannot see the in-flight
// count; it must still work (it then counts itself fully in use and probes by
// counting completions).
BOOST_AUTO_TEST_CASE(without_on_start_the_limit_still_settles)
{
    for (std::size_t k : capacities) {
        BOOST_TEST_CONTEXT("capacity " << k)
        {
            lm::scenario s = resource(k);
            s.jitter = 0.2;
            blind b{dd::gradient_limiter(strategy())};
            const lm::run r = lm::simulate(b, s);
            BOOST_TEST(r.settled_from(0, s.completions, k, 2 * k) <= settle_bound);
            check_against_fixed(r, s, k);
        }
    }
}

// ---- aimd_concurrency ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(aimd_concurrency_grows_and_backs_off)
{
    dx::aimd_concurrency a;
    a.initial = 2;
    a.max = max_limit;
    // Constant latency: grows to max.
    {
        auto l = dd::make_limiter(a);
        const lm::run r = lm::simulate(l, resource(100000, 5000));
        BOOST_TEST(r.trace.back().limit == max_limit);
    }
    // Capacity 8: backs off and stays near tolerance × K, without drifting
    // up over a long run (its no-load latency is the smallest seen, never a
    // loaded one).
    {
        auto l = dd::make_limiter(a);
        const lm::run r = lm::simulate(l, resource(8, 100000));
        const auto [lo, hi] = r.limit_range(10000, 100000);
        BOOST_TEST_MESSAGE("aimd K=8: limit " << lo << ".." << hi << ", mean "
                                              << r.mean_limit(10000, 100000));
        BOOST_TEST(hi <= 3 * 8u);
        BOOST_TEST(lo >= 4u);
    }
    // Fewer than half in use: no growth.
    {
        a.initial = 16;
        auto l = dd::make_limiter(a);
        lm::scenario s = resource(100000, 5000);
        s.users = 3;
        const lm::run r = lm::simulate(l, s);
        BOOST_TEST(r.limit_range(0, s.completions).second == 16u);
    }
}

// ---- user limiters ----------------------------------------------------------

namespace {

struct counting_limiter {
    std::size_t limit_ = 3;
    std::size_t* starts;
    std::size_t* ends;
    std::size_t limit() const { return limit_; }
    void on_start() { ++*starts; }
    void on_complete(std::chrono::nanoseconds, bool) { ++*ends; }
};

struct plain_limiter {
    std::size_t limit() const { return 0; }
    void on_complete(std::chrono::nanoseconds, bool) {}
};

}  // namespace

BOOST_AUTO_TEST_CASE(user_limiter_on_start_is_called_where_it_exists)
{
    std::size_t starts = 0, ends = 0;
    auto l = dd::make_limiter(counting_limiter{3, &starts, &ends});
    l.on_start();
    l.on_start();
    l.on_complete(1ms, true);
    BOOST_TEST(starts == 2u);
    BOOST_TEST(ends == 1u);
    BOOST_TEST(l.limit() == 3u);

    auto p = dd::make_limiter(plain_limiter{});
    p.on_start();  // a limiter without on_start() is fine
    BOOST_TEST(p.limit() == 1u);  // 0 is read as 1

    dd::locked_limiter<decltype(dd::make_limiter(strategy()))> locked(dd::make_limiter(strategy()));
    locked.on_start();
    locked.on_complete(1ms, true);
    BOOST_TEST(locked.limit() == 4u);
}

// ---- what the limiter is told: end_invocation() --------------------------------

namespace {

struct recording_limiter {
    std::vector<bool> oks;
    std::size_t limit() const { return 8; }
    void on_complete(std::chrono::nanoseconds, bool ok) { oks.push_back(ok); }
};

using core_t = dd::channel_core<int, int, dx::sharded_slab>;

}  // namespace

// ok == true for a value in time; false for an error, an exception's result,
// a result after the deadline (expired or not yet); true for a request
// cancelled or closed while it ran (no sign of overload).
BOOST_AUTO_TEST_CASE(end_invocation_reports_failures_and_timeouts_but_not_cancellations)
{
    using core_test::t0;
    core_test::rec w[6];
    core_t core(core_test::opts(16));
    core.attach_client();
    for (int i = 0; i != 6; ++i)
        core_test::submit(core, i, t0 + 5s, w[i], t0);
    auto t = core_test::take(core, 8, t0);
    BOOST_TEST_REQUIRE(t.size() == 6u);

    recording_limiter lim;
    auto end = [&](std::size_t i, dx::result<int> r, dd::time_point now) {
        (void)core_t::take_request(t[i]);
        dd::end_invocation(core, lim, t[i], std::move(r), t0, now);
    };
    end(0, 10, t0 + 1s);                                                          // value in time
    end(1, boost::system::errc::make_error_code(boost::system::errc::io_error), t0 + 1s);  // handler error
    end(2, dx::make_error_code(dx::error::handler_failed), t0 + 1s);               // exception
    end(3, 13, t0 + 6s);                                                          // late, not yet expired
    core.expire(t0 + 7s);                                                         // times out requests 4 and 5
    end(4, 14, t0 + 7s);                                                          // ended after its timeout
    BOOST_TEST_REQUIRE(lim.oks.size() == 5u);
    BOOST_TEST(lim.oks[0] == true);
    BOOST_TEST(lim.oks[1] == false);
    BOOST_TEST(lim.oks[2] == false);
    BOOST_TEST(lim.oks[3] == false);
    BOOST_TEST(lim.oks[4] == false);
    end(5, 15, t0 + 7s);
    BOOST_TEST(lim.oks.back() == false);

    // Cancelled (terminal) while running, then closed while running: both ok.
    core_test::rec c1, c2;
    const dd::slot_key k1 = core_test::submit_k(core, 20, t0 + 60s, c1, t0 + 7s);
    core_test::submit(core, 21, t0 + 60s, c2, t0 + 7s);
    auto t2 = core_test::take(core, 8, t0 + 7s);
    BOOST_TEST_REQUIRE(t2.size() == 2u);
    core.cancel(k1, true);
    BOOST_TEST(c1.error() == dx::make_error_code(dx::error::cancelled));
    (void)core_t::take_request(t2[0]);
    dd::end_invocation(core, lim, t2[0], dx::result<int>(20), t0 + 7s, t0 + 8s);
    BOOST_TEST(lim.oks.back() == true);
    core.close();
    BOOST_TEST(c2.error() == dx::make_error_code(dx::error::closed));
    (void)core_t::take_request(t2[1]);
    dd::end_invocation(core, lim, t2[1], dx::result<int>(21), t0 + 7s, t0 + 8s);
    BOOST_TEST(lim.oks.back() == true);
    BOOST_TEST(lim.oks.size() == 8u);
}

// When the limit rises, every waiting request that now fits starts: take()
// hands out limit - in_flight at once (the responder takes again after every
// end and asks limit() each time).
BOOST_AUTO_TEST_CASE(a_rising_limit_hands_out_every_waiting_request_that_fits)
{
    using core_test::t0;
    std::vector<core_test::rec> w(10);
    core_t core(core_test::opts(16));
    core.attach_client();
    for (int i = 0; i != 10; ++i)
        core_test::submit(core, i, t0 + 5s, w[i], t0);
    auto a = core_test::take(core, 2, t0);
    BOOST_TEST(a.size() == 2u);
    auto b = core_test::take(core, 2, t0);
    BOOST_TEST(b.size() == 0u);  // at the limit
    auto c = core_test::take(core, 7, t0);
    BOOST_TEST(c.size() == 5u);  // 7 - 2 in flight, all at once
    BOOST_TEST(core.stats().in_flight == 7u);
    auto d = core_test::take(core, 64, t0);
    BOOST_TEST(d.size() == 3u);  // the rest
}
