//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 7 (concurrency): take(limit) never lets in_flight exceed the
// limit; the limiters (fixed, AIMD, user) and what they are told by
// end_invocation(): once per handler invocation, its duration, and ok=false
// for a failure or a missed deadline.

#define BOOST_TEST_MODULE core_concurrency
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/detail/core/invocation.hpp>
#include <boost/duplex/detail/core/limiter.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

using namespace core_test;

using core_t = dd::channel_core<int, int, dx::sharded_slab>;

namespace {

struct recording_limiter {
    std::size_t lim = 3;
    int starts = 0;
    std::vector<std::pair<std::chrono::nanoseconds, bool>> calls;
    std::size_t limit() const { return lim; }
    void on_start() { ++starts; }
    void on_complete(std::chrono::nanoseconds latency, bool ok) { calls.emplace_back(latency, ok); }
};

struct zero_limiter {
    std::size_t limit() const { return 0; }
    void on_complete(std::chrono::nanoseconds, bool) {}
};

struct pointing_limiter {
    recording_limiter* r;
    std::size_t limit() const { return r->limit(); }
    void on_start() { r->on_start(); }
    void on_complete(std::chrono::nanoseconds latency, bool ok) { r->on_complete(latency, ok); }
};

struct not_a_limiter {
    std::size_t limit() const { return 1; }
};

}  // namespace

static_assert(dx::concurrency_limiter<recording_limiter>);
static_assert(!dx::concurrency_limiter<not_a_limiter>);
static_assert(dx::concurrency_strategy<dx::fixed_concurrency>);
static_assert(dx::concurrency_strategy<dx::dynamic_concurrency>);
static_assert(dx::concurrency_strategy<dx::aimd_concurrency>);
static_assert(dx::concurrency_limiter<zero_limiter>);  // on_start() is optional
static_assert(dx::concurrency_strategy<recording_limiter>);
static_assert(!dx::concurrency_strategy<int>);
static_assert(std::is_same_v<decltype(dd::make_limiter(dx::fixed_concurrency{})), dd::fixed_limiter>);
static_assert(std::is_same_v<decltype(dd::make_limiter(dx::dynamic_concurrency{})), dd::gradient_limiter>);
static_assert(std::is_same_v<decltype(dd::make_limiter(dx::aimd_concurrency{})), dd::aimd_limiter>);
static_assert(
    std::is_same_v<decltype(dd::make_limiter(recording_limiter{})), dd::user_limiter<recording_limiter>>);

BOOST_AUTO_TEST_CASE(take_never_lets_in_flight_exceed_the_limit)
{
    rec w[10];
    core_t core(opts(16));
    core.attach_client();
    for (int i = 0; i != 10; ++i)
        submit(core, i, t0 + 10s, w[i], t0);

    auto a = take(core, 3, t0);
    BOOST_TEST(a.size() == 3u);
    CORE_CHECK_STATS(core, 7, 3, 0, 0, 0, 0);
    BOOST_TEST(take(core, 3, t0).size() == 0u);
    BOOST_TEST(take(core, 2, t0).size() == 0u);  // a lower limit than in flight: nothing
    CORE_CHECK_STATS(core, 7, 3, 0, 0, 0, 0);
    auto b = take(core, 5, t0);
    BOOST_TEST(b.size() == 2u);
    CORE_CHECK_STATS(core, 5, 5, 0, 0, 0, 0);

    (void)finish_value(core, a[0], 0);
    (void)finish_value(core, a[1], 0);
    BOOST_TEST(take(core, 3, t0).size() == 0u);  // 3 still run, limit 3
    auto c = take(core, 4, t0);
    BOOST_TEST(c.size() == 1u);
    CORE_CHECK_STATS(core, 4, 4, 2, 0, 0, 0);
    BOOST_TEST(take(core, 0, t0).size() == 0u);  // limit 0 takes nothing from the core's view

    for (auto* s : {a[2], b[0], b[1], c[0]})
        (void)finish_value(core, s, 0);
    core.close();
}

