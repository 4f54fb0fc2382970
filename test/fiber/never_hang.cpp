//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// No fiber is left blocked forever by any sequence of stop, destruction,
// timeout or cancellation (guarantees 1, 4, 5 and 11 together) with the
// Fiber backend. Requests here mostly have no deadline (duration::max()), so
// nothing but the channel's own promises can end them.
//
// Each scenario runs on a fresh thread of its own (its own fibers and
// scheduler) while the test waits for it with a bound: a scenario still
// running after 5 s is reported as a hang and its thread is abandoned (it is
// blocked for good, so its stack stays valid), so that the other scenarios
// still run. A watchdog ends the process if even that fails.

#define BOOST_TEST_MODULE fiber_never_hang
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/system/errc.hpp>

#include <functional>
#include <future>
#include <memory>
#include <random>
#include <sstream>

using namespace fiber_test;

namespace {

constexpr auto forever = duration::max();

// Failures found by a scenario's thread, reported by the test's thread.
class report {
public:
    void check(bool ok, const std::string& what)
    {
        if (!ok) {
            std::lock_guard lk(mutex_);
            failures_.push_back(what);
        }
    }

    std::vector<std::string> failures()
    {
        std::lock_guard lk(mutex_);
        return failures_;
    }

private:
    std::mutex mutex_;
    std::vector<std::string> failures_;
};

// Runs scenario(report) on a fresh thread and waits for it at most `limit`;
// false if it hung.
bool run_scenario(std::function<void(report&)> scenario, duration limit = 5s)
{
    auto rep = std::make_shared<report>();
    auto done = std::make_shared<std::promise<void>>();
    auto fut = done->get_future();
    std::thread t([rep, done, scenario = std::move(scenario)] {
        scenario(*rep);
        done->set_value();
    });
    // This thread runs no fiber: waiting on a std::future is fine here.
    const bool finished = fut.wait_for(limit) == std::future_status::ready;
    if (finished)
        t.join();
    else
        t.detach();  // blocked for good: abandon it (its state stays alive with it)
    BOOST_TEST(finished, "hang: the scenario was still blocked after " << seconds(limit) << " s");
    for (auto& f : rep->failures())
        BOOST_ERROR(f);
    return finished;
}

template <class T>
std::string describe(const dx::result<T>& r)
{
    return r.has_value() ? std::string("a value") : r.error().message();
}

// Fibers that make one request each, with no deadline, and record the result.
struct calls {
    explicit calls(std::size_t n) : results(n) {}

    template <class Client>
    void start(Client& c, int first, duration timeout = forever)
    {
        for (std::size_t i = 0; i != results.size(); ++i)
            fibers.emplace_back([this, &c, i, first, timeout] {
                started.add();
                results[i].emplace(c.request(first + int(i), timeout));
                returned.add();
            });
    }

    std::size_t count(boost::system::error_code e)
    {
        std::size_t n = 0;
        for (auto& r : results)
            n += r && code_of(*r) == e;
        return n;
    }

    std::size_t values()
    {
        std::size_t n = 0;
        for (auto& r : results)
            n += r && r->has_value();
        return n;
    }

    std::vector<std::optional<dx::result<int>>> results;
    counter started, returned;
    std::vector<scoped_fiber> fibers;
};

}  // namespace

// stop() while clients without deadlines wait for room (capacity 1 and 0):
// all of them return (closed), the held one is delivered, the run returns.
BOOST_AUTO_TEST_CASE(stop_while_clients_wait_for_room)
{
    watchdog wd;
    for (std::size_t capacity : {std::size_t(1), std::size_t(0)})
        run_scenario([capacity](report& rep) {
            gate g;
            counter entered;
            channel<int, int> ch(dx::channel_options{capacity, forever, dx::overflow::wait});
            runner run(
                *ch.responder,
                [&](int v) {
                    entered.add();
                    g.wait();
                    return v;
                },
                dx::fixed_concurrency{1});
            calls held(1), waiting(6);
            held.start(*ch.client, 0);
            entered.wait_at_least(1);
            waiting.start(*ch.client, 10);
            waiting.started.wait_at_least(6);
            let_others_run();
            ch.responder->stop();
            rep.check(waiting.returned.wait_at_least(6), "stop left clients waiting for room");
            rep.check(waiting.count(code(dx::error::closed)) == 6, "not all waiting clients were closed");
            g.open();
            rep.check(held.returned.wait_at_least(1), "the held request never returned");
            rep.check(held.values() == 1, "the held request was not delivered");
            rep.check(run.wait_done(), "the run did not return");
        });
}

