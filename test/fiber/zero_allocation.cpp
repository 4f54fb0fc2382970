//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// No heap allocation per request in steady state, Fiber backend (issue #5): a
// warm channel (default channel_options, fixed_concurrency{}, a synchronous
// echo handler, std::uint64_t requests and responses) answers 10 000 more
// requests and the process-wide allocation counter does not move, in the
// shapes of the benchmark's workloads:
//
//   W2  64 client fibers and the responder (in a fiber) on one thread;
//   W3  64 client fibers on this thread, the responder's run() on another
//       thread;
//   W4  one request_batch of concurrency 64: what it allocates (its result
//       vector and its bookkeeping) does not grow with its size.
//
// The counter (bench/alloc_counter.hpp, defined in this unit) counts every
// allocation of the process, on every thread, through malloc & co and every
// operator new. Where it cannot count (a sanitizer intercepting malloc), the
// cases say so (BOOST_TEST_MESSAGE) and check nothing.
//
// Warm means: the channel has had as many requests pending at once as the
// load will have (one per client: the table of pending requests grows to its
// peak and keeps it), then answered the 10 000 requests of the warm-up.
//
// The measured window opens when the 10 000th request (the warm-up) returns
// to its client and closes when the 20 000th does; every client is still busy
// at both ends (the clients send a few more, one per client, so that nobody
// stops inside the window). Both readings go into plain variables:
// Boost.Test's assertions allocate, so they all come afterwards.

#define BOOST_TEST_MODULE fiber_zero_allocation
#include <boost/test/unit_test.hpp>

#include "../zero_allocation.hpp"

#include "common.hpp"

#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/priority.hpp>

#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

using namespace fiber_test;
using namespace zero_allocation_test;

namespace {

using client_type = dx::fiber_client<value_type, value_type>;

// The clients' shared count of requests, and the two readings of the
// allocation counter. Used by the fibers of one thread only.
class load {
public:
    explicit load(std::size_t clients) : total_(warm_requests + measured_requests + clients) {}

    // May the caller send one more request?
    bool take() noexcept
    {
        if (issued_ == total_)
            return false;
        ++issued_;
        return true;
    }

    // First thing after every request returned.
    void record(bool ok) noexcept
    {
        ++completed_;
        if (!ok)
            ++wrong_;
        if (completed_ == warm_requests)
            window_start_ = bench::allocations().count;
        else if (completed_ == warm_requests + measured_requests)
            window_end_ = bench::allocations().count;
    }

    std::uint64_t total() const noexcept { return total_; }
    std::uint64_t completed() const noexcept { return completed_; }
    std::uint64_t wrong() const noexcept { return wrong_; }
    std::uint64_t window_start() const noexcept { return window_start_; }
    std::uint64_t window_end() const noexcept { return window_end_; }

private:
    std::uint64_t total_;
    std::uint64_t issued_ = 0;
    std::uint64_t completed_ = 0;
    std::uint64_t wrong_ = 0;
    std::uint64_t window_start_ = 0;
    std::uint64_t window_end_ = 0;
};

// One client fiber's loop.
void client_loop(client_type client, load& ld, std::uint64_t id)
{
    for (std::uint64_t n = 0; ld.take(); ++n) {
        const value_type sent = request_value(id, n);
        const dx::result<value_type> r = client.request(sent);
        ld.record(r.has_value() && r.value() == sent);
    }
}

// Runs the load: `client_count` client fibers on this thread, joined before
// this returns.
// `flows`: each client sends at priority high in one of ten flows.
void run_clients(const client_type& client, load& ld, bool flows = false)
{
    std::vector<scoped_fiber> fs;
    fs.reserve(client_count);
    for (std::size_t id = 0; id != client_count; ++id)
        fs.emplace_back([&ld, c = flows ? client.with_priority(dx::priority::high).with_flow(id % 10) : client,
                         id]() mutable { client_loop(std::move(c), ld, id); });
}

// The checks shared by the W2 and W3 cases, made once everything ran.
void check_window(const load& ld)
{
    BOOST_TEST(ld.completed() == ld.total());
    BOOST_TEST(ld.wrong() == 0u);
    BOOST_TEST(ld.window_start() != 0u);  // the readings were taken
    BOOST_TEST(ld.window_end() != 0u);
    // The heart of it: not one allocation in 10 000 requests.
    BOOST_TEST(ld.window_end() == ld.window_start());
    BOOST_TEST_MESSAGE("allocations while " << measured_requests << " requests were answered: "
                                            << (ld.window_end() - ld.window_start()));
}

// Makes the table of pending requests as large as the load will need before
// the measurement: the table grows by chunks as the number of requests
// pending at once reaches new highs, and keeps them, so a warm channel is one
// that has already had as many requests pending as the load will have (one
// per client). Made before the responder runs, these requests are all
// pending at once (the queue holds them all). Construct before the responder
// runs, start it, then call wait().
class slot_table_warm_up {
public:
    explicit slot_table_warm_up(const client_type& client)
    {
        fibers_.reserve(client_count);
        for (std::size_t i = 0; i != client_count; ++i)
            fibers_.emplace_back([this, c = client, i]() mutable {
                ++submitting_;  // no fiber switch from here until request() has queued it
                if (c.request(request_value(client_count + i, 0)).has_value())
                    ++answered_;
            });
        // Lets each of them run up to its wait for the response.
        for (int round = 0; submitting_ != client_count && round != 1000; ++round)
            this_fiber::yield();
    }

    // All requests are pending at once (call before the responder runs).
    bool all_pending() const noexcept { return submitting_ == client_count; }