BOOST_AUTO_TEST_CASE(take_respects_a_moving_limit_under_a_random_schedule)
{
    constexpr int n = 500;
    std::vector<std::unique_ptr<rec>> w;
    core_t core(opts(n));
    core.attach_client();
    for (int i = 0; i != n; ++i) {
        w.push_back(std::make_unique<rec>());
        submit(core, i, t0 + 10s, *w.back(), t0);
    }
    std::vector<core_t::slot_type*> running;
    std::uint32_t rng = 12345;
    auto next = [&] {
        rng = rng * 1664525u + 1013904223u;
        return rng >> 8;
    };
    int violations = 0, handled = 0;
    for (int step = 0; step != 5000 && handled != n; ++step) {
        const std::size_t limit = 1 + next() % 8;
        const std::size_t before = running.size();
        const std::size_t available = core.stats().queued + core.waiting_for_room();
        auto t = take(core, limit, t0);
        const std::size_t after = before + t.size();
        if (after > std::max(limit, before))  // never above the limit (nor more than before)
            ++violations;
        if (t.size() != std::min(limit > before ? limit - before : 0, available))  // fills up to it
            ++violations;
        if (core.stats().in_flight != after)
            ++violations;
        if (core.stats().concurrency_limit != limit)
            ++violations;
        for (auto* s : t.slots)
            running.push_back(s);
        // Finish a random few.
        for (std::size_t k = next() % 3; k != 0 && !running.empty(); --k) {
            const std::size_t i = next() % running.size();
            (void)finish_value(core, running[i], 1);
            running.erase(running.begin() + std::ptrdiff_t(i));
            ++handled;
        }
    }
    BOOST_TEST(violations == 0);
    for (auto* s : running)
        (void)finish_value(core, s, 1);
    core.close();
    for (auto& x : w)
        BOOST_TEST_REQUIRE(x->calls == 1u);
}

BOOST_AUTO_TEST_CASE(stats_concurrency_limit_reflects_the_limit_given_to_take)
{
    core_t core(opts(4));
    core.attach_client();
    BOOST_TEST(core.stats().concurrency_limit == 0u);
    core.set_limit(7);
    BOOST_TEST(core.stats().concurrency_limit == 7u);
    (void)take(core, 3, t0);
    BOOST_TEST(core.stats().concurrency_limit == 3u);
    (void)take(core, 12, t0);
    BOOST_TEST(core.stats().concurrency_limit == 12u);
    core.close();
}

BOOST_AUTO_TEST_CASE(fixed_limiter_holds_its_limit)
{
    dd::fixed_limiter l(dx::fixed_concurrency{5});
    BOOST_TEST(l.limit() == 5u);
    for (int i = 0; i != 100; ++i) {
        l.on_start();
        l.on_complete(std::chrono::milliseconds(i % 2 ? 1 : 1000), i % 3 != 0);
    }
    BOOST_TEST(l.limit() == 5u);
    BOOST_TEST(dd::fixed_limiter(dx::fixed_concurrency{0}).limit() == 1u);  // 0 reads as 1
    BOOST_TEST(dd::fixed_limiter(dx::fixed_concurrency{}).limit() == 16u);
}

