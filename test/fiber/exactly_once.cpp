//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 1 (exactly once) for the Fiber backend: every request() call
// returns once, with a response or an error, whatever ends it (a value, the
// handler's error, an exception, a deadline in the queue or in flight, a stop,
// a full queue); the responder's counters count each ended request once; the
// handler sees each request at most once; and every request and response
// object the channel took over is destroyed exactly once.

#define BOOST_TEST_MODULE fiber_exactly_once
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/system/errc.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <random>

using namespace fiber_test;

namespace {

struct req_tag {};
struct resp_tag {};
using treq = tracked<req_tag>;
using tresp = tracked<resp_tag>;

boost::system::error_code custom_error()
{
    return boost::system::errc::make_error_code(boost::system::errc::permission_denied);
}

// What the clients saw, by outcome.
struct tally {
    std::size_t values = 0, handler_errors = 0, handler_failed = 0, timeouts = 0, cancelled = 0, closed = 0,
                queue_full = 0, other = 0;

    template <class T>
    void add(const dx::result<T>& r)
    {
        if (r.has_value())
            ++values;
        else if (r.error() == custom_error())
            ++handler_errors;
        else if (r.error() == code(dx::error::handler_failed))
            ++handler_failed;
        else if (r.error() == code(dx::error::timeout))
            ++timeouts;
        else if (r.error() == code(dx::error::cancelled))
            ++cancelled;
        else if (r.error() == code(dx::error::closed))
            ++closed;
        else if (r.error() == code(dx::error::queue_full))
            ++queue_full;
        else
            ++other;
    }

    std::size_t total() const
    {
        return values + handler_errors + handler_failed + timeouts + cancelled + closed + queue_full + other;
    }
};

// The counters must match what the clients saw: each ended request once in
// completed/failed/timed_out/cancelled, closed and queue_full in none.
void check_counters(const dx::responder_stats& s, const tally& t)
{
    BOOST_TEST(s.completed == t.values);
    BOOST_TEST(s.failed == t.handler_errors + t.handler_failed);
    BOOST_TEST(s.timed_out == t.timeouts);
    BOOST_TEST(s.cancelled == t.cancelled);
    BOOST_TEST(s.queued == 0u);
    BOOST_TEST(s.in_flight == 0u);
}

}  // namespace

