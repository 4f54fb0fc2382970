//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The lock-free hand-off between client threads and the responder: clients
// publish requests without the core's lock while the responder takes,
// cancellers cancel, deadlines pass and the channel stops. Nothing may be
// lost (every waiter completes exactly once, with its own response or an
// error its request could get), and no wake-up may be lost (a responder that
// sleeps until it is told to, or until the deadline the core gives it, never
// sleeps with work waiting). Run plain and under ThreadSanitizer.

#define BOOST_TEST_MODULE core_handoff
#include <boost/test/unit_test.hpp>

#include "../sanitized.hpp"
#include "support.hpp"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

using namespace core_test;

namespace {

// A waiter safe to complete on any thread.
class shared_waiter final : public dd::waiter<int> {
public:
    shared_waiter() noexcept : dd::waiter<int>(dd::hook_to<&shared_waiter::fire>) {}

    std::atomic<int> calls{0};
    int request = -1;
    std::atomic<int> value{-1};
    std::atomic<int> err{0};  // dx::error value, 0 for a value

private:
    void fire(dx::result<int>&& r, bool) noexcept
    {
        if (r.has_value())
            value.store(r.value());
        else
            err.store(r.error().value());
        calls.fetch_add(1);
    }
};

// What the responder waits on: woken by clients (effects::wake_responder or
// rearm_timer), or by the deadline the core asks for.
class doorbell {
public:
    void ring()
    {
        {
            std::lock_guard lk(m_);
            rung_ = true;
        }
        cv_.notify_one();
    }