namespace {

// A closed-loop model of a responder in front of a resource: each round
// starts limit() invocations (on_start each), then ends them all with the
// latency the resource gives at that load. Returns the limits seen; checks
// that every limit read stays within [lo, hi].
template <class L, class Latency>
std::vector<std::size_t> drive(L& l, int completions, Latency latency_at, bool ok, std::size_t lo, std::size_t hi,
                               bool track = true)
{
    std::vector<std::size_t> seen;
    int out_of_range = 0;
    for (int done = 0; done < completions;) {
        const std::size_t n = l.limit();
        seen.push_back(n);
        if (n < lo || n > hi)
            ++out_of_range;
        if (track)
            for (std::size_t i = 0; i != n; ++i)
                l.on_start();
        const std::chrono::nanoseconds lat = latency_at(n);
        for (std::size_t i = 0; i != n; ++i) {
            l.on_complete(lat, ok);
            const std::size_t m = l.limit();
            if (m < lo || m > hi)
                ++out_of_range;
        }
        done += int(n);
    }
    BOOST_TEST(out_of_range == 0);
    return seen;
}

// Latency of a resource with capacity k: flat up to k in flight, then growing in proportion.
auto capacity(std::size_t k, std::chrono::nanoseconds base = 1ms)
{
    return [k, base](std::size_t n) { return base * std::max<std::size_t>(1, (n + k - 1) / k); };
}

auto constant(std::chrono::nanoseconds d = 1ms)
{
    return [d](std::size_t) { return d; };
}

}  // namespace

// ---- dynamic_concurrency (gradient_limiter) ---------------------------------

BOOST_AUTO_TEST_CASE(dynamic_grows_to_max_under_constant_latency)
{
    dx::dynamic_concurrency s;
    s.initial = 2;
    s.min = 1;
    s.max = 32;
    auto l = dd::make_limiter(s);
    BOOST_TEST(l.limit() == 2u);
    const auto seen = drive(l, 20000, constant(), true, 1, 32);
    BOOST_TEST(*std::max_element(seen.begin(), seen.end()) == 32u);
    BOOST_TEST(l.limit() == 32u);  // and stays there (outside probes)
}

BOOST_AUTO_TEST_CASE(dynamic_settles_near_the_capacity_of_the_resource)
{
    dx::dynamic_concurrency s;
    s.initial = 64;  // far above the capacity of 4
    s.min = 1;
    s.max = 64;
    auto l = dd::make_limiter(s);
    (void)drive(l, 50000, capacity(4), true, 1, 64);
    BOOST_TEST(!l.probing());
    BOOST_TEST(l.limit() < 16u);  // really came down
    BOOST_TEST(l.limit() >= 2u);  // without collapsing

    // From below, it rises to the same region.
    s.initial = 1;
    auto up = dd::make_limiter(s);
    (void)drive(up, 50000, capacity(8), true, 1, 64);
    BOOST_TEST(up.limit() >= 6u);
    BOOST_TEST(up.limit() < 32u);
}

BOOST_AUTO_TEST_CASE(dynamic_shrinks_to_min_on_failures_and_never_below)
{
    dx::dynamic_concurrency s;
    s.initial = 16;
    s.min = 3;
    s.max = 16;
    auto l = dd::make_limiter(s);
    (void)drive(l, 2000, constant(), true, 3, 16);
    BOOST_TEST(l.limit() == 16u);
    (void)drive(l, 20000, constant(), false, 3, 16);  // normal latency, but failing
    BOOST_TEST(l.estimate() == 3.0);
}

BOOST_AUTO_TEST_CASE(dynamic_shrinks_when_latency_grows_far_above_no_load)
{
    dx::dynamic_concurrency s;
    s.initial = 32;
    s.min = 1;
    s.max = 32;
    auto l = dd::make_limiter(s);
    (void)drive(l, 5000, constant(1ms), true, 1, 32);
    BOOST_TEST(l.limit() == 32u);
    // The resource now queues: latency grows with the load beyond 2 in flight.
    (void)drive(l, 50000, capacity(2, 1ms), true, 1, 32);
    BOOST_TEST(l.estimate() < 10.0);
}

BOOST_AUTO_TEST_CASE(dynamic_does_not_grow_while_little_of_the_limit_is_in_use)
{
    dx::dynamic_concurrency s;
    s.initial = 8;
    s.min = 1;
    s.max = 64;
    s.probe_interval = 0;
    auto l = dd::make_limiter(s);
    // One request at a time, fast: nothing says more would help.
    for (int i = 0; i != 5000; ++i) {
        l.on_start();
        l.on_complete(1ms, true);
    }
    BOOST_TEST(l.limit() == 8u);
}