// Every way a request can end, each once, on one thread.
BOOST_AUTO_TEST_CASE(every_outcome_completes_each_call_once)
{
    watchdog wd;
    {
        gate g;
        std::vector<int> seen;
        channel<treq, tresp> ch(dx::channel_options{2, 30s, dx::overflow::reject});
        auto& client = *ch.client;
        auto& responder = *ch.responder;

        runner run(
            responder,
            [&](treq r) -> dx::result<tresp> {
                seen.push_back(r.value);
                if (r.value == 100)
                    g.wait();  // held in flight until the test opens the gate
                if (r.value < 0)
                    return custom_error();
                if (r.value == 13)
                    throw std::runtime_error("unlucky");
                return tresp(r.value * 2);
            },
            dx::fixed_concurrency{1});

        tally t;
        {
            auto r = client.request(treq(1));
            BOOST_TEST_REQUIRE(r.has_value());
            BOOST_TEST(r.value().value == 2);
            t.add(r);
        }
        {
            auto r = client.request(treq(-1));
            BOOST_TEST(code_of(r) == custom_error());
            t.add(r);
        }
        {
            auto r = client.request(treq(13));
            BOOST_TEST(code_of(r) == code(dx::error::handler_failed));
            t.add(r);
        }

        // 100 is held in flight and times out there; 2 times out in the
        // queue; 3 waits in the queue and is closed by stop(); 4 finds the
        // queue (capacity 2) full.
        std::optional<dx::result<tresp>> r100, r2, r3, r4;
        counter returned;
        counter started;
        scoped_fiber f100([&] {
            r100.emplace(client.request(treq(100), 100ms));
            returned.add();
        });
        BOOST_TEST_REQUIRE(poll_until([&] { return seen.size() == 4; }));
        scoped_fiber f2([&] {
            started.add();
            r2.emplace(client.request(treq(2), 200ms));
            returned.add();
        });
        scoped_fiber f3([&] {
            started.add();
            r3.emplace(client.request(treq(3)));
            returned.add();
        });
        BOOST_TEST_REQUIRE(started.wait_at_least(2));
        BOOST_TEST(responder.stats().queued == 2u);
        r4.emplace(client.request(treq(4)));
        BOOST_TEST(code_of(*r4) == code(dx::error::queue_full));

        BOOST_TEST_REQUIRE(returned.wait_at_least(2));  // the two timeouts
        BOOST_TEST_REQUIRE(r100.has_value());
        BOOST_TEST_REQUIRE(r2.has_value());
        BOOST_TEST(code_of(*r100) == code(dx::error::timeout));
        BOOST_TEST(code_of(*r2) == code(dx::error::timeout));
        BOOST_TEST(!r3.has_value());

        responder.stop();
        BOOST_TEST_REQUIRE(returned.wait_at_least(3));
        BOOST_TEST(code_of(*r3) == code(dx::error::closed));
        auto r5 = client.request(treq(5));
        BOOST_TEST(code_of(r5) == code(dx::error::closed));

        g.open();  // the late response to 100 is dropped
        BOOST_TEST_REQUIRE(run.wait_done());
        run.join();
        f100.join();
        f2.join();
        f3.join();
        BOOST_TEST(returned.get() == 3u);
        BOOST_TEST(run.result() == boost::system::error_code());

        for (auto* r : {&r100, &r2, &r3, &r4})
            t.add(**r);
        t.add(r5);
        BOOST_TEST(t.total() == 8u);
        BOOST_TEST(t.values == 1u);
        BOOST_TEST(t.timeouts == 2u);
        BOOST_TEST(t.closed == 2u);
        BOOST_TEST(t.queue_full == 1u);
        check_counters(responder.stats(), t);
        BOOST_TEST((seen == std::vector<int>{1, -1, 13, 100}));
    }
    BOOST_TEST(treq::alive == 0);
    BOOST_TEST(tresp::alive == 0);
}

// Many fibers race short deadlines against handlers of random duration: each
// call returns once, each request reaches the handler at most once, the
// counters add up, nothing leaks.
BOOST_AUTO_TEST_CASE(racing_deadlines_and_responses_complete_each_call_once)
{
    watchdog wd;
    constexpr int fibers_n = 8;
    constexpr int per_fiber = 150;
    {
        std::vector<int> handled(fibers_n * per_fiber, 0);
        channel<treq, tresp> ch(dx::channel_options{4, 30s, dx::overflow::wait});
        auto& responder = *ch.responder;
        std::minstd_rand handler_rng(7);
        runner run(
            responder,
            [&](treq r) -> dx::result<tresp> {
                ++handled[static_cast<std::size_t>(r.value)];
                const int pause = static_cast<int>(handler_rng() % 4);
                if (pause == 1)
                    this_fiber::yield();
                else if (pause >= 2)
                    this_fiber::sleep_for(std::chrono::microseconds(300 * pause));
                if (r.value % 17 == 0)
                    return custom_error();
                return tresp(r.value);
            },
            dx::fixed_concurrency{3});

        tally t;
        std::size_t wrong = 0;
        counter done;
        std::vector<scoped_fiber> clients;
        for (int f = 0; f != fibers_n; ++f)
            clients.emplace_back([&, f, c = *ch.client]() mutable {
                std::minstd_rand rng(static_cast<unsigned>(f) + 100u);
                for (int i = 0; i != per_fiber; ++i) {
                    const int id = f * per_fiber + i;
                    const auto timeout = std::chrono::microseconds(rng() % 2500);
                    auto r = c.request(treq(id), timeout);
                    t.add(r);
                    if (r && r.value().value != id)
                        ++wrong;
                }
                done.add();
            });
        ch.client.reset();
        BOOST_TEST_REQUIRE(done.wait_at_least(fibers_n, 15s));
        clients.clear();
        BOOST_TEST_REQUIRE(run.wait_done());
        run.join();
        BOOST_TEST(run.result() == boost::system::error_code());

        BOOST_TEST(t.total() == std::size_t(fibers_n * per_fiber));
        BOOST_TEST(t.other == 0u);
        BOOST_TEST(t.cancelled == 0u);
        BOOST_TEST(t.closed == 0u);
        BOOST_TEST(wrong == 0u);
        BOOST_TEST(std::count_if(handled.begin(), handled.end(), [](int n) { return n > 1; }) == 0);
        check_counters(responder.stats(), t);
        BOOST_TEST_MESSAGE("values " << t.values << ", timeouts " << t.timeouts << ", errors " << t.handler_errors);
    }
    BOOST_TEST(treq::alive == 0);
    BOOST_TEST(tresp::alive == 0);
}