    // False if `until` passed without a ring.
    bool wait_until(time_point until)
    {
        std::unique_lock lk(m_);
        const bool r = cv_.wait_until(lk, until, [this] { return rung_; });
        rung_ = false;
        return r;
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool rung_ = false;
};

struct scenario {
    std::size_t capacity;
    dx::overflow on_full;
    std::size_t limit;
    bool cancel;
    bool short_deadlines;
    bool timer_thread;  // a thread of its own expires deadlines (else the responder does)
};

template <class Storage>
void run_scenario(const scenario& sc)
{
    using core_t = dd::channel_core<int, int, Storage>;
    constexpr int clients = 3;
    const int per_client = duplex_test_support::sanitized ? 1500 : 20000;
    const int total = clients * per_client;

    core_t core(opts(sc.capacity, sc.on_full, 50ms));
    core.set_limit(sc.limit);
    core.attach_client();
    auto waiters = std::make_unique<shared_waiter[]>(static_cast<std::size_t>(total));
    auto keys = std::make_unique<std::atomic<std::uint64_t>[]>(static_cast<std::size_t>(total));
    std::atomic<int> submitted{0};
    std::atomic<bool> clients_done{false};
    doorbell bell;
    std::atomic<int> lost_wakeups{0};

    auto apply = [&](dd::effects fx) {
        if (fx.wake_responder || fx.rearm_timer)
            bell.ring();
    };

    std::thread responder([&] {
        std::mt19937 rng(7);
        std::vector<typename core_t::slot_type*> held;
        bool slept_through = false;  // the last sleep ended by itself, not by a ring or the deadline
        for (;;) {
            const auto now = dd::clock_type::now();
            (void)core.expire(now);
            auto tr = core.take(sc.limit, now);
            if (slept_through && (tr.count != 0 || tr.done)) {
                lost_wakeups.fetch_add(1);  // there was work (or the end) it was not told of
                BOOST_TEST_MESSAGE("slept through: took " << tr.count << ", done " << tr.done);
            }
            slept_through = false;
            for (auto* s = tr.first; s;) {
                auto* next = s->chain;
                held.push_back(s);
                s = next;
            }
            if (tr.done)
                break;
            // Finish some now, keep some for a while: in flight stays near the limit.
            bool finished = false;
            while (!held.empty() && (held.size() >= sc.limit || rng() % 4 != 0)) {
                auto* s = held.back();
                held.pop_back();
                const int r = core_t::take_request(s);
                (void)core.finish(s, dx::result<int>(r + 1000000));
                finished = true;
            }
            // A responder comes back to take after it took or finished
            // anything (as both backends do): only a take that found
            // nothing to do may leave it asleep.
            if (tr.count != 0 || tr.more || finished || !held.empty())
                continue;
            // Idle: the core asked to be woken for the next request.
            const time_point due = core.next_deadline();
            const time_point until = std::min(due, dd::clock_type::now() + 2s);
            slept_through = !bell.wait_until(until) && until != due;
        }
        for (auto* s : held) {
            const int r = core_t::take_request(s);
            (void)core.finish(s, dx::result<int>(r + 1000000));
        }
    });

    std::vector<std::thread> cs;
    for (int c = 0; c != clients; ++c) {
        cs.emplace_back([&, c] {
            std::mt19937 rng(static_cast<unsigned>(c + 1));
            for (int i = 0; i != per_client; ++i) {
                const int id = c * per_client + i;
                auto* s = core.prepare();
                const dd::slot_key k = core.key_of(s);
                keys[static_cast<std::size_t>(id)].store((std::uint64_t(k.generation) << 32) | k.index);
                waiters[static_cast<std::size_t>(id)].request = id;
                const auto now = dd::clock_type::now();
                const time_point deadline =
                    sc.short_deadlines && rng() % 8 == 0 ? now + std::chrono::microseconds(rng() % 200) : time_point::max();
                apply(core.submit(s, id, deadline, waiters[static_cast<std::size_t>(id)], now));
                submitted.fetch_add(1);
            }
        });
    }

    // The timer: it races the responder's finish() for requests whose
    // deadline passes while their handler runs.
    std::thread timer;
    if (sc.timer_thread) {
        timer = std::thread([&] {
            while (!clients_done.load()) {
                (void)core.expire(dd::clock_type::now());
                std::this_thread::yield();
            }
        });
    }

    std::thread canceller;
    if (sc.cancel) {
        canceller = std::thread([&] {
            std::mt19937 rng(99);
            while (!clients_done.load()) {
                const int n = submitted.load();
                if (n == 0)
                    continue;
                // Mostly the newest requests: those racing their submit().
                const int id = rng() % 2 ? n - 1 - static_cast<int>(rng() % std::min(n, 8)) : static_cast<int>(rng() % n);
                const std::uint64_t kk = keys[static_cast<std::size_t>(id)].load();
                apply(core.cancel({static_cast<std::uint32_t>(kk), static_cast<std::uint32_t>(kk >> 32)}, rng() % 2 == 0).fx);
            }
        });
    }

    for (auto& t : cs)
        t.join();
    clients_done.store(true);
    if (canceller.joinable())
        canceller.join();
    if (timer.joinable())
        timer.join();
    apply(core.detach_client());  // the run ends once everything is answered
    responder.join();

    BOOST_TEST(lost_wakeups.load() == 0);
    int values = 0, errors = 0, bad = 0;
    for (int i = 0; i != total; ++i) {
        auto& w = waiters[static_cast<std::size_t>(i)];
        if (w.calls.load() != 1) {
            ++bad;
            continue;
        }
        if (w.err.load() == 0) {
            bad += w.value.load() != i + 1000000;  // its own response
            ++values;
        } else {
            const auto e = static_cast<dx::error>(w.err.load());
            bad += !((e == dx::error::cancelled && sc.cancel) || (e == dx::error::timeout && sc.short_deadlines) ||
                     (e == dx::error::queue_full && sc.on_full == dx::overflow::reject));
            ++errors;
        }
    }
    BOOST_TEST(bad == 0);
    BOOST_TEST(values + errors == total);
    BOOST_TEST(values > 0);
    const auto st = core.stats();
    BOOST_TEST(st.completed == static_cast<std::uint64_t>(values));
    BOOST_TEST(st.queued == 0u);
    BOOST_TEST(st.in_flight == 0u);
    BOOST_TEST(core.closed());
}

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(racing_clients_and_a_responder_lose_nothing_through_a_roomy_queue, Storage,
                              storage_policies)
{
    run_scenario<Storage>({1024, dx::overflow::wait, 16, false, false, false});
}

BOOST_AUTO_TEST_CASE_TEMPLATE(racing_clients_waiting_for_room_in_a_small_queue_lose_nothing, Storage,
                              storage_policies)
{
    run_scenario<Storage>({2, dx::overflow::wait, 4, false, false, false});
}

BOOST_AUTO_TEST_CASE_TEMPLATE(racing_clients_refused_by_a_full_queue_get_queue_full_and_nothing_else, Storage,
                              storage_policies)
{
    run_scenario<Storage>({3, dx::overflow::reject, 2, false, false, false});
}

BOOST_AUTO_TEST_CASE_TEMPLATE(cancels_racing_submits_end_each_request_once, Storage, storage_policies)
{
    run_scenario<Storage>({8, dx::overflow::wait, 4, true, false, false});
}

BOOST_AUTO_TEST_CASE_TEMPLATE(deadlines_passing_in_the_inbox_end_each_request_once, Storage, storage_policies)
{
    run_scenario<Storage>({64, dx::overflow::wait, 8, true, true, false});
}

BOOST_AUTO_TEST_CASE(a_rendezvous_channel_hands_over_across_threads)
{
    run_scenario<dx::sharded_slab>({0, dx::overflow::wait, 4, false, false, false});
}

// A response racing a terminal cancel (another thread) and its own deadline
// (a timer thread): one compare-and-swap of the slot's state settles each
// race (finish() takes no lock), and the waiter hears exactly one outcome.
BOOST_AUTO_TEST_CASE_TEMPLATE(finishes_racing_cancels_and_a_timer_thread_end_each_request_once, Storage,
                              storage_policies)
{
    run_scenario<Storage>({64, dx::overflow::wait, 8, true, true, true});
}
