//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Deadlines: expire() ends every request due (queued, waiting for room,
// running), timeouts at submit, the saturating deadline_after(), the timer
// re-arming protocol (rearm_timer / next_deadline / expire's return), and
// take() never handing out an expired request (guarantee 3).

#define BOOST_TEST_MODULE core_deadlines
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <boost/duplex/detail/core/deadline_heap.hpp>

#include <chrono>
#include <memory>
#include <new>
#include <vector>

using namespace core_test;

using core_t = dd::channel_core<int, int, dx::sharded_slab>;

namespace {

std::vector<int> requests_of(const taken<core_t>& t)
{
    std::vector<int> v;
    for (auto* s : t.slots)
        v.push_back(*s->request.get());
    return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(expire_ends_queued_waiting_and_running_requests_that_are_due)
{
    rec run, queued, waiting, later;
    core_t core(opts(1));
    core.attach_client();
    submit(core, 0, t0 + 5s, run, t0);
    auto t = take(core, 1, t0);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    submit(core, 1, t0 + 5s, queued, t0);
    submit(core, 2, t0 + 4s, waiting, t0);
    submit(core, 3, t0 + 50s, later, t0);
    CORE_CHECK_STATS(core, 1, 1, 0, 0, 0, 0);
    BOOST_TEST(core.waiting_for_room() == 2u);

    // Just before: nothing.
    BOOST_TEST((core.expire(t0 + 4s - 1ns) == t0 + 4s));
    BOOST_TEST(run.calls + queued.calls + waiting.calls + later.calls == 0u);

    // At the deadline (deadline <= now): due.
    BOOST_TEST((core.expire(t0 + 4s) == t0 + 5s));
    BOOST_TEST(waiting.calls == 1u);
    CORE_CHECK_ERR(waiting, dx::error::timeout);
    BOOST_TEST(core.waiting_for_room() == 1u);

    BOOST_TEST((core.expire(t0 + 6s) == t0 + 50s));
    BOOST_TEST(run.calls == 1u);
    CORE_CHECK_ERR(run, dx::error::timeout);
    BOOST_TEST(queued.calls == 1u);
    CORE_CHECK_ERR(queued, dx::error::timeout);
    BOOST_TEST(later.calls == 0u);
    // `later` moved up into the queue; the running one still counts as in flight.
    CORE_CHECK_STATS(core, 1, 1, 0, 0, 3, 0);
    BOOST_TEST(core.waiting_for_room() == 0u);

    // The abandoned run's result is dropped.
    BOOST_TEST((finish_value(core, t[0], 100) == dd::run_outcome::timed_out));
    BOOST_TEST(run.calls == 1u);
    CORE_CHECK_ERR(run, dx::error::timeout);
    CORE_CHECK_STATS(core, 1, 0, 0, 0, 3, 0);

    t = take(core, 1, t0 + 6s);
    BOOST_TEST(requests_of(t) == std::vector<int>{3}, boost::test_tools::per_element());
    (void)finish_value(core, t[0], 3);
    BOOST_TEST(later.calls == 1u);
    BOOST_TEST(later.value() == 3);
    BOOST_TEST((core.expire(t0 + 100s) == time_point::max()));
    core.close();
}

BOOST_AUTO_TEST_CASE(expire_completes_in_deadline_order)
{
    rec w[5];
    core_t core(opts(8));
    core.attach_client();
    const int secs[5] = {4, 1, 5, 3, 2};
    for (int i = 0; i != 5; ++i)
        submit(core, i, t0 + std::chrono::seconds(secs[i]), w[i], t0);
    BOOST_TEST((core.next_deadline() == t0 + 1s));
    BOOST_TEST((core.expire(t0 + 10s) == time_point::max()));
    for (int i = 0; i != 5; ++i)
        BOOST_TEST(w[i].calls == 1u);
    // Completion order follows the deadlines: 1 (1s), 4 (2s), 3 (3s), 0 (4s), 2 (5s).
    BOOST_TEST(w[1].seq < w[4].seq);
    BOOST_TEST(w[4].seq < w[3].seq);
    BOOST_TEST(w[3].seq < w[0].seq);
    BOOST_TEST(w[0].seq < w[2].seq);
    CORE_CHECK_STATS(core, 0, 0, 0, 0, 5, 0);
    core.close();
}

BOOST_AUTO_TEST_CASE(many_expire_at_once)
{
    // More than fit in the core's inline completion batch.
    constexpr int n = 100;
    std::vector<std::unique_ptr<rec>> w;
    core_t core(opts(50));
    core.attach_client();
    for (int i = 0; i != n; ++i) {
        w.push_back(std::make_unique<rec>());
        submit(core, i, t0 + std::chrono::milliseconds(1000 + (i * 7) % 13), *w.back(), t0);
    }
    auto t = take(core, 10, t0);
    BOOST_TEST(t.size() == 10u);
    BOOST_TEST(core.waiting_for_room() == 40u);
    BOOST_TEST((core.expire(t0 + 2s) == time_point::max()));
    for (auto& x : w) {
        BOOST_TEST(x->calls == 1u);
        CORE_CHECK_ERR(*x, dx::error::timeout);
    }
    CORE_CHECK_STATS(core, 0, 10, 0, 0, n, 0);
    BOOST_TEST(core.waiting_for_room() == 0u);
    for (auto* s : t.slots)
        BOOST_TEST((finish_value(core, s, 0) == dd::run_outcome::timed_out));
    CORE_CHECK_STATS(core, 0, 0, 0, 0, n, 0);
    core.close();
}

BOOST_AUTO_TEST_CASE(zero_or_negative_timeout_completes_at_submit_and_never_reaches_take)
{
    rec zero, negative, past, far_past;
    core_t core(opts(8));
    core.attach_client();
    dd::effects fx = submit(core, 0, dd::deadline_after(t0, duration::zero()), zero, t0);
    BOOST_TEST(zero.calls == 1u);
    CORE_CHECK_ERR(zero, dx::error::timeout);
    BOOST_TEST(!fx.rearm_timer);
    BOOST_TEST(!fx.wake_responder);

    fx = submit(core, 1, dd::deadline_after(t0, -1s), negative, t0);
    CORE_CHECK_ERR(negative, dx::error::timeout);
    BOOST_TEST(!fx.rearm_timer);
    submit(core, 2, t0 - 1ns, past, t0);
    CORE_CHECK_ERR(past, dx::error::timeout);
    submit(core, 3, dd::deadline_after(t0, duration::min()), far_past, t0);
    CORE_CHECK_ERR(far_past, dx::error::timeout);

    CORE_CHECK_STATS(core, 0, 0, 0, 0, 4, 0);
    BOOST_TEST(core.waiting_for_room() == 0u);
    BOOST_TEST((core.next_deadline() == time_point::max()));
    auto t = take(core, 8, t0 - 1h);  // even with a clock that lags behind
    BOOST_TEST(t.size() == 0u);
    core.close();
    BOOST_TEST(zero.calls + negative.calls + past.calls + far_past.calls == 4u);
}

BOOST_AUTO_TEST_CASE(deadline_after_saturates_at_time_point_max)
{
    BOOST_TEST((dd::deadline_after(t0, 1s) == t0 + 1s));
    BOOST_TEST((dd::deadline_after(t0, duration::zero()) == t0));
    BOOST_TEST((dd::deadline_after(t0, duration::max()) == time_point::max()));
    BOOST_TEST((dd::deadline_after(t0, duration::max() - 1ns) == time_point::max()));
    BOOST_TEST((dd::deadline_after(t0, time_point::max() - t0) == time_point::max()));
    BOOST_TEST((dd::deadline_after(t0, time_point::max() - t0 - 1ns) == time_point::max() - 1ns));
    BOOST_TEST((dd::deadline_after(time_point::max() - 1s, 2s) == time_point::max()));
    BOOST_TEST((dd::deadline_after(t0, -1s) == t0 - 1s));
}

BOOST_AUTO_TEST_CASE(no_deadline_never_enters_the_heap_nor_expires)
{
    rec w, v;
    core_t core(opts(1));
    core.attach_client();
    dd::effects fx = submit(core, 0, dd::deadline_after(t0, duration::max()), w, t0);
    BOOST_TEST(!fx.rearm_timer);
    BOOST_TEST((core.next_deadline() == time_point::max()));
    // Waiting for room without a deadline too.
    fx = submit(core, 1, time_point::max(), v, t0);
    BOOST_TEST(!fx.rearm_timer);
    BOOST_TEST(core.waiting_for_room() == 1u);

    BOOST_TEST((core.expire(t0 + std::chrono::hours(24 * 365 * 100)) == time_point::max()));
    BOOST_TEST(w.calls == 0u);
    BOOST_TEST(v.calls == 0u);
    auto t = take(core, 4, t0 + std::chrono::hours(24 * 365 * 100));
    BOOST_TEST(requests_of(t) == (std::vector<int>{0, 1}), boost::test_tools::per_element());
    for (auto* s : t.slots)
        (void)finish_value(core, s, 1);
    BOOST_TEST(w.calls == 1u);
    BOOST_TEST(v.calls == 1u);
    core.close();
}

BOOST_AUTO_TEST_CASE(rearm_timer_only_when_the_earliest_deadline_moves_earlier)
{
    rec w[6];
    core_t core(opts(8));
    core.attach_client();
    BOOST_TEST((core.next_deadline() == time_point::max()));

    dd::effects fx = submit(core, 0, t0 + 10s, w[0], t0);
    BOOST_TEST(fx.rearm_timer);  // first deadline
    BOOST_TEST((core.next_deadline() == t0 + 10s));
    fx = submit(core, 1, t0 + 20s, w[1], t0);
    BOOST_TEST(!fx.rearm_timer);  // later than the armed one
    fx = submit(core, 2, t0 + 10s, w[2], t0);
    BOOST_TEST(!fx.rearm_timer);  // equal: the timer already fires then
    fx = submit(core, 3, t0 + 5s, w[3], t0);
    BOOST_TEST(fx.rearm_timer);  // earlier
    BOOST_TEST((core.next_deadline() == t0 + 5s));

    // The timer fires: expire() says what to wait for next, and records it as armed.
    BOOST_TEST((core.expire(t0 + 5s) == t0 + 10s));
    fx = submit(core, 4, t0 + 15s, w[4], t0 + 5s);
    BOOST_TEST(!fx.rearm_timer);
    fx = submit(core, 5, t0 + 7s, w[5], t0 + 5s);
    BOOST_TEST(fx.rearm_timer);

    BOOST_TEST((core.expire(t0 + 30s) == time_point::max()));
    for (auto& x : w)
        BOOST_TEST(x.calls == 1u);
    // Once the heap is empty, any deadline arms the timer again.
    rec z;
    fx = submit(core, 9, t0 + 100s, z, t0 + 30s);
    BOOST_TEST(fx.rearm_timer);
    core.close();
}

BOOST_AUTO_TEST_CASE(next_deadline_follows_requests_that_end_early)
{
    rec a, b, c;
    core_t core(opts(8));
    core.attach_client();
    const auto ka = submit_k(core, 0, t0 + 1s, a, t0);
    submit(core, 1, t0 + 2s, b, t0);
    submit(core, 2, t0 + 3s, c, t0);
    BOOST_TEST((core.next_deadline() == t0 + 1s));
    (void)core.cancel(ka, false);
    BOOST_TEST((core.next_deadline() == t0 + 2s));
    auto t = take(core, 1, t0);  // b runs: its deadline still counts
    BOOST_TEST(requests_of(t) == std::vector<int>{1}, boost::test_tools::per_element());
    BOOST_TEST((core.next_deadline() == t0 + 2s));
    (void)finish_value(core, t[0], 1);  // delivered: out of the heap
    BOOST_TEST((core.next_deadline() == t0 + 3s));
    core.close();
    BOOST_TEST((core.next_deadline() == time_point::max()));
}

// take() is the last line of defence when the timer lags: it must not hand
// out a request whose deadline passed, and must count it as timed out.
BOOST_AUTO_TEST_CASE(take_never_hands_out_an_expired_request)
{
    rec a;
    core_t core(opts(8));
    core.attach_client();
    submit(core, 0, t0 + 1s, a, t0);
    auto t = take(core, 4, t0 + 1s);  // expire() was not called
    BOOST_TEST(t.size() == 0u);
    BOOST_TEST(a.calls == 1u);
    CORE_CHECK_ERR(a, dx::error::timeout);
    CORE_CHECK_STATS(core, 0, 0, 0, 0, 1, 0);
    BOOST_TEST((core.next_deadline() == time_point::max()));
    core.close();
}

BOOST_AUTO_TEST_CASE(take_skips_an_expired_request_and_hands_out_the_next_ones)
{
    rec a, b, c;
    core_t core(opts(8));
    core.attach_client();
    submit(core, 0, t0 + 1s, a, t0);
    submit(core, 1, t0 + 10s, b, t0);
    submit(core, 2, t0 + 10s, c, t0);
    auto t = take(core, 4, t0 + 2s);
    BOOST_TEST(requests_of(t) == (std::vector<int>{1, 2}), boost::test_tools::per_element());
    CORE_CHECK_ERR(a, dx::error::timeout);
    BOOST_TEST(b.calls == 0u);
    BOOST_TEST(c.calls == 0u);
    CORE_CHECK_STATS(core, 0, t.size(), 0, 0, 1, 0);
    for (auto* s : t.slots)
        (void)finish_value(core, s, 7);
    // Whatever take() did, every request ends exactly once.
    core.close();
    BOOST_TEST(a.calls == 1u);
    BOOST_TEST(b.calls == 1u);
    BOOST_TEST(c.calls == 1u);
}

BOOST_AUTO_TEST_CASE(take_skips_an_expired_request_waiting_for_room)
{
    rec a, b, c;
    core_t core(opts(0));  // rendezvous: requests wait in the room list
    core.attach_client();
    submit(core, 0, t0 + 1s, a, t0);
    submit(core, 1, t0 + 10s, b, t0);
    submit(core, 2, t0 + 10s, c, t0);
    BOOST_TEST(core.waiting_for_room() == 3u);
    auto t = take(core, 4, t0 + 2s);
    BOOST_TEST(requests_of(t) == (std::vector<int>{1, 2}), boost::test_tools::per_element());
    CORE_CHECK_ERR(a, dx::error::timeout);
    BOOST_TEST(core.waiting_for_room() == 0u);
    CORE_CHECK_STATS(core, 0, t.size(), 0, 0, 1, 0);
    for (auto* s : t.slots)
        (void)finish_value(core, s, 7);
    core.close();
    BOOST_TEST(a.calls == 1u);
    BOOST_TEST(b.calls == 1u);
    BOOST_TEST(c.calls == 1u);
}

// After take() dropped an expired request, the queue must still accept up to
// its capacity (the queue's bookkeeping is intact).
BOOST_AUTO_TEST_CASE(queue_accounting_survives_take_dropping_an_expired_request)
{
    rec a, b, c;
    core_t core(opts(1));
    core.attach_client();
    submit(core, 0, t0 + 1s, a, t0);
    auto t = take(core, 4, t0 + 2s);
    BOOST_TEST(t.size() == 0u);
    CORE_CHECK_STATS(core, 0, 0, 0, 0, 1, 0);
    submit(core, 1, t0 + 10s, b, t0 + 2s);
    CORE_CHECK_STATS(core, 1, 0, 0, 0, 1, 0);  // queued, not waiting for room
    BOOST_TEST(core.waiting_for_room() == 0u);
    submit(core, 2, t0 + 10s, c, t0 + 2s);
    BOOST_TEST(core.waiting_for_room() == 1u);
    t = take(core, 4, t0 + 2s);
    BOOST_TEST(requests_of(t) == (std::vector<int>{1, 2}), boost::test_tools::per_element());
    for (auto* s : t.slots)
        (void)finish_value(core, s, 7);
    core.close();
    BOOST_TEST(b.calls == 1u);
    BOOST_TEST(c.calls == 1u);
}

// earliest_deadline(): the heap's top, for a backend that drives expiry from
// its own timed waits; unlike next_deadline() it does not record it as armed.
BOOST_AUTO_TEST_CASE(earliest_deadline_follows_the_heap_without_arming)
{
    rec a, b, c;
    core_t core(opts(8));
    core.attach_client();
    BOOST_TEST((core.earliest_deadline() == time_point::max()));
    dd::effects fx = submit(core, 0, t0 + 10s, a, t0);
    BOOST_TEST(fx.rearm_timer);
    BOOST_TEST((core.earliest_deadline() == t0 + 10s));
    const auto kb = submit_k(core, 1, t0 + 5s, b, t0, &fx);
    BOOST_TEST(fx.rearm_timer);
    BOOST_TEST((core.earliest_deadline() == t0 + 5s));
    (void)core.cancel(kb, false);
    BOOST_TEST((core.earliest_deadline() == t0 + 10s));
    // Not recorded as armed: the timer is still armed for 5s, so a 7s deadline does not re-arm it.
    fx = submit(core, 2, t0 + 7s, c, t0);
    BOOST_TEST(!fx.rearm_timer);
    BOOST_TEST((core.earliest_deadline() == t0 + 7s));
    BOOST_TEST((core.expire(t0 + 7s) == t0 + 10s));
    BOOST_TEST((core.earliest_deadline() == t0 + 10s));
    core.close();
    BOOST_TEST((core.earliest_deadline() == time_point::max()));
    BOOST_TEST(a.calls + b.calls + c.calls == 3u);
}

// ---------------------------------------------------------------------------
// The deadline heap when its array cannot grow
// ---------------------------------------------------------------------------

namespace {

bool heap_array_cannot_grow = false;  // the test's switch

// The heap array's allocator: it fails while the switch is on.
template <class T>
struct failing_allocator {
    using value_type = T;
    failing_allocator() noexcept = default;
    template <class U>
    failing_allocator(const failing_allocator<U>&) noexcept
    {
    }
    T* allocate(std::size_t n)
    {
        if (heap_array_cannot_grow)
            throw std::bad_alloc();
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
    template <class U>
    bool operator==(const failing_allocator<U>&) const noexcept
    {
        return true;
    }
};

using heap_slot = dd::slot<int, int>;

}  // namespace

// The responder absorbs published requests into the heap on paths that cannot
// fail (cancel, expiry, stop): out of memory, a deadline earlier than the
// sorted list's last goes to a spill list that top() scans. Every deadline
// still comes out in order, spilled ones included, and erasing works for each
// kind of place; once memory is back, new deadlines go to the heap again.
BOOST_AUTO_TEST_CASE(a_heap_that_cannot_grow_spills_and_keeps_every_deadline_in_order)
{
    dd::deadline_heap<heap_slot, failing_allocator<heap_slot*>> heap;
    std::vector<std::unique_ptr<heap_slot>> slots;
    auto make = [&](int ms) {
        slots.push_back(std::make_unique<heap_slot>());
        slots.back()->deadline = t0 + std::chrono::milliseconds(ms);
        return slots.back().get();
    };
    // In order: the sorted list (no allocation at all).
    heap.push(make(100));
    heap.push(make(200));
    // Earlier than the list's last: the heap array, while memory lasts...
    heap.push(make(150));
    heap_array_cannot_grow = true;
    // ... then the spill list (the array, holding one, cannot grow).
    heap.push(make(50));
    heap.push(make(120));
    heap.push(make(10));
    heap.push(make(300));  // in order again: the list, failing or not
    BOOST_TEST(heap.size() == 7u);
    BOOST_TEST((heap.top()->deadline == t0 + 10ms));  // a spilled one is the earliest

    // Erase a spilled one that is not the top, then pop in order.
    heap.erase(slots[4].get());  // 120, spilled
    heap_array_cannot_grow = false;
    heap.push(make(60));  // memory is back: the heap array
    std::vector<int> order;
    while (!heap.empty()) {
        heap_slot* s = heap.top();
        order.push_back(static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(s->deadline - t0).count()));
        heap.erase(s);
    }
    BOOST_TEST((order == std::vector<int>{10, 50, 60, 100, 150, 200, 300}));
    for (const auto& s : slots)
        BOOST_TEST(s->heap_pos == heap_slot::npos);  // erased, wherever it was
}