// Destroying a responder that never ran while clients (no deadline) are
// queued, wait for room, or run batches: all return.
BOOST_AUTO_TEST_CASE(destroying_a_responder_that_never_ran_releases_every_waiter)
{
    watchdog wd;
    run_scenario([](report& rep) {
        channel<int, int> ch(dx::channel_options{1, forever, dx::overflow::wait});
        calls waiting(4);
        waiting.start(*ch.client, 0);
        std::optional<dx::result<std::vector<int>>> b;
        std::optional<std::vector<dx::result<int>>> s;
        counter batches;
        scoped_fiber fb([&] {
            b.emplace(ch.client->request_batch(std::vector<int>{1, 2, 3}, 3));
            batches.add();
        });
        scoped_fiber fs([&] {
            s.emplace(ch.client->request_batch_settled(std::vector<int>{4, 5}, 1));
            batches.add();
        });
        waiting.started.wait_at_least(4);
        let_others_run();
        ch.responder.reset();
        rep.check(waiting.returned.wait_at_least(4), "requests left waiting after destruction");
        rep.check(batches.wait_at_least(2), "batches left waiting after destruction");
        rep.check(waiting.count(code(dx::error::closed)) == 4, "requests not closed");
        rep.check(b && code_of(*b) == code(dx::error::closed), "fail-fast batch not closed");
    });
}

// stop() called from another thread while fibers of this thread wait for room
// with no deadline.
BOOST_AUTO_TEST_CASE(stop_from_another_thread_while_clients_wait_for_room)
{
    watchdog wd;
    run_scenario([](report& rep) {
        gate g;
        counter entered;
        channel<int, int> ch(dx::channel_options{2, forever, dx::overflow::wait});
        runner run(
            *ch.responder,
            [&](int v) {
                entered.add();
                g.wait();
                return v;
            },
            dx::fixed_concurrency{1});
        calls held(1), waiting(5);
        held.start(*ch.client, 0);
        entered.wait_at_least(1);
        waiting.start(*ch.client, 10);
        waiting.started.wait_at_least(5);
        std::atomic<bool> stopped{false};
        std::thread stopper([&] {
            ch.responder->stop();
            stopped = true;
        });
        rep.check(waiting.returned.wait_at_least(5), "clients left waiting after stop from a thread");
        poll_until([&] { return stopped.load(); });
        stopper.join();
        g.open();
        rep.check(held.returned.wait_at_least(1), "held request never returned");
        rep.check(run.wait_done(), "run did not return");
    });
}

// The run returned (stop) and then the responder is destroyed on another
// thread, while fibers here keep making requests with no deadline: every call
// returns.
BOOST_AUTO_TEST_CASE(destroying_the_responder_after_its_run_while_clients_keep_calling)
{
    watchdog wd;
    run_scenario([](report& rep) {
        channel<int, int> ch(dx::channel_options{2, forever, dx::overflow::wait});
        runner run(*ch.responder, [](int v) { return v; }, dx::fixed_concurrency{2});
        std::atomic<bool> quit{false};
        std::atomic<int> returned{0};
        std::vector<scoped_fiber> fs;
        for (int f = 0; f != 4; ++f)
            fs.emplace_back([&, f] {
                for (int i = 0; !quit; ++i) {
                    (void)ch.client->request(f * 1000 + i, forever);
                    ++returned;
                    this_fiber::yield();
                }
            });
        poll_until([&] { return returned.load() >= 20; });
        ch.responder->stop();
        rep.check(run.wait_done(), "run did not return after stop");
        run.join();
        std::atomic<bool> destroyed{false};
        std::thread destroyer([&, r = std::move(*ch.responder)]() mutable {
            { auto gone = std::move(r); }
            destroyed = true;
        });
        const int before = returned.load();
        poll_until([&] { return returned.load() >= before + 20; });
        poll_until([&] { return destroyed.load(); });
        destroyer.join();
        quit = true;
        fs.clear();  // joins: every call returned
        rep.check(returned.load() >= before + 20, "calls stopped returning after the run");
    });
}