BOOST_AUTO_TEST_CASE(dynamic_clamps_its_settings)
{
    {
        dx::dynamic_concurrency s;
        s.initial = 100;
        s.min = 2;
        s.max = 10;
        BOOST_TEST(dd::make_limiter(s).limit() == 10u);
        s.initial = 0;
        BOOST_TEST(dd::make_limiter(s).limit() == 2u);
    }
    {
        dx::dynamic_concurrency s;
        s.initial = 0;
        s.min = 0;  // 0 reads as 1
        s.max = 4;
        auto l = dd::make_limiter(s);
        BOOST_TEST(l.limit() == 1u);
        (void)drive(l, 2000, constant(), false, 1, 4);
        BOOST_TEST(l.estimate() == 1.0);
    }
    {
        dx::dynamic_concurrency s;
        s.initial = 5;
        s.min = 6;
        s.max = 3;  // max below min: the limit is min
        auto l = dd::make_limiter(s);
        BOOST_TEST(l.limit() == 6u);
        (void)drive(l, 2000, constant(), true, 6, 6);
    }
    {
        dx::dynamic_concurrency s;  // silly tuning values fall back to sane ones
        s.initial = 8;
        s.max = 8;
        s.tolerance = -3;
        s.smoothing = 7;
        s.backoff = -1;
        s.window = 0;
        auto l = dd::make_limiter(s);
        (void)drive(l, 2000, constant(), true, 1, 8);
        BOOST_TEST(l.limit() == 8u);
        (void)drive(l, 20000, constant(), false, 1, 8);
        BOOST_TEST(l.estimate() == 1.0);
    }
}

BOOST_AUTO_TEST_CASE(dynamic_without_on_start_still_moves)
{
    // A backend (or a wrapper) that never calls on_start(): the limiter counts itself in use.
    dx::dynamic_concurrency s;
    s.initial = 2;
    s.max = 16;
    auto l = dd::make_limiter(s);
    (void)drive(l, 20000, constant(), true, 1, 16, false);
    BOOST_TEST(l.limit() == 16u);
    (void)drive(l, 20000, constant(), false, 1, 16, false);
    BOOST_TEST(l.estimate() == 1.0);
}

// ---- aimd_concurrency (aimd_limiter) -------------------------------------------

BOOST_AUTO_TEST_CASE(aimd_grows_to_max_under_constant_latency)
{
    dx::aimd_concurrency s;
    s.initial = 2;
    s.min = 1;
    s.max = 16;
    dd::aimd_limiter l(s);
    BOOST_TEST(l.limit() == 2u);
    std::size_t prev = l.limit();
    int steps = 0;
    while (l.limit() < 16 && steps < 10000) {
        l.on_complete(5ms, true);
        BOOST_TEST_REQUIRE(l.limit() >= prev);  // never shrinks while all is well
        prev = l.limit();
        ++steps;
    }
    BOOST_TEST(l.limit() == 16u);
    BOOST_TEST(steps < 1000);  // really moves: about +1 per window of `limit` completions
    for (int i = 0; i != 1000; ++i)
        l.on_complete(5ms, true);
    BOOST_TEST(l.limit() == 16u);  // never above max
}

BOOST_AUTO_TEST_CASE(aimd_shrinks_when_latency_grows_far_above_no_load)
{
    dx::aimd_concurrency s;
    s.initial = 16;
    s.min = 2;
    s.max = 16;
    dd::aimd_limiter l(s);
    for (int i = 0; i != 100; ++i)
        l.on_complete(1ms, true);  // learn the no-load latency
    BOOST_TEST(l.limit() == 16u);
    std::size_t prev = l.limit();
    bool shrank = false;
    for (int i = 0; i != 2000; ++i) {
        l.on_complete(100ms, true);  // 100x the no-load latency
        BOOST_TEST_REQUIRE(l.limit() <= prev);
        BOOST_TEST_REQUIRE(l.limit() >= 2u);  // never below min
        shrank |= l.limit() < prev;
        prev = l.limit();
    }
    BOOST_TEST(shrank);
    BOOST_TEST(l.limit() == 2u);  // driven down to min

    // Back to fast completions: it grows again.
    for (int i = 0; i != 2000; ++i)
        l.on_complete(1ms, true);
    BOOST_TEST(l.limit() == 16u);
}