// The same race with the clients on two other threads (each its own
// round_robin scheduler) and the responder on this one.
BOOST_AUTO_TEST_CASE(racing_deadlines_across_threads_complete_each_call_once)
{
    watchdog wd;
    constexpr int threads_n = 2;
    constexpr int fibers_per_thread = 4;
    constexpr int per_fiber = 100;
    constexpr int total = threads_n * fibers_per_thread * per_fiber;
    {
        std::vector<std::atomic<int>> handled(total);
        channel<treq, tresp> ch(dx::channel_options{4, 30s, dx::overflow::wait});
        auto& responder = *ch.responder;
        runner run(
            responder,
            [&](treq r) -> dx::result<tresp> {
                ++handled[static_cast<std::size_t>(r.value)];
                if (r.value % 3 == 0)
                    this_fiber::sleep_for(500us);
                return tresp(r.value);
            },
            dx::fixed_concurrency{4});

        std::mutex tally_mutex;
        tally t;
        std::atomic<int> wrong{0};
        counter threads_done;
        std::vector<std::thread> threads;
        for (int th = 0; th != threads_n; ++th)
            threads.emplace_back([&, th, c = *ch.client]() mutable {
                {
                    std::vector<scoped_fiber> fs;
                    for (int f = 0; f != fibers_per_thread; ++f)
                        fs.emplace_back([&, th, f] {
                            std::minstd_rand rng(static_cast<unsigned>(th * 10 + f));
                            for (int i = 0; i != per_fiber; ++i) {
                                const int id = (th * fibers_per_thread + f) * per_fiber + i;
                                auto r = c.request(treq(id), std::chrono::microseconds(rng() % 3000));
                                if (r && r.value().value != id)
                                    ++wrong;
                                std::lock_guard lk(tally_mutex);
                                t.add(r);
                            }
                        });
                }  // joined
                {
                    auto gone = std::move(c);
                }
                threads_done.add();
            });
        ch.client.reset();
        // Wait in a fiber-friendly way: the responder runs on this thread.
        const bool all_done = threads_done.wait_at_least(threads_n, 15s);
        BOOST_TEST_REQUIRE(all_done);
        for (auto& th : threads)
            th.join();
        BOOST_TEST_REQUIRE(run.wait_done());
        run.join();

        BOOST_TEST(t.total() == std::size_t(total));
        BOOST_TEST(t.other == 0u);
        BOOST_TEST(t.closed == 0u);
        BOOST_TEST(wrong.load() == 0);
        int twice = 0;
        for (auto& h : handled)
            twice += h.load() > 1;
        BOOST_TEST(twice == 0);
        check_counters(responder.stats(), t);
        BOOST_TEST_MESSAGE("values " << t.values << ", timeouts " << t.timeouts);
    }
    BOOST_TEST(treq::alive == 0);
    BOOST_TEST(tresp::alive == 0);
}