// Short deadlines race with stop(): clients on this thread and on another
// keep calling with deadlines of 0-3 ms against a slow responder, and stop()
// comes in the middle; every call returns and the run returns. Repeated.
BOOST_AUTO_TEST_CASE(deadlines_racing_with_stop)
{
    watchdog wd;
    for (int round = 0; round != 10; ++round) {
        const bool finished = run_scenario([round](report& rep) {
            channel<int, int> ch(dx::channel_options{2, forever, dx::overflow::wait});
            runner run(
                *ch.responder,
                [](int v) {
                    if (v % 2)
                        this_fiber::sleep_for(300us);
                    return v;
                },
                dx::fixed_concurrency{2});
            std::atomic<int> returned{0};
            auto loop = [&returned](dx::fiber_client<int, int>& c, unsigned seed) {
                std::minstd_rand rng(seed);
                for (int i = 0; i != 60; ++i) {
                    const auto timeout = rng() % 4 == 0 ? forever : std::chrono::microseconds(rng() % 3000);
                    (void)c.request(i, timeout);
                    ++returned;
                }
            };
            counter other_done;
            std::thread other([&, c = *ch.client]() mutable {
                {
                    std::vector<scoped_fiber> fs;
                    for (int f = 0; f != 3; ++f)
                        fs.emplace_back([&, f] { loop(c, unsigned(round * 100 + f)); });
                }
                { auto gone = std::move(c); }
                other_done.add();
            });
            {
                std::vector<scoped_fiber> fs;
                for (int f = 0; f != 3; ++f)
                    fs.emplace_back([&, f] { loop(*ch.client, unsigned(round * 100 + 50 + f)); });
                poll_until([&] { return returned.load() >= 20 + round * 10; });
                ch.responder->stop();
            }
            rep.check(other_done.wait_at_least(1), "the other thread's clients did not finish");
            other.join();
            rep.check(returned.load() == 360, "not every call returned");
            rep.check(run.wait_done(), "run did not return");
        });
        if (!finished) {
            BOOST_ERROR("round " << round << " hung; no more rounds");
            break;
        }
    }
}

// A request times out while waiting for room; the requests around it (no
// deadline) are served once room comes; nothing is stranded.
BOOST_AUTO_TEST_CASE(timeout_while_waiting_for_room_strands_nobody)
{
    watchdog wd;
    run_scenario([](report& rep) {
        gate g;
        counter entered;
        channel<int, int> ch(dx::channel_options{1, forever, dx::overflow::wait});
        runner run(
            *ch.responder,
            [&](int v) {
                entered.add();
                if (v == 0)
                    g.wait();
                return v;
            },
            dx::fixed_concurrency{1});
        calls held(1), before(2), after(2);
        held.start(*ch.client, 0);
        entered.wait_at_least(1);
        before.start(*ch.client, 10);  // one queued, one waiting for room
        before.started.wait_at_least(2);
        auto r = ch.client->request(5, 30ms);  // waits for room behind them, times out
        rep.check(code_of(r) == code(dx::error::timeout), "expected a timeout, got " + describe(r));
        after.start(*ch.client, 20);
        after.started.wait_at_least(2);
        g.open();
        rep.check(before.returned.wait_at_least(2) && before.values() == 2, "requests before were stranded");
        rep.check(after.returned.wait_at_least(2) && after.values() == 2, "requests after were stranded");
        rep.check(held.returned.wait_at_least(1), "held request never returned");
        ch.client.reset();
        rep.check(run.wait_done(), "run did not return");
    });
}

