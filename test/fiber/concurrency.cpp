//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 7 (concurrency) for the Fiber backend: no handler invocation
// starts while limit() or more are running; fixed_concurrency{n} holds the
// limit at n (and reaches it); dynamic_concurrency moves the limit up while
// latency stays flat, backs off when a resource saturates and climbs again
// when it grows; a user limiter's on_complete is called once per invocation,
// with its duration and ok == false where the handler failed or the deadline
// passed before it ended.

#define BOOST_TEST_MODULE fiber_concurrency
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/system/errc.hpp>

#include <memory>
#include <numeric>
#include <set>

using namespace fiber_test;

namespace {

// Handler invocations take a permit each before they return; the test hands
// permits out one by one.
class permits {
public:
    void acquire()
    {
        std::unique_lock lk(mutex_);
        cv_.wait(lk, [this] { return n_ > 0; });
        --n_;
    }

    void release(std::size_t n = 1)
    {
        std::unique_lock lk(mutex_);
        n_ += n;
        cv_.notify_all();
    }

private:
    fibers::mutex mutex_;
    fibers::condition_variable cv_;
    std::size_t n_ = 0;
};

// Counts running handler invocations (and the most at once) and all starts.
struct occupancy {
    counter running;
    counter started;

    template <class F>
    auto operator()(F&& body)
    {
        running.add();
        started.add();
        auto r = body();
        running.sub();
        return r;
    }
};

}  // namespace