// A settled batch ends each of its requests once, in input order, whatever
// ends them; the handler sees each at most once.
BOOST_AUTO_TEST_CASE(settled_batch_settles_each_request_once)
{
    watchdog wd;
    {
        std::map<int, int> handled;
        channel<treq, tresp> ch(dx::channel_options{2, 30s, dx::overflow::wait});
        auto& responder = *ch.responder;
        runner run(
            responder,
            [&](treq r) -> dx::result<tresp> {
                ++handled[r.value];
                if (r.value % 5 == 0)
                    return custom_error();
                if (r.value % 7 == 0)
                    throw std::runtime_error("seven");
                return tresp(r.value + 1000);
            },
            dx::fixed_concurrency{2});

        std::vector<treq> reqs;
        for (int i = 1; i <= 40; ++i)
            reqs.emplace_back(i);
        auto out = ch.client->request_batch_settled(std::move(reqs), 6);
        BOOST_TEST_REQUIRE(out.size() == 40u);
        tally t;
        for (int i = 1; i <= 40; ++i) {
            auto& r = out[static_cast<std::size_t>(i - 1)];
            t.add(r);
            if (i % 5 == 0)
                BOOST_TEST(code_of(r) == custom_error());
            else if (i % 7 == 0)
                BOOST_TEST(code_of(r) == code(dx::error::handler_failed));
            else
                BOOST_TEST((r.has_value() && r.value().value == i + 1000), "request " << i);
        }
        BOOST_TEST(handled.size() == 40u);
        for (auto& [k, n] : handled)
            BOOST_TEST(n == 1, "request " << k << " handled " << n << " times");
        out.clear();
        ch.client.reset();
        BOOST_TEST_REQUIRE(run.wait_done());
        run.join();
        check_counters(responder.stats(), t);
    }
    BOOST_TEST(treq::alive == 0);
    BOOST_TEST(tresp::alive == 0);
}

// stop() while requests are queued, waiting for room and in flight: every
// call returns once (closed, or the value of one that was in flight).
BOOST_AUTO_TEST_CASE(stop_completes_every_pending_call_once)
{
    watchdog wd;
    {
        gate g;
        counter in_handler;
        channel<treq, tresp> ch(dx::channel_options{3, 30s, dx::overflow::wait});
        auto& responder = *ch.responder;
        runner run(
            responder,
            [&](treq r) -> dx::result<tresp> {
                in_handler.add();
                g.wait();
                return tresp(r.value);
            },
            dx::fixed_concurrency{2});

        constexpr int n = 12;  // 2 in flight, 3 queued, 7 waiting for room
        std::vector<std::optional<dx::result<tresp>>> results(n);
        counter returned;
        std::vector<scoped_fiber> clients;
        for (int i = 0; i != n; ++i)
            clients.emplace_back([&, i] {
                results[static_cast<std::size_t>(i)].emplace(ch.client->request(treq(i)));
                returned.add();
            });
        BOOST_TEST_REQUIRE(in_handler.wait_at_least(2));
        BOOST_TEST_REQUIRE(poll_until([&] { return responder.stats().queued == 3; }));
        let_others_run();
        BOOST_TEST(returned.get() == 0u);

        responder.stop();
        BOOST_TEST_REQUIRE(returned.wait_at_least(n - 2));
        g.open();
        BOOST_TEST_REQUIRE(returned.wait_at_least(n));
        clients.clear();
        BOOST_TEST_REQUIRE(run.wait_done());
        run.join();

        tally t;
        for (auto& r : results)
            t.add(*r);
        BOOST_TEST(t.values == 2u);
        BOOST_TEST(t.closed == std::size_t(n - 2));
        BOOST_TEST(in_handler.get() == 2u);
        check_counters(responder.stats(), t);
    }
    BOOST_TEST(treq::alive == 0);
    BOOST_TEST(tresp::alive == 0);
}