BOOST_AUTO_TEST_CASE(aimd_shrinks_on_failures)
{
    dx::aimd_concurrency s;
    s.initial = 8;
    s.min = 1;
    s.max = 8;
    dd::aimd_limiter l(s);
    for (int i = 0; i != 50; ++i)
        l.on_complete(1ms, true);
    BOOST_TEST(l.limit() == 8u);
    for (int i = 0; i != 500; ++i) {
        l.on_complete(1ms, false);  // normal latency, but failing
        BOOST_TEST_REQUIRE(l.limit() >= 1u);
    }
    BOOST_TEST(l.limit() == 1u);
}

BOOST_AUTO_TEST_CASE(aimd_backs_off_at_most_once_per_window)
{
    dx::aimd_concurrency s;
    s.initial = 16;
    s.min = 1;
    s.max = 16;
    dd::aimd_limiter l(s);
    for (int i = 0; i != 100; ++i)
        l.on_complete(1ms, true);
    BOOST_TEST(l.limit() == 16u);
    l.on_complete(1s, true);  // one burst of slow completions...
    const std::size_t after_first = l.limit();
    BOOST_TEST(after_first < 16u);
    for (int i = 0; i != 3; ++i)
        l.on_complete(1s, true);
    BOOST_TEST(l.limit() == after_first);  // ...does not collapse the limit at once
}

BOOST_AUTO_TEST_CASE(aimd_does_not_grow_while_little_of_the_limit_is_in_use)
{
    dx::aimd_concurrency s;
    s.initial = 8;
    s.max = 64;
    dd::aimd_limiter l(s);
    for (int i = 0; i != 1000; ++i) {
        l.on_start();
        l.on_complete(1ms, true);
    }
    BOOST_TEST(l.limit() == 8u);
}

BOOST_AUTO_TEST_CASE(aimd_clamps_its_settings)
{
    {
        dx::aimd_concurrency s;
        s.initial = 100;
        s.min = 2;
        s.max = 10;
        BOOST_TEST(dd::aimd_limiter(s).limit() == 10u);
        s.initial = 0;
        BOOST_TEST(dd::aimd_limiter(s).limit() == 2u);
    }
    {
        dx::aimd_concurrency s;
        s.initial = 0;
        s.min = 0;  // 0 reads as 1
        s.max = 4;
        dd::aimd_limiter l(s);
        BOOST_TEST(l.limit() == 1u);
        for (int i = 0; i != 1000; ++i)
            l.on_complete(1ms, false);
        BOOST_TEST(l.limit() == 1u);
    }
    {
        dx::aimd_concurrency s;
        s.initial = 5;
        s.min = 6;
        s.max = 3;  // max below min: the limit is min
        dd::aimd_limiter l(s);
        BOOST_TEST(l.limit() == 6u);
        for (int i = 0; i != 100; ++i)
            l.on_complete(1ms, true);
        BOOST_TEST(l.limit() == 6u);
    }
    {
        dx::aimd_concurrency s;  // silly tuning values fall back to sane ones
        s.initial = 8;
        s.max = 8;
        s.tolerance = 0.1;
        s.backoff = 7.0;
        dd::aimd_limiter l(s);
        for (int i = 0; i != 50; ++i)
            l.on_complete(1ms, true);
        BOOST_TEST(l.limit() == 8u);
        for (int i = 0; i != 500; ++i)
            l.on_complete(1ms, false);
        BOOST_TEST(l.limit() == 1u);
    }
}

