//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The Fiber backend across threads: clients in fibers on other threads than
// the responder's (each thread with its own round_robin scheduler); the
// responder on another thread than the clients; clients and responder on two
// threads sharing their fibers through boost::fibers::algo::shared_work and
// through algo::work_stealing (fibers, handler invocations included, may
// migrate between the threads); plain std::threads that never start a fiber
// calling request() from their main context.
//
// Rules kept here: a scheduler algorithm is installed on every participating
// thread before it makes any fiber; the threads of a shared pool stay alive
// (at a barrier) until every fiber of the pool is done; the test's own
// thread never blocks in std::thread::join while a fiber on it still has to
// run (it waits on a fiber-aware counter first). Other threads do not use
// Boost.Test: they record into atomics that the test checks afterwards.
//
// work_stealing keeps process-wide state (its scheduler registry and a
// start-up barrier are static): it can be set up only once per process, with
// exactly the thread count given, so exactly one test case below uses it.

#define BOOST_TEST_MODULE fiber_threads
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <latch>
#include <map>
#include <set>
#include <string>

using namespace fiber_test;

namespace {

using client_type = dx::fiber_client<int, std::string>;

std::string answer(int v)
{
    // Not `"a" + std::to_string(v)`: g++ 12 at -O3 warns (-Wrestrict) inside libstdc++ on it.
    std::string s(1, 'a');
    s += std::to_string(v);
    return s;
}

// What the handlers and clients saw, from any thread.
struct record {
    std::atomic<int> ok{0}, wrong{0}, handled{0};
    std::mutex mutex;
    std::set<std::thread::id> handler_threads;
    std::set<std::thread::id> client_threads;

    auto handler()
    {
        return [this](int v) {
            ++handled;
            {
                std::lock_guard lk(mutex);
                handler_threads.insert(std::this_thread::get_id());
            }
            if (v % 3 == 0)
                this_fiber::sleep_for(200us);  // suspend: the fiber may resume on another thread
            else if (v % 3 == 1)
                this_fiber::yield();
            return answer(v);
        };
    }