// A fail-fast batch whose requests wait for room (capacity 1) fails on its
// first: the others, queued or waiting for room, are cancelled; the batch
// returns and the channel goes on.
BOOST_AUTO_TEST_CASE(fail_fast_cancels_requests_waiting_for_room)
{
    watchdog wd;
    run_scenario([](report& rep) {
        gate g;
        counter entered;
        channel<int, int> ch(dx::channel_options{1, forever, dx::overflow::wait});
        runner run(
            *ch.responder,
            [&](int v) -> dx::result<int> {
                entered.add();
                g.wait();
                if (v == 0)
                    return boost::system::errc::make_error_code(boost::system::errc::io_error);
                return v;
            },
            dx::fixed_concurrency{1});
        std::optional<dx::result<std::vector<int>>> b;
        counter returned;
        scoped_fiber fb([&] {
            b.emplace(ch.client->request_batch(std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}, 8));
            returned.add();
        });
        entered.wait_at_least(1);
        g.open();
        rep.check(returned.wait_at_least(1), "batch stranded");
        rep.check(b && code_of(*b) == boost::system::errc::make_error_code(boost::system::errc::io_error),
                  "batch did not fail with the handler's error");
        rep.check(entered.get() == 1, "cancelled requests reached the handler");
        auto r = ch.client->request(9, forever);
        rep.check(r.has_value(), "the channel did not go on: " + describe(r));
        ch.client.reset();
        rep.check(run.wait_done(), "run did not return");
    });
}

// After stop(), the run waits for handlers still blocked, and returns as soon
// as they are released; a client destroyed meanwhile changes nothing.
BOOST_AUTO_TEST_CASE(run_waits_for_blocked_handlers_after_stop_then_returns)
{
    watchdog wd;
    run_scenario([](report& rep) {
        gate g;
        counter entered;
        channel<int, int> ch(dx::channel_options{4, forever, dx::overflow::wait});
        runner run(
            *ch.responder,
            [&](int v) {
                entered.add();
                g.wait();
                return v;
            },
            dx::fixed_concurrency{3});
        calls held(3);
        held.start(*ch.client, 0);
        entered.wait_at_least(3);
        ch.responder->stop();
        this_fiber::sleep_for(20ms);  // only to show the run does not return early
        rep.check(!run.done(), "the run returned with handlers still running");
        g.open();
        rep.check(held.returned.wait_at_least(3) && held.values() == 3, "held requests not delivered");
        rep.check(run.wait_done(), "run did not return");
    });
}

// The responder itself finds an expired request at the head of its queue
// (its handler blocked the thread past that deadline), with requests that
// have no deadline behind it: they must still be served (or at least closed
// by stop()), never stranded.
BOOST_AUTO_TEST_CASE(expired_request_found_by_the_responder_strands_nobody)
{
    watchdog wd;
    for (std::size_t capacity : {std::size_t(8), std::size_t(0)})
        run_scenario([capacity](report& rep) {
            gate g;
            counter entered;
            channel<int, int> ch(dx::channel_options{capacity, forever, dx::overflow::wait});
            runner run(
                *ch.responder,
                [&](int v) {
                    entered.add();
                    if (v == 0) {
                        g.wait();
                        std::this_thread::sleep_for(100ms);  // blocks the thread past request 1's deadline
                    }
                    return v;
                },
                dx::fixed_concurrency{1});
            calls held(1), expiring(1), behind(2);
            held.start(*ch.client, 0);
            entered.wait_at_least(1);
            expiring.start(*ch.client, 1, 30ms);
            behind.start(*ch.client, 2);
            behind.started.wait_at_least(2);
            let_others_run();
            g.open();
            const bool served = behind.returned.wait_at_least(2, 2s);
            std::ostringstream what;
            what << "capacity " << capacity << ": requests behind an expired one were stranded ("
                 << behind.returned.get() << " of 2 returned in 2 s)";
            rep.check(served, what.str());
            if (!served) {
                // Try to release them the documented ways; if even that
                // fails, this scenario hangs (and is reported so).
                ch.responder->stop();
                behind.returned.wait_at_least(2, 1s);
            }
            rep.check(expiring.returned.wait_at_least(1), "the expiring request never returned");
            ch.client.reset();
            rep.check(run.wait_done(), "run did not return");
        });
}