// ---- user limiters --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(user_limiter_reads_zero_as_one_and_forwards_completions)
{
    dd::user_limiter<zero_limiter> z{zero_limiter{}};
    BOOST_TEST(z.limit() == 1u);
    z.on_start();  // a limiter without on_start(): nothing to call
    auto u = dd::make_limiter(recording_limiter{});
    BOOST_TEST(u.limit() == 3u);
    u.on_complete(7ms, false);
    // The user's limiter is kept inside; look at it through one that points to a shared record.
    recording_limiter r;
    dd::user_limiter<pointing_limiter> ref(pointing_limiter{&r});
    ref.on_start();
    ref.on_complete(3ms, true);
    BOOST_TEST(r.starts == 1);
    BOOST_TEST_REQUIRE(r.calls.size() == 1u);
    BOOST_TEST(r.calls[0].first.count() == std::chrono::nanoseconds(3ms).count());
    BOOST_TEST(r.calls[0].second);
    r.lim = 9;
    BOOST_TEST(ref.limit() == 9u);  // read at every call

    // The locked wrapper forwards all three.
    dd::locked_limiter<dd::user_limiter<pointing_limiter>> locked(dd::user_limiter<pointing_limiter>(pointing_limiter{&r}));
    locked.on_start();
    locked.on_complete(1ms, false);
    BOOST_TEST(r.starts == 2);
    BOOST_TEST(r.calls.size() == 2u);
    BOOST_TEST(locked.limit() == 9u);
}

// ---- end_invocation: what the limiter is told ------------------------------

BOOST_AUTO_TEST_CASE(end_invocation_tells_the_limiter_once_per_invocation_with_its_duration_and_ok)
{
    rec w[7];
    core_t core(opts(16));
    core.attach_client();
    recording_limiter lim;
    dd::slot_key keys[7];
    for (int i = 0; i != 7; ++i)
        keys[i] = submit_k(core, i, t0 + 10s, w[i], t0);
    auto t = take(core, 16, t0);
    BOOST_TEST_REQUIRE(t.size() == 7u);
    for (auto* s : t.slots)
        (void)core_t::take_request(s);
    const time_point started = t0 + 1s;

    // 0: value, on time -> ok
    dd::end_invocation(core, lim, t[0], dx::result<int>(1), started, t0 + 2s);
    // 1: handler error -> not ok
    dd::end_invocation(core, lim, t[1], dx::result<int>(dx::make_error_code(dx::error::handler_failed)), started,
                       t0 + 3s);
    // 2: value, but after its deadline (the timer lagged: still delivered) -> not ok
    dd::end_invocation(core, lim, t[2], dx::result<int>(2), started, t0 + 10s);
    // 3: timed out while running -> not ok
    // 4: cancelled while running -> ok (no sign of overload)
    // 5: closed while running -> ok
    (void)core.cancel(keys[4], true);
    (void)core.expire(t0 + 10s);  // times out 3, 5, 6 (still running)
    BOOST_TEST(w[3].calls == 1u);
    dd::end_invocation(core, lim, t[3], dx::result<int>(3), started, t0 + 11s);
    dd::end_invocation(core, lim, t[4], dx::result<int>(4), started, t0 + 4s);
    BOOST_TEST(lim.calls.size() == 5u);

    // 6 ended by close() (5 too, but it already timed out).
    rec x;
    core_t core2(opts(4));
    core2.attach_client();
    submit(core2, 0, t0 + 10s, x, t0);
    auto t2 = take(core2, 4, t0);
    (void)core_t::take_request(t2[0]);
    (void)core2.close();
    dd::end_invocation(core2, lim, t2[0], dx::result<int>(0), started, t0 + 2s);

    BOOST_TEST_REQUIRE(lim.calls.size() == 6u);
    const std::vector<bool> oks{true, false, false, false, true, true};
    const std::vector<std::chrono::nanoseconds> lat{1s, 2s, 9s, 10s, 3s, 1s};
    for (std::size_t i = 0; i != 6; ++i) {
        BOOST_TEST(lim.calls[i].second == oks[i], "call " << i);
        BOOST_TEST(lim.calls[i].first.count() == lat[i].count(), "call " << i);
    }
    BOOST_TEST(w[0].value() == 1);
    CORE_CHECK_ERR(w[1], dx::error::handler_failed);
    BOOST_TEST(w[2].value() == 2);
    CORE_CHECK_ERR(w[3], dx::error::timeout);
    CORE_CHECK_ERR(w[4], dx::error::cancelled);
    for (int i = 0; i != 5; ++i)
        BOOST_TEST(w[i].calls == 1u);

    dd::end_invocation(core, lim, t[5], dx::result<int>(5), started, t0 + 12s);
    dd::end_invocation(core, lim, t[6], dx::result<int>(6), started, t0 + 12s);
    BOOST_TEST(lim.calls.size() == 8u);
    core.close();
    for (auto& r : w)
        BOOST_TEST(r.calls == 1u);
}