// fixed_concurrency{3}: three handlers run at once, never a fourth, until one
// ends; then exactly one more starts.
BOOST_AUTO_TEST_CASE(fixed_limit_is_reached_and_never_exceeded)
{
    watchdog wd;
    permits p;
    occupancy occ;
    channel<int, int> ch(dx::channel_options{64, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(
        responder,
        [&](int v) {
            return occ([&] {
                p.acquire();
                return v;
            });
        },
        dx::fixed_concurrency{3});

    constexpr int n = 10;
    counter returned;
    std::vector<scoped_fiber> fs;
    for (int i = 0; i != n; ++i)
        fs.emplace_back([&, i] {
            auto r = ch.client->request(i);
            BOOST_TEST((r.has_value() && r.value() == i));
            returned.add();
        });
    BOOST_TEST_REQUIRE(occ.started.wait_at_least(3));
    BOOST_TEST(responder.stats().concurrency_limit == 3u);
    for (std::size_t done = 0; done != n; ++done) {
        let_others_run();  // a (wrong) fourth start would happen here
        const std::size_t expect_running = std::min<std::size_t>(3, n - done);
        BOOST_TEST(occ.running.get() == expect_running, "after " << done << " ended");
        BOOST_TEST(responder.stats().in_flight == expect_running);
        BOOST_TEST(occ.started.get() == std::min<std::size_t>(n, done + 3));
        p.release();
        BOOST_TEST_REQUIRE(returned.wait_at_least(done + 1));
        if (done + 3 < n)
            BOOST_TEST_REQUIRE(occ.started.wait_at_least(done + 4));
    }
    BOOST_TEST(occ.running.max() == 3u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// The same limit holds with clients on other threads hammering the channel.
BOOST_AUTO_TEST_CASE(fixed_limit_holds_under_load_from_several_threads)
{
    watchdog wd;
    std::atomic<int> running{0}, most{0};
    channel<int, int> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    runner run(
        *ch.responder,
        [&](int v) {
            const int now = ++running;
            int m = most.load();
            while (now > m && !most.compare_exchange_weak(m, now)) {
            }
            this_fiber::sleep_for(std::chrono::microseconds(100 + 50 * (v % 5)));
            --running;
            return v;
        },
        dx::fixed_concurrency{5});
    counter threads_done;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t != 2; ++t)
        threads.emplace_back([&, c = *ch.client]() mutable {
            {
                std::vector<scoped_fiber> fs;
                for (int f = 0; f != 6; ++f)
                    fs.emplace_back([&, f] {
                        for (int i = 0; i != 30; ++i)
                            ok += c.request(f * 100 + i).has_value();
                    });
            }
            { auto gone = std::move(c); }
            threads_done.add();
        });
    ch.client.reset();
    BOOST_TEST_REQUIRE(threads_done.wait_at_least(2, 10s));
    for (auto& t : threads)
        t.join();
    BOOST_TEST(ok.load() == 360);
    BOOST_TEST(most.load() == 5);
    BOOST_TEST_REQUIRE(run.wait_done());
}

// fixed_concurrency{0} is read as 1: the responder still makes progress, one
// invocation at a time.
BOOST_AUTO_TEST_CASE(fixed_limit_zero_reads_as_one)
{
    watchdog wd;
    occupancy occ;
    channel<int, int> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    runner run(
        *ch.responder,
        [&](int v) {
            return occ([&] {
                this_fiber::sleep_for(1ms);
                return v;
            });
        },
        dx::fixed_concurrency{0});
    int ok = 0;
    {
        std::vector<scoped_fiber> fs;
        for (int i = 0; i != 6; ++i)
            fs.emplace_back([&, i] { ok += ch.client->request(i).has_value(); });
    }
    BOOST_TEST(ok == 6);
    BOOST_TEST(occ.running.max() == 1u);
    BOOST_TEST(ch.responder->stats().concurrency_limit == 1u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// The default strategy of run() is fixed_concurrency{} (16).
BOOST_AUTO_TEST_CASE(default_strategy_is_fixed_16)
{
    watchdog wd;
    permits p;
    occupancy occ;
    channel<int, int> ch(dx::channel_options{64, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    scoped_fiber run([&] {
        auto r = responder.run([&](int v) {
            return occ([&] {
                p.acquire();
                return v;
            });
        });
        BOOST_TEST(r.has_value());
    });
    counter returned;
    std::vector<scoped_fiber> fs;
    for (int i = 0; i != 20; ++i)
        fs.emplace_back([&, i] {
            BOOST_TEST(ch.client->request(i).has_value());
            returned.add();
        });
    BOOST_TEST_REQUIRE(occ.started.wait_at_least(16));
    let_others_run();
    BOOST_TEST(occ.running.get() == 16u);
    BOOST_TEST(responder.stats().concurrency_limit == 16u);
    p.release(20);
    BOOST_TEST_REQUIRE(returned.wait_at_least(20));
    BOOST_TEST(occ.running.max() == 16u);
    fs.clear();
    ch.client.reset();
}

// dynamic_concurrency with a handler of constant latency (20 ms) and plenty
// of demand: the limit climbs from its initial 2 well above it, and never
// above max.
BOOST_AUTO_TEST_CASE(dynamic_limit_moves_up_while_latency_stays_flat)
{
    watchdog wd;
    std::atomic<int> running{0}, most{0};
    channel<int, int> ch(dx::channel_options{64, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    std::size_t highest_limit = 0;
    runner run(
        responder,
        [&](int v) {
            const int now = ++running;
            most = std::max(most.load(), now);
            highest_limit = std::max(highest_limit, responder.stats().concurrency_limit);
            this_fiber::sleep_for(20ms);
            --running;
            return v;
        },
        dx::dynamic_concurrency{2, 12, 1});
    BOOST_TEST_REQUIRE(poll_until([&] { return responder.stats().concurrency_limit != 0; }));
    BOOST_TEST(responder.stats().concurrency_limit == 2u);

    std::atomic<bool> enough{false};
    std::vector<scoped_fiber> fs;
    for (int f = 0; f != 24; ++f)
        fs.emplace_back([&, f] {
            for (int i = 0; !enough && i != 1000; ++i)
                (void)ch.client->request(f * 1000 + i);
        });
    // Until the limit reached 10 (about 60 completions), or 4 s passed (a failure).
    const bool rose = poll_until([&] { return responder.stats().concurrency_limit >= 10; }, 4s);
    enough = true;
    fs.clear();
    BOOST_TEST(rose, "the limit stayed at " << responder.stats().concurrency_limit);
    BOOST_TEST(most.load() >= 8, "at most " << most.load() << " ran at once");
    BOOST_TEST(most.load() <= 12);
    BOOST_TEST(highest_limit <= 12u);
    BOOST_TEST_MESSAGE("limit " << responder.stats().concurrency_limit << ", most at once " << most.load());
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

namespace {

// A resource that serves `capacity` invocations at a time: an invocation
// takes 4 ms while `capacity` or fewer run, and 2 ms per running invocation
// beyond that (with capacity 4: 10 ms at 5, 32 ms at 16). Records the limit
// and the occupancy each invocation started with.
struct servers {
    std::atomic<int> capacity{4};
    std::atomic<int> running{0};
    std::vector<std::size_t> limits;
    std::vector<int> occupancy;

    template <class Responder>
    auto handler(Responder& responder)
    {
        return [this, &responder](int v) {
            const int now = ++running;
            limits.push_back(responder.stats().concurrency_limit);
            occupancy.push_back(now);
            this_fiber::sleep_for(now <= capacity ? 4ms : 2ms * now);
            --running;
            return v;
        };
    }

    // 32 fibers keep the responder busy until `total` more requests were made.
    template <class Client>
    void load(Client& c, std::size_t total)
    {
        std::size_t made = 0;
        std::vector<scoped_fiber> fs;
        for (int f = 0; f != 32; ++f)
            fs.emplace_back([&, f] {
                while (made < total) {
                    ++made;
                    (void)c.request(f);
                }
            });
    }

    // The median and the highest limit, and the highest occupancy, over the
    // last `tail` invocations.
    struct summary {
        std::size_t median_limit, max_limit;
        int max_occupancy;
    };

    summary last(std::size_t tail)
    {
        BOOST_TEST_REQUIRE(limits.size() > tail);
        std::vector<std::size_t> l(limits.end() - std::ptrdiff_t(tail), limits.end());
        std::sort(l.begin(), l.end());
        const int most = *std::max_element(occupancy.end() - std::ptrdiff_t(tail), occupancy.end());
        return {l[l.size() / 2], l.back(), most};
    }
};

}  // namespace

// dynamic_concurrency against a resource of capacity 4, from a high initial
// limit (16): under load the limit backs off to about the capacity and stays
// near it (the gradient limiter settles near tolerance x capacity + a little).
BOOST_AUTO_TEST_CASE(dynamic_limit_backs_off_from_a_saturated_resource)
{
    watchdog wd;
    servers res;
    channel<int, int> ch(dx::channel_options{64, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    dx::dynamic_concurrency strategy;
    strategy.initial = 16;
    strategy.max = 16;
    strategy.min = 1;
    runner run(responder, res.handler(responder), strategy);
    for (int i = 0; i != 20; ++i)  // light load first: no reason to move
        (void)ch.client->request(i);
    BOOST_TEST(responder.stats().concurrency_limit == 16u);
    res.load(*ch.client, 500);
    const auto s = res.last(100);
    BOOST_TEST(s.median_limit <= 8u, "late median limit " << s.median_limit);
    BOOST_TEST(s.median_limit >= 3u, "late median limit " << s.median_limit);
    BOOST_TEST(s.max_limit <= 8u, "late limit up to " << s.max_limit);
    BOOST_TEST(s.max_occupancy <= 8, "late occupancy up to " << s.max_occupancy);
    BOOST_TEST_MESSAGE("capacity 4: late median limit " << s.median_limit << ", up to " << s.max_limit
                                                        << ", occupancy up to " << s.max_occupancy);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// The resource's capacity then grows from 4 to 12: the limit, backed off
// first, climbs again (the limit really moves, both ways).
BOOST_AUTO_TEST_CASE(dynamic_limit_follows_a_resource_that_grows)
{
    watchdog wd;
    servers res;
    channel<int, int> ch(dx::channel_options{64, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    dx::dynamic_concurrency strategy;
    strategy.initial = 16;
    strategy.max = 16;
    strategy.min = 1;
    strategy.probe_interval = 8;
    runner run(responder, res.handler(responder), strategy);
    res.load(*ch.client, 400);
    const auto before = res.last(100);
    BOOST_TEST(before.median_limit <= 8u, "capacity 4: late median limit " << before.median_limit);
    res.capacity = 12;
    res.load(*ch.client, 500);
    const auto after = res.last(100);
    BOOST_TEST(after.median_limit >= 8u, "capacity 12: late median limit " << after.median_limit);
    BOOST_TEST(after.median_limit >= before.median_limit + 3, "the limit did not climb again");
    BOOST_TEST(after.max_limit <= 16u);
    BOOST_TEST_MESSAGE("capacity 4: late median limit " << before.median_limit << "; capacity 12: "
                                                        << after.median_limit << " (up to " << after.max_limit
                                                        << ", occupancy up to " << after.max_occupancy << ")");
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

namespace {

// A user limiter recording every call; the test changes its limit at will.
struct limiter_state {
    std::atomic<std::size_t> limit{2};
    std::atomic<int> limit_calls{0};
    std::mutex mutex;
    std::vector<std::pair<std::chrono::nanoseconds, bool>> completions;
};

struct recording_limiter {
    std::shared_ptr<limiter_state> state;

    std::size_t limit()
    {
        ++state->limit_calls;
        return state->limit.load();
    }

    void on_complete(std::chrono::nanoseconds latency, bool ok)
    {
        std::lock_guard lk(state->mutex);
        state->completions.emplace_back(latency, ok);
    }
};

static_assert(dx::concurrency_limiter<recording_limiter>);

}  // namespace

// on_complete is called once per invocation: ok for a value (fast or slow),
// not ok for an error result, an exception, or an invocation that ended after
// its request's deadline. Requests that never reached the handler (expired
// in the queue, or made with a zero timeout) cause no call.
BOOST_AUTO_TEST_CASE(user_limiter_hears_of_every_invocation_once)
{
    watchdog wd;
    auto state = std::make_shared<limiter_state>();
    state->limit = 1;
    gate g;
    counter entered;
    channel<int, int> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(
        responder,
        [&](int v) -> dx::result<int> {
            entered.add();
            switch (v) {
            case 1: return boost::system::errc::make_error_code(boost::system::errc::io_error);
            case 2: throw std::runtime_error("boom");
            case 3: this_fiber::sleep_for(150ms); return v;  // its deadline is 50 ms
            case 4: this_fiber::sleep_for(30ms); return v;
            case 5: g.wait(); return v;
            default: return v;
            }
        },
        recording_limiter{state});

    BOOST_TEST(ch.client->request(0).has_value());
    BOOST_TEST(code_of(ch.client->request(1)) ==
               boost::system::errc::make_error_code(boost::system::errc::io_error));
    BOOST_TEST(code_of(ch.client->request(2)) == code(dx::error::handler_failed));
    BOOST_TEST(code_of(ch.client->request(3, 50ms)) == code(dx::error::timeout));
    BOOST_TEST(ch.client->request(4).has_value());
    // 5 holds the only slot; 6 expires in the queue; 7 is made expired.
    std::optional<dx::result<int>> r5;
    scoped_fiber f5([&] { r5.emplace(ch.client->request(5)); });
    BOOST_TEST_REQUIRE(entered.wait_at_least(6));
    BOOST_TEST(code_of(ch.client->request(6, 30ms)) == code(dx::error::timeout));
    BOOST_TEST(code_of(ch.client->request(7, 0ns)) == code(dx::error::timeout));
    g.open();
    f5.join();
    BOOST_TEST(r5->has_value());
    BOOST_TEST(entered.get() == 6u);
    // Invocation 3 ends 150 ms after it started, after its request timed out.
    BOOST_TEST_REQUIRE(poll_until([&] {
        std::lock_guard lk(state->mutex);
        return state->completions.size() >= 6;
    }));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());

    std::lock_guard lk(state->mutex);
    const auto& c = state->completions;
    BOOST_TEST_REQUIRE(c.size() == 6u);
    // Sequential with limit 1, so they ended in request order: 0 1 2 3 4 5.
    const bool expect_ok[] = {true, false, false, false, true, true};
    for (std::size_t i = 0; i != 6; ++i)
        BOOST_TEST(c[i].second == expect_ok[i], "invocation " << i);
    BOOST_TEST(c[3].first >= 150ms);
    BOOST_TEST(c[4].first >= 30ms);
    BOOST_TEST(c[4].first < 5s);
    BOOST_TEST(state->limit_calls.load() >= 1);
}

// The responder follows a user limiter's limit() as it changes, and reads 0 as 1.
BOOST_AUTO_TEST_CASE(user_limiter_limit_is_followed_as_it_changes)
{
    watchdog wd;
    auto state = std::make_shared<limiter_state>();
    state->limit = 2;
    permits p;
    occupancy occ;
    channel<int, int> ch(dx::channel_options{64, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(
        responder,
        [&](int v) {
            return occ([&] {
                p.acquire();
                return v;
            });
        },
        recording_limiter{state});

    counter returned;
    std::vector<scoped_fiber> fs;
    for (int i = 0; i != 12; ++i)
        fs.emplace_back([&, i] {
            BOOST_TEST(ch.client->request(i).has_value());
            returned.add();
        });
    BOOST_TEST_REQUIRE(occ.started.wait_at_least(2));
    let_others_run();
    BOOST_TEST(occ.running.get() == 2u);

    // Raise to 5: the next time the responder looks (after an invocation
    // ends) it fills up to 5.
    state->limit = 5;
    p.release();
    BOOST_TEST_REQUIRE(occ.started.wait_at_least(6));
    let_others_run();
    BOOST_TEST(occ.running.get() == 5u);

    // Lower to 0 (read as 1): no new start until only 1 would run... i.e.
    // none until all 5 running ended but one.
    state->limit = 0;
    p.release(4);
    BOOST_TEST_REQUIRE(returned.wait_at_least(5));
    let_others_run();
    BOOST_TEST(occ.running.get() == 1u);
    BOOST_TEST(occ.started.get() == 6u);
    p.release(1);
    BOOST_TEST_REQUIRE(returned.wait_at_least(6));
    BOOST_TEST_REQUIRE(occ.started.wait_at_least(7));
    let_others_run();
    BOOST_TEST(occ.running.get() == 1u);
    p.release(6);
    BOOST_TEST_REQUIRE(returned.wait_at_least(12));
    BOOST_TEST(occ.running.max() == 5u);
    fs.clear();
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// An idle responder's next request goes straight to a parked handler fiber
// (one fiber switch). That fiber may then block in its handler: the requests
// that follow must still start at once, up to the limit, not wait until it
// returns (nor until the run loop's next deadline: 30 s here). Once from a
// client fiber on the responder's thread and once from another thread.
BOOST_AUTO_TEST_CASE(requests_after_a_lone_one_whose_handler_blocks_start_at_once)
{
    watchdog wd;
    for (const bool other_thread : {false, true}) {
        BOOST_TEST_CONTEXT("client on " << (other_thread ? "another thread" : "the responder's thread"))
        {
            gate g;
            occupancy occ;
            channel<int, int> ch(dx::channel_options{64, 30s, dx::overflow::wait});
            runner run(
                *ch.responder,
                [&](int v) {
                    return occ([&] {
                        if (v == 0)
                            g.wait();
                        return v;
                    });
                },
                dx::fixed_concurrency{4});
            // One answered request first: its handler fiber then parks as the
            // one the next request wakes directly.
            BOOST_TEST_REQUIRE(ch.client->request(100).value() == 100);
            let_others_run();

            scoped_fiber lone([&] { BOOST_TEST(ch.client->request(0).value() == 0); });
            BOOST_TEST_REQUIRE(occ.started.wait_at_least(2));  // the first handler runs (and blocks)
            let_others_run();

            counter returned;
            auto send_three = [&](std::vector<scoped_fiber>& fs) {
                for (int v = 1; v != 4; ++v)
                    fs.emplace_back([&, v] {
                        auto r = ch.client->request(v);
                        BOOST_TEST((r.has_value() && r.value() == v));
                        returned.add();
                    });
            };
            std::vector<scoped_fiber> here;
            std::thread there;  // joined after the wait below: this thread runs the responder
            if (other_thread)
                there = std::thread([&] {
                    std::vector<scoped_fiber> fs;
                    send_three(fs);
                });
            else
                send_three(here);
            BOOST_TEST(returned.wait_at_least(3, 10s));
            BOOST_TEST(occ.running.get() == 1u);  // all that while, the first handler blocked
            BOOST_TEST(occ.running.max() >= 2u);
            g.open();
            if (there.joinable())
                there.join();
            lone.join();
            ch.client.reset();
            BOOST_TEST_REQUIRE(run.wait_done());
        }
    }
}

// A burst of requests whose handlers return at once runs on the handler
// fibers there are. The run loop takes the burst in one go, more requests
// than there are idle workers; the workers coming back from their handlers
// take the rest. Starting a worker (a stack) for each made the pool as large
// as the largest burst ever taken: it grew in steady state, one stack at a
// time (fiber_zero_allocation failed about one run in ten).
BOOST_AUTO_TEST_CASE(a_burst_of_handlers_that_return_at_once_needs_no_new_handler_fibers)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{64, 30s, dx::overflow::wait});
    std::set<fibers::fiber::id> workers;  // the handlers run on this thread only
    runner run(
        *ch.responder,
        [&](int v) {
            workers.insert(this_fiber::get_id());
            return v;
        },
        dx::fixed_concurrency{32});
    BOOST_TEST_REQUIRE(ch.client->request(-1).value() == -1);  // one worker, parked
    let_others_run();

    std::vector<int> burst(32);
    std::iota(burst.begin(), burst.end(), 0);
    // Deadlines earlier than the default wake the run loop (its timer), which
    // then takes the whole burst.
    auto r = ch.client->request_batch(burst, burst.size(), 10s);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r.value() == burst);
    BOOST_TEST(workers.size() <= 2u, "the burst ran on " << workers.size() << " handler fibers");
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}
