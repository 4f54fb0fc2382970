//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 8 (order) for the Fiber backend: batch responses come in input
// order whatever order the handlers finish in; with a limit of 1, requests
// issued one after another are handled in the order issued (FIFO through the
// queue and through the wait for room).

#define BOOST_TEST_MODULE fiber_order
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/system/errc.hpp>

using namespace fiber_test;

namespace {

// Later requests finish first: request v sleeps (20 - v % 20) ms.
int reversed_handler(int v)
{
    this_fiber::sleep_for(std::chrono::milliseconds(20 - v % 20));
    return v * 10;
}

}  // namespace

// Fail-fast batches at several concurrencies against a responder that
// finishes them in reverse: the responses are in input order.
BOOST_AUTO_TEST_CASE(batch_responses_come_in_input_order)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{64, 30s, dx::overflow::wait});
    std::vector<int> finished;
    runner run(
        *ch.responder,
        [&](int v) {
            const int r = reversed_handler(v);
            finished.push_back(v);
            return r;
        },
        dx::fixed_concurrency{16});

    std::vector<int> reqs, expected;
    for (int i = 0; i != 20; ++i) {
        reqs.push_back(i);
        expected.push_back(i * 10);
    }
    for (std::size_t concurrency : {1, 3, 8, 20, 100}) {
        finished.clear();
        auto r = ch.client->request_batch(reqs, concurrency);
        BOOST_TEST_REQUIRE(r.has_value());
        BOOST_TEST(r.value() == expected, "concurrency " << concurrency);
        // The handlers did finish out of order: the order is the batch's work.
        if (concurrency >= 8)
            BOOST_TEST(!std::is_sorted(finished.begin(), finished.end()));

    }
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// A settled batch keeps input order for values and errors alike.
BOOST_AUTO_TEST_CASE(settled_batch_results_come_in_input_order)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{64, 30s, dx::overflow::wait});
    runner run(
        *ch.responder,
        [](int v) -> dx::result<int> {
            const int r = reversed_handler(v);
            if (v % 4 == 1)
                return boost::system::errc::make_error_code(boost::system::errc::io_error);
            return r;
        },
        dx::fixed_concurrency{8});
    std::vector<int> reqs;
    for (int i = 0; i != 20; ++i)
        reqs.push_back(i);
    auto out = ch.client->request_batch_settled(reqs, 8);
    BOOST_TEST_REQUIRE(out.size() == 20u);
    for (int i = 0; i != 20; ++i) {
        auto& r = out[std::size_t(i)];
        if (i % 4 == 1)
            BOOST_TEST(code_of(r) == boost::system::errc::make_error_code(boost::system::errc::io_error));
        else
            BOOST_TEST((r.has_value() && r.value() == i * 10), "element " << i);
    }
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Limit 1: request 0 holds the handler; fibers issue 1..11 one after another
// (each once the previous one is in the channel); 1-3 queue (capacity 3), the
// rest wait for room. Released, they are handled in the order issued.
BOOST_AUTO_TEST_CASE(limit_one_handles_requests_in_the_order_issued)
{
    watchdog wd;
    gate g;
    std::vector<int> seen;
    channel<int, int> ch(dx::channel_options{3, 30s, dx::overflow::wait});
    auto& responder = *ch.responder;
    runner run(
        responder,
        [&](int v) {
            seen.push_back(v);
            if (v == 0)
                g.wait();
            return v;
        },
        dx::fixed_concurrency{1});

    counter returned, issued;
    std::vector<scoped_fiber> fs;
    fs.emplace_back([&] {
        issued.add();
        BOOST_TEST(ch.client->request(0).has_value());
        returned.add();
    });
    BOOST_TEST_REQUIRE(poll_until([&] { return seen.size() == 1; }));
    for (int i = 1; i != 12; ++i) {
        fs.emplace_back([&, i] {
            issued.add();
            BOOST_TEST(ch.client->request(i).has_value());
            returned.add();
        });
        // The call is made (and blocks) before the next fiber starts.
        BOOST_TEST_REQUIRE(issued.wait_at_least(std::size_t(i) + 1));
        let_others_run(2);
    }
    BOOST_TEST(responder.stats().queued == 3u);
    g.open();
    BOOST_TEST_REQUIRE(returned.wait_at_least(12));
    std::vector<int> expected;
    for (int i = 0; i != 12; ++i)
        expected.push_back(i);
    BOOST_TEST(seen == expected);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Limit 1, clients on two threads each issuing requests one after another:
// each client's requests are handled in its own order.
BOOST_AUTO_TEST_CASE(limit_one_keeps_each_clients_order_across_threads)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{2, 30s, dx::overflow::wait});
    std::vector<int> seen;  // handlers run one at a time on this thread
    runner run(
        *ch.responder,
        [&](int v) {
            seen.push_back(v);
            this_fiber::yield();
            return v;
        },
        dx::fixed_concurrency{1});
    counter done;
    std::vector<std::thread> threads;
    for (int t = 0; t != 2; ++t)
        threads.emplace_back([&, t, c = *ch.client]() mutable {
            for (int i = 0; i != 60; ++i)
                (void)c.request(t * 1000 + i);
            { auto gone = std::move(c); }
            done.add();
        });
    // And one more client here.
    for (int i = 0; i != 60; ++i)
        (void)ch.client->request(2000 + i);
    BOOST_TEST_REQUIRE(done.wait_at_least(2, 10s));
    for (auto& t : threads)
        t.join();
    BOOST_TEST(seen.size() == 180u);
    int last[3] = {-1, -1, -1};
    int out_of_order = 0;
    for (int v : seen) {
        const int who = v / 1000, seq = v % 1000;
        if (seq <= last[who])
            ++out_of_order;
        last[who] = seq;
    }
    BOOST_TEST(out_of_order == 0);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// The run loop takes up to the limit at once and hands the requests to worker
// fibers; a worker that finishes takes the next request itself. A worker that
// always finds more work (here a batch refills the queue from each
// completion) must still let the workers holding older requests start them:
// once, the first worker served the whole batch while the three requests
// handed to the others waited behind it (seconds, in a sanitizer build, past
// their deadlines).
BOOST_AUTO_TEST_CASE(requests_handed_to_workers_start_before_newer_ones)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{64, 30s, dx::overflow::wait});
    std::vector<int> started;
    runner run(
        *ch.responder,
        [&](int v) {
            started.push_back(v);
            return v;
        },
        dx::fixed_concurrency{4});
    std::vector<int> in(400);
    for (int i = 0; i != 400; ++i)
        in[std::size_t(i)] = i;
    auto r = ch.client->request_batch(in, 64);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST_REQUIRE(started.size() == 400u);
    for (int v = 0; v != 4; ++v) {
        const auto at = std::find(started.begin(), started.end(), v) - started.begin();
        BOOST_TEST_CONTEXT("request " << v)
        BOOST_TEST(at < 8, "started as number " << at);
    }
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}