    // Waits for the answers (the responder runs by now); true if all came.
    bool wait()
    {
        fibers_.clear();  // joins
        return answered_ == client_count;
    }

private:
    std::size_t submitting_ = 0;
    std::size_t answered_ = 0;
    std::vector<scoped_fiber> fibers_;
};

}  // namespace

// ---------------------------------------------------------------------------
// W2: 64 client fibers and the responder on one thread
// ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(one_thread_client_fibers_allocate_nothing_per_request)
{
    if (!counting())
        return;
    watchdog wd;
    channel<value_type, value_type> ch;
    load ld(client_count);
    {
        slot_table_warm_up warm_up(*ch.client);
        BOOST_TEST_REQUIRE(warm_up.all_pending());
        runner run(*ch.responder, echo{}, dx::fixed_concurrency{});
        BOOST_TEST_REQUIRE(warm_up.wait());

        run_clients(*ch.client, ld);

        ch.responder->stop();
        BOOST_TEST_REQUIRE(run.wait_done());
        BOOST_TEST(run.result() == boost::system::error_code());
    }
    check_window(ld);
}

// The same with overload control, a priority and flows (see the Asio test
// of the same name).
BOOST_AUTO_TEST_CASE(one_thread_client_fibers_with_flows_and_overload_control_allocate_nothing_per_request)
{
    if (!counting())
        return;
    watchdog wd;
    dx::channel_options o;
    o.overload = dx::overload_options{.interval = std::chrono::milliseconds(0), .target = std::chrono::seconds(10)};
    channel<value_type, value_type> ch(o);
    load ld(client_count);
    {
        slot_table_warm_up warm_up(*ch.client);
        BOOST_TEST_REQUIRE(warm_up.all_pending());
        runner run(*ch.responder, echo{}, dx::fixed_concurrency{});
        BOOST_TEST_REQUIRE(warm_up.wait());

        run_clients(*ch.client, ld, true);

        BOOST_TEST(ch.responder->stats().shed == 0u);
        ch.responder->stop();
        BOOST_TEST_REQUIRE(run.wait_done());
        BOOST_TEST(run.result() == boost::system::error_code());
    }
    check_window(ld);
}

// ---------------------------------------------------------------------------
// W3: the client fibers on this thread, the responder on another
// ---------------------------------------------------------------------------

// The responder's run() blocks another thread's main context (its handler
// fibers run there); every response crosses threads.
BOOST_AUTO_TEST_CASE(cross_thread_client_fibers_allocate_nothing_per_request)
{
    if (!counting())
        return;
    watchdog wd;
    channel<value_type, value_type> ch;
    auto& responder = *ch.responder;
    load ld(client_count);
    bool run_ok = false;
    {
        slot_table_warm_up warm_up(*ch.client);
        BOOST_TEST_REQUIRE(warm_up.all_pending());
        // Joined below (this thread runs no fiber that thread waits for);
        // the watchdog ends the process if that never comes.
        std::thread responder_thread([&] { run_ok = responder.run(echo{}, dx::fixed_concurrency{}).has_value(); });
        const bool warmed = warm_up.wait();

        run_clients(*ch.client, ld);

        responder.stop();
        responder_thread.join();
        BOOST_TEST_REQUIRE(warmed);
    }
    BOOST_TEST(run_ok);
    check_window(ld);
}

// ---------------------------------------------------------------------------
// W4: one batch, concurrency 64
// ---------------------------------------------------------------------------

namespace {

// One batch on a warm channel and the allocations made from its call to its
// return (the returned vector included).
struct batch_run {
    std::uint64_t allocations = 0;
    bool correct = false;
};

batch_run run_batch(client_type& client, const std::vector<value_type>& requests)
{
    const std::uint64_t at_start = bench::allocations().count;
    dx::result<std::vector<value_type>> res = client.request_batch(requests, batch_concurrency);
    const std::uint64_t at_end = bench::allocations().count;
    batch_run out;
    out.allocations = at_end - at_start;
    out.correct = res.has_value() && res.value() == requests;
    return out;
}

std::vector<value_type> batch_requests(std::size_t n)
{
    std::vector<value_type> v(n);
    for (std::size_t i = 0; i != n; ++i)
        v[i] = request_value(7, i);
    return v;
}

}  // namespace

// After a warm-up batch, a batch of 20 000 allocates exactly as much as one of
// 10 000: its result vector and bookkeeping that follows the concurrency, and
// nothing per request. The batch is called from this thread's main context,
// the responder runs in a fiber here.
BOOST_AUTO_TEST_CASE(batch_allocations_do_not_grow_with_its_size)
{
    if (!counting())
        return;
    watchdog wd;
    channel<value_type, value_type> ch;
    const auto warm = batch_requests(10'000);
    const auto small = batch_requests(10'000);
    const auto large = batch_requests(20'000);
    batch_run w, s, l;
    {
        runner run(*ch.responder, echo{}, dx::fixed_concurrency{});
        w = run_batch(*ch.client, warm);
        s = run_batch(*ch.client, small);
        l = run_batch(*ch.client, large);
        ch.responder->stop();
        BOOST_TEST_REQUIRE(run.wait_done());
        BOOST_TEST(run.result() == boost::system::error_code());
    }
    BOOST_TEST(w.correct);
    BOOST_TEST(s.correct);
    BOOST_TEST(l.correct);
    BOOST_TEST(l.allocations == s.allocations);
    // A small constant: the result vectors, one record per concurrent request
    // (and its vector's growth). Not one per request.
    BOOST_TEST(s.allocations <= 2 * batch_concurrency + 32);
    BOOST_TEST_MESSAGE("allocations of a batch of 10 000: " << s.allocations << ", of 20 000: " << l.allocations
                                                            << " (warm-up batch: " << w.allocations << ")");
}