BOOST_AUTO_TEST_CASE(invoke_sync_turns_exceptions_into_handler_failed)
{
    auto ok = [](int x) { return x * 2; };
    auto res = [](int x) -> dx::result<int> {
        if (x < 0)
            return dx::make_error_code(dx::error::invalid_argument);
        return x + 1;
    };
    auto throws = [](int) -> int { throw std::runtime_error("boom"); };
    auto throws_other = [](int) -> int { throw 42; };
    auto throws_bad_alloc = [](int) -> int { throw std::bad_alloc(); };

    BOOST_TEST(dd::invoke_sync<int>(ok, 4).value() == 8);
    BOOST_TEST(dd::invoke_sync<int>(res, 4).value() == 5);
    BOOST_TEST(dd::invoke_sync<int>(res, -1).error() == dx::make_error_code(dx::error::invalid_argument));
    BOOST_TEST(dd::invoke_sync<int>(throws, 1).error() == dx::make_error_code(dx::error::handler_failed));
    BOOST_TEST(dd::invoke_sync<int>(throws_other, 1).error() == dx::make_error_code(dx::error::handler_failed));
    BOOST_TEST(dd::invoke_sync<int>(throws_bad_alloc, 1).error() == dx::make_error_code(dx::error::handler_failed));

    // A response type the handler's return converts to.
    auto to_string = [](int x) { return std::to_string(x); };
    BOOST_TEST(dd::invoke_sync<std::string>(to_string, 12).value() == "12");
    static_assert(dd::sync_handler<decltype(ok), int, int>);
    static_assert(dd::sync_handler<decltype(res), int, int>);
    static_assert(!dd::sync_handler<decltype(to_string), int, int>);
}

// The largest settings a user can write (initial = max = SIZE_MAX, "no
// limit"): the limit is huge, never 0, and moving it never converts an
// out-of-range double to an integer (UBSan checks that in the sanitizer
// build). Once, both limiters turned SIZE_MAX into 0 and nothing was served.
BOOST_AUTO_TEST_CASE(limiters_with_size_max_settings_stay_huge_and_defined)
{
    const auto check = [](auto l) {
        BOOST_TEST(l.limit() >= std::size_t(1) << 32);
        for (int i = 0; i != 5000; ++i) {
            l.on_start();
            l.on_complete(std::chrono::microseconds(i % 7 == 0 ? 900 : 10), i % 11 != 0);
            BOOST_TEST_REQUIRE(l.limit() >= 1u);
        }
    };
    {
        dx::dynamic_concurrency s;
        s.initial = s.max = SIZE_MAX;
        check(dd::make_limiter(s));
        s.min = SIZE_MAX;
        check(dd::make_limiter(s));
    }
    {
        dx::aimd_concurrency s;
        s.initial = s.max = SIZE_MAX;
        check(dd::make_limiter(s));
        s.min = SIZE_MAX;
        check(dd::make_limiter(s));
    }
}