    // A client fiber's loop; drops its client copy before it returns.
    void client_loop(client_type c, int base, int n)
    {
        for (int i = 0; i != n; ++i) {
            const int v = base + i;
            auto r = c.request(v);
            {
                std::lock_guard lk(mutex);
                client_threads.insert(std::this_thread::get_id());
            }
            if (r.has_value() && r.value() == answer(v))
                ++ok;
            else
                ++wrong;
        }
    }
};

// Runs body(i) on each of `n` threads, each after install() set its scheduler;
// keeps every thread alive at a barrier until all bodies returned, then joins
// them. (The calling thread runs no fiber meanwhile, so joining is safe.)
//
// The latch after the barrier keeps every thread (and its scheduler) alive
// until every thread has left the barrier: the last to arrive wakes the
// others' fibers across threads, and Boost.Fiber 1.81 notifies the woken
// thread's scheduler after queueing the fiber, so a thread that ended at once
// could destroy its scheduler under that notify (found by ThreadSanitizer
// over an instrumented Boost.Fiber; test/sanitizers/README.md).
template <class Install, class Body>
void run_pool(int n, Install install, Body body)
{
    fibers::barrier all_done(static_cast<std::size_t>(n));
    std::latch threads_done(n);
    std::vector<std::thread> threads;
    for (int i = 0; i != n; ++i)
        threads.emplace_back([&, i] {
            install();
            body(i);
            all_done.wait();
            threads_done.arrive_and_wait();
        });
    for (auto& t : threads)
        t.join();
}

// The pool test shared by shared_work and work_stealing: thread 0 runs the
// responder (in a fiber) and client fibers, thread 1 runs client fibers.
template <class Install>
void responder_and_clients_on_a_pool(Install install, const char* what)
{
    constexpr int fibers_per_thread = 4, per_fiber = 40;
    record rec;
    channel<int, std::string> ch(dx::channel_options{16, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    std::atomic<int> run_ok{0};
    std::vector<client_type> copies(2, *ch.client);
    ch.client.reset();

    run_pool(2, install, [&](int t) {
        scoped_fiber run;
        if (t == 0)
            run = scoped_fiber([&] { run_ok += responder.run(rec.handler(), dx::fixed_concurrency{6}).has_value(); });
        {
            std::vector<scoped_fiber> fs;
            for (int f = 0; f != fibers_per_thread; ++f)
                fs.emplace_back([&rec, c = copies[std::size_t(t)], t, f]() mutable {
                    rec.client_loop(std::move(c), (t * 10 + f) * 1000, per_fiber);
                });
            { auto gone = std::move(copies[std::size_t(t)]); }
        }  // this thread's clients joined
        run.join();
    });

    BOOST_TEST(rec.ok.load() == 2 * fibers_per_thread * per_fiber, what);
    BOOST_TEST(rec.wrong.load() == 0, what);
    BOOST_TEST(rec.handled.load() == 2 * fibers_per_thread * per_fiber, what);
    BOOST_TEST(run_ok.load() == 1, what);
    BOOST_TEST(responder.stats().completed == std::size_t(2 * fibers_per_thread * per_fiber));
    BOOST_TEST_MESSAGE(what << ": handlers ran on " << rec.handler_threads.size() << " thread(s), clients on "
                            << rec.client_threads.size());
}

}  // namespace

// The responder in a fiber of this thread; clients in fibers on three other
// threads (each with its default round_robin scheduler).
BOOST_AUTO_TEST_CASE(clients_on_other_round_robin_threads)
{
    watchdog wd;
    record rec;
    channel<int, std::string> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    runner run(*ch.responder, rec.handler(), dx::fixed_concurrency{4});
    counter threads_done;
    std::vector<std::thread> threads;
    for (int t = 0; t != 3; ++t)
        threads.emplace_back([&, t, c = *ch.client]() mutable {
            {
                std::vector<scoped_fiber> fs;
                for (int f = 0; f != 4; ++f)
                    fs.emplace_back([&, t, f, cc = c]() mutable { rec.client_loop(std::move(cc), (t * 10 + f) * 1000, 40); });
            }
            { auto gone = std::move(c); }
            threads_done.add();
        });
    ch.client.reset();
    BOOST_TEST_REQUIRE(threads_done.wait_at_least(3, 15s));  // fiber-friendly: the responder runs here
    for (auto& t : threads)
        t.join();
    BOOST_TEST(rec.ok.load() == 3 * 4 * 40);
    BOOST_TEST(rec.wrong.load() == 0);
    BOOST_TEST(rec.handler_threads.size() == 1u);
    BOOST_TEST(rec.client_threads.size() == 3u);
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(run.result() == boost::system::error_code());
}

// The responder runs on another thread (its run() blocks that thread's main
// context; handler fibers run there), the clients in fibers here.
BOOST_AUTO_TEST_CASE(responder_on_another_thread)
{
    watchdog wd;
    record rec;
    channel<int, std::string> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    std::atomic<bool> run_returned{false}, run_ok{false};
    std::thread responder_thread([&] {
        run_ok = responder.run(rec.handler(), dx::fixed_concurrency{4}).has_value();
        run_returned = true;
    });
    {
        std::vector<scoped_fiber> fs;
        for (int f = 0; f != 6; ++f)
            fs.emplace_back([&, f, c = *ch.client]() mutable { rec.client_loop(std::move(c), f * 1000, 40); });
    }
    ch.client.reset();
    BOOST_TEST_REQUIRE(poll_until([&] { return run_returned.load(); }));
    responder_thread.join();
    BOOST_TEST(run_ok.load());
    BOOST_TEST(rec.ok.load() == 240);
    BOOST_TEST(rec.wrong.load() == 0);
    BOOST_TEST(rec.handler_threads.size() == 1u);
    BOOST_TEST(rec.handler_threads.count(std::this_thread::get_id()) == 0u);
}

// Plain std::threads that never start a fiber call request() and
// request_batch() from their main context; the responder is a fiber here.
BOOST_AUTO_TEST_CASE(plain_threads_without_fibers)
{
    watchdog wd;
    record rec;
    channel<int, std::string> ch(dx::channel_options{4, 30s, dx::overflow::wait});
    runner run(*ch.responder, rec.handler(), dx::fixed_concurrency{3});
    counter threads_done;
    std::atomic<int> batches_ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t != 4; ++t)
        threads.emplace_back([&, t, c = *ch.client]() mutable {
            rec.client_loop(c, t * 1000, 30);
            std::vector<int> reqs{t * 1000 + 500, t * 1000 + 501, t * 1000 + 502};
            auto b = c.request_batch(reqs, 2);
            batches_ok += b.has_value() && b.value() == std::vector<std::string>{answer(reqs[0]), answer(reqs[1]), answer(reqs[2])};
            { auto gone = std::move(c); }
            threads_done.add();
        });
    ch.client.reset();
    BOOST_TEST_REQUIRE(threads_done.wait_at_least(4, 15s));
    for (auto& t : threads)
        t.join();
    BOOST_TEST(rec.ok.load() == 120);
    BOOST_TEST(rec.wrong.load() == 0);
    BOOST_TEST(batches_ok.load() == 4);
    BOOST_TEST(rec.client_threads.size() == 4u);
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(run.result() == boost::system::error_code());
}

// No fiber at all anywhere but the handlers': the responder's run() on one
// plain thread's main context, clients on other plain threads' main contexts.
BOOST_AUTO_TEST_CASE(plain_threads_on_both_ends)
{
    watchdog wd;
    record rec;
    channel<int, std::string> ch(dx::channel_options{4, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    std::atomic<bool> run_ok{false};
    std::atomic<int> finished{0};
    std::thread responder_thread([&] {
        run_ok = responder.run(rec.handler(), dx::fixed_concurrency{2}).has_value();
        ++finished;
    });
    std::vector<std::thread> clients;
    for (int t = 0; t != 3; ++t)
        clients.emplace_back([&, t, c = *ch.client]() mutable {
            rec.client_loop(std::move(c), t * 1000, 30);
            ++finished;
        });
    ch.client.reset();
    // This thread runs no fiber: plain joins are fine here.
    for (auto& t : clients)
        t.join();
    responder_thread.join();
    BOOST_TEST(finished.load() == 4);
    BOOST_TEST(run_ok.load());
    BOOST_TEST(rec.ok.load() == 90);
    BOOST_TEST(rec.wrong.load() == 0);
}

// Two threads sharing their fibers through shared_work (suspending when idle,
// not spinning): the responder and client fibers on thread 0, client fibers
// on thread 1; any of them may run on either thread.
BOOST_AUTO_TEST_CASE(shared_work_across_two_threads)
{
    watchdog wd;
    responder_and_clients_on_a_pool(
        [] { fibers::use_scheduling_algorithm<fibers::algo::shared_work>(true); }, "shared_work");
}

// The same with work_stealing across two threads (once per process: see above).
BOOST_AUTO_TEST_CASE(work_stealing_across_two_threads)
{
    watchdog wd;
    responder_and_clients_on_a_pool(
        [] { fibers::use_scheduling_algorithm<fibers::algo::work_stealing>(2, true); }, "work_stealing");
}
