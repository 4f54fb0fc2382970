//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 2 (right recipient) for the Fiber backend: a response reaches
// only the request it answers. A late response to a request that timed out is
// dropped, also when the request's slot is reused afterwards (the slabs give
// back the most recently freed slot first); a batch's fail-fast cancellation
// never reaches another client's request that took over one of its slots;
// many fibers on several threads each get their own responses.

#define BOOST_TEST_MODULE fiber_right_recipient
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/mpl/list.hpp>
#include <boost/system/errc.hpp>

#include <random>
#include <string>

using namespace fiber_test;

namespace {

using storages = boost::mpl::list<dx::sharded_slab, dx::locked_slab>;

std::string answer(int v)
{
    return "answer-" + std::to_string(v);
}

}  // namespace

// Request 1 times out while its handler is held; the same fiber then makes
// request 2 (and more, reusing slots as they come back). When the held handler
// finally answers 1, that answer reaches nobody: every later request gets its
// own answer.
BOOST_AUTO_TEST_CASE_TEMPLATE(late_response_to_timed_out_request_is_dropped, Storage, storages)
{
    watchdog wd;
    gate g;
    counter late_answers, held;
    channel<int, std::string, Storage> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(
        responder,
        [&](int v) {
            if (v == 1 || v == 3) {
                held.add();
                g.wait();
                if (v == 1)
                    late_answers.add();
            }
            return answer(v);
        },
        dx::fixed_concurrency{2});

    auto& client = *ch.client;
    auto r1 = client.request(1, 50ms);
    BOOST_TEST(code_of(r1) == code(dx::error::timeout));

    auto r2 = client.request(2);
    BOOST_TEST((r2.has_value() && r2.value() == answer(2)));

    // Answer 1 late, while request 3 is pending (it waits for the gate too,
    // through a second handler that the late answer must not satisfy).
    std::optional<dx::result<std::string>> r3;
    scoped_fiber f3([&] { r3.emplace(client.request(3)); });
    BOOST_TEST_REQUIRE(held.wait_at_least(2));
    g.open();
    BOOST_TEST_REQUIRE(late_answers.wait_at_least(1));
    f3.join();
    BOOST_TEST((r3->has_value() && r3->value() == answer(3)));

    // The slot of request 1 is free again now: later requests reuse it.
    for (int v = 10; v != 40; ++v) {
        auto r = client.request(v);
        BOOST_TEST((r.has_value() && r.value() == answer(v)), "request " << v);
    }
    const auto s = responder.stats();
    BOOST_TEST(s.timed_out == 1u);
    BOOST_TEST(s.completed == 32u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// One fiber alternates a request that times out in flight with one that
// succeeds; the late answers (dropped) land while the next requests wait in
// slots just freed. Each successful call gets exactly its own answer.
BOOST_AUTO_TEST_CASE_TEMPLATE(alternating_timeouts_never_leak_a_late_answer, Storage, storages)
{
    watchdog wd;
    channel<int, std::string, Storage> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    runner run(
        *ch.responder,
        [](int v) {
            if (v % 2 == 0)
                this_fiber::sleep_for(20ms);  // outlives its 2 ms deadline
            return answer(v);
        },
        dx::fixed_concurrency{4});

    auto& client = *ch.client;
    int wrong = 0, timeouts = 0;
    for (int i = 0; i != 40; ++i) {
        const int v = 2 * i;
        auto slow = client.request(v, 2ms);
        timeouts += code_of(slow) == code(dx::error::timeout);
        if (slow.has_value() && slow.value() != answer(v))
            ++wrong;
        auto fast = client.request(v + 1);
        if (!fast.has_value() || fast.value() != answer(v + 1))
            ++wrong;
    }
    BOOST_TEST(wrong == 0);
    BOOST_TEST(timeouts >= 1);  // 20 ms of handler against a 2 ms deadline
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done(10s));
}

// A fail-fast batch cancels its outstanding requests (by slot key) when one
// fails, while other fibers keep making requests that take over the slots
// the batch's finished requests gave back. None of those is cancelled or
// answered wrongly.
BOOST_AUTO_TEST_CASE_TEMPLATE(batch_cancellation_reaches_only_the_batch, Storage, storages)
{
    watchdog wd;
    channel<int, std::string, Storage> ch(dx::channel_options{4, 30s, dx::overflow::wait});
    runner run(
        *ch.responder,
        [](int v) -> dx::result<std::string> {
            if (v % 3 == 0)
                this_fiber::yield();
            if (v < 0)
                return boost::system::errc::make_error_code(boost::system::errc::io_error);
            return answer(v);
        },
        dx::fixed_concurrency{3});

    std::atomic<bool> stop_others{false};
    int others_wrong = 0, others_ok = 0;
    std::vector<scoped_fiber> others;
    for (int f = 0; f != 3; ++f)
        others.emplace_back([&, f, c = *ch.client]() mutable {
            for (int i = 0; !stop_others; ++i) {
                const int v = 100000 + f * 10000 + i;
                auto r = c.request(v);
                if (r.has_value() && r.value() == answer(v))
                    ++others_ok;
                else
                    ++others_wrong;
            }
        });

    int batch_errors = 0;
    for (int round = 0; round != 60; ++round) {
        std::vector<int> reqs;
        for (int i = 0; i != 12; ++i)
            reqs.push_back(i == round % 12 ? -1 : round * 100 + i);
        auto r = ch.client->request_batch(std::move(reqs), 5);
        batch_errors += code_of(r) == boost::system::errc::make_error_code(boost::system::errc::io_error);
    }
    stop_others = true;
    others.clear();
    BOOST_TEST(batch_errors == 60);
    BOOST_TEST(others_wrong == 0);
    BOOST_TEST(others_ok > 0);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Many fibers on this thread and on two other threads, each with its own
// requests, against handlers that finish out of order: each gets its own.
BOOST_AUTO_TEST_CASE(many_fibers_on_many_threads_each_get_their_own_answers)
{
    watchdog wd;
    constexpr int threads_n = 2, fibers_n = 4, per_fiber = 100;
    channel<int, std::string> ch(dx::channel_options{16, 30s, dx::overflow::wait});
    runner run(
        *ch.responder,
        [](int v) {
            // Out of order: later requests often finish before earlier ones.
            if (v % 4 != 0)
                this_fiber::sleep_for(std::chrono::microseconds(100 * (v % 7)));
            return answer(v);
        },
        dx::fixed_concurrency{8});

    std::atomic<int> wrong{0}, ok{0};
    auto client_loop = [&](dx::fiber_client<int, std::string>& c, int base) {
        for (int i = 0; i != per_fiber; ++i) {
            const int v = base + i;
            auto r = c.request(v);
            if (r.has_value() && r.value() == answer(v))
                ++ok;
            else
                ++wrong;
        }
    };

    counter threads_done;
    std::vector<std::thread> threads;
    for (int t = 0; t != threads_n; ++t)
        threads.emplace_back([&, t, c = *ch.client]() mutable {
            {
                std::vector<scoped_fiber> fs;
                for (int f = 0; f != fibers_n; ++f)
                    fs.emplace_back([&, t, f] { client_loop(c, (t + 1) * 100000 + f * 1000); });
            }
            { auto gone = std::move(c); }
            threads_done.add();
        });
    {
        std::vector<scoped_fiber> fs;
        for (int f = 0; f != fibers_n; ++f)
            fs.emplace_back([&, f, c = *ch.client]() mutable { client_loop(c, f * 1000); });
    }
    const bool threads_finished = threads_done.wait_at_least(threads_n, 15s);
    BOOST_TEST_REQUIRE(threads_finished);
    for (auto& t : threads)
        t.join();
    BOOST_TEST(wrong.load() == 0);
    BOOST_TEST(ok.load() == (threads_n + 1) * fibers_n * per_fiber);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}
