//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 11 (destruction), Asio backend: destroying an asio_responder while
// its async_run is pending closes every pending request (queued or in flight)
// with error::closed at once, drops late handler results and completes the
// run; moved-from objects are harmless; move assignment closes the old channel.

#define BOOST_TEST_MODULE asio_destruction
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/duplex/asio.hpp>
#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

using namespace duplex_test;

namespace {

using steady = std::chrono::steady_clock;

// Holds handler invocations until released; the holds ignore cancellation, so
// that a handler ends only when the test says (its result is then "late").
class holds {
public:
    net::awaitable<void> hold(int id)
    {
        auto e = std::make_shared<entry>(co_await net::this_coro::executor);
        entries_[id] = e;
        co_await e->timer.async_wait(net::bind_cancellation_slot(net::cancellation_slot(), net::as_tuple(net::use_awaitable)));
        e->done = true;
    }

    std::size_t holding() const
    {
        std::size_t n = 0;
        for (auto& [id, e] : entries_)
            n += e->done ? 0 : 1;
        return n;
    }

    bool holding(int id) const
    {
        auto it = entries_.find(id);
        return it != entries_.end() && !it->second->done;
    }

    void release(int id) { entries_.at(id)->timer.cancel(); }

    void release_all()
    {
        for (auto& [id, e] : entries_)
            e->timer.cancel();
    }

private:
    struct entry {
        explicit entry(const net::any_io_executor& ex) : timer(ex, steady::time_point::max()) {}
        net::steady_timer timer;
        bool done = false;
    };
    std::map<int, std::shared_ptr<entry>> entries_;
};

using client_t = dx::asio_client<int, int>;
using responder_t = dx::asio_responder<int, int>;

// One result per request, counting how often each completion ran.
struct results {
    std::vector<int> calls;
    std::vector<std::optional<dx::result<int>>> got;
    int answered = 0;

    auto handler(std::size_t i)
    {
        if (i >= got.size()) {
            got.resize(i + 1);
            calls.resize(i + 1);
        }
        return [this, i](dx::result<int> r) {
            ++calls[i];
            ++answered;
            got[i].emplace(std::move(r));
        };
    }
};

}  // namespace

// Queued and in-flight requests all complete with closed at once (long before
// their 30 s deadline), the run completes with closed, and the handlers'
// results arriving later are dropped.
BOOST_AUTO_TEST_CASE(destroying_responder_during_run_closes_queued_and_in_flight_at_once)
{
    net::io_context ctx;
    holds h;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    std::optional<responder_t> responder(std::move(ch.second));

    int ended = 0;
    std::optional<dx::result<void>> run;
    responder->async_run(
        [&](int x) -> net::awaitable<int> {
            co_await h.hold(x);
            ++ended;
            co_return x;
        },
        dx::fixed_concurrency{2}, [&](dx::result<void> r) { run.emplace(std::move(r)); });

    results res;
    for (int i = 0; i < 5; ++i)
        client.async_request(i, res.handler(static_cast<std::size_t>(i)));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return h.holding() == 2; }));
    BOOST_TEST(responder->stats().queued == 3u);

    const auto t0 = steady::now();
    responder.reset();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return res.answered == 5 && run.has_value(); }));
    BOOST_TEST((steady::now() - t0 < 1s));
    for (auto& r : res.got)
        BOOST_TEST(failed_with(*r, dx::error::closed));
    BOOST_TEST(failed_with(*run, dx::error::closed));
    BOOST_TEST(h.holding() == 2u);  // the handlers did not have to end first

    // New requests are closed too.
    client.async_request(9, res.handler(5));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return res.answered == 6; }));
    BOOST_TEST(failed_with(*res.got[5], dx::error::closed));

    // The handlers end later; their results are dropped.
    h.release_all();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return ended == 2; }));
    poll(ctx);
    for (int c : res.calls)
        BOOST_TEST(c == 1);
}

// The same with a synchronous handler: queued requests and the run close at once.
BOOST_AUTO_TEST_CASE(destroying_idle_responder_during_run_completes_run_with_closed)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    std::optional<responder_t> responder(std::move(ch.second));
    std::optional<dx::result<void>> run;
    responder->async_run([](int x) { return x; }, dx::fixed_concurrency{1},
                         [&](dx::result<void> r) { run.emplace(std::move(r)); });
    results res;
    ch.first.async_request(1, res.handler(0));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return res.answered == 1; }));
    BOOST_TEST(holds_value(*res.got[0], 1));
    responder.reset();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
    BOOST_TEST(failed_with(*run, dx::error::closed));
}

// The responder destroyed by its own (synchronous) handler.
BOOST_AUTO_TEST_CASE(destroying_responder_from_inside_its_sync_handler)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    std::optional<responder_t> responder(std::move(ch.second));

    std::vector<int> handled;
    std::optional<dx::result<void>> run;
    responder->async_run(
        [&](int x) {
            handled.push_back(x);
            if (x == 1)
                responder.reset();
            return x + 100;
        },
        dx::fixed_concurrency{1}, [&](dx::result<void> r) { run.emplace(std::move(r)); });
    results res;
    for (int i = 0; i < 4; ++i)
        client.async_request(i, res.handler(static_cast<std::size_t>(i)));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return res.answered == 4 && run.has_value(); }));
    BOOST_TEST(!responder.has_value());
    BOOST_TEST(holds_value(*res.got[0], 100));
    BOOST_TEST(failed_with(*res.got[1], dx::error::closed));  // its own result came too late
    BOOST_TEST(failed_with(*res.got[2], dx::error::closed));
    BOOST_TEST(failed_with(*res.got[3], dx::error::closed));
    BOOST_TEST(failed_with(*run, dx::error::closed));
    BOOST_TEST((handled == std::vector<int>{0, 1}));
    poll(ctx);
    for (int c : res.calls)
        BOOST_TEST(c == 1);
}

// The responder destroyed by one of its coroutine handlers while others are
// suspended: those (in flight), the destroying one and a queued one all close.
BOOST_AUTO_TEST_CASE(destroying_responder_from_inside_its_awaitable_handler)
{
    net::io_context ctx;
    holds h;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    std::optional<responder_t> responder(std::move(ch.second));

    int ended = 0;
    std::optional<dx::result<void>> run;
    responder->async_run(
        [&](int x) -> net::awaitable<int> {
            if (x == 3) {
                co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
                responder.reset();
                co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
            } else {
                co_await h.hold(x);
            }
            ++ended;
            co_return x;
        },
        dx::fixed_concurrency{3}, [&](dx::result<void> r) { run.emplace(std::move(r)); });
    results res;
    for (int i = 0; i < 5; ++i)
        client.async_request(i, res.handler(static_cast<std::size_t>(i)));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return h.holding() == 3; }));
    BOOST_TEST_REQUIRE(responder.has_value());
    BOOST_TEST(responder->stats().queued == 2u);
    BOOST_TEST_REQUIRE(res.answered == 0);

    h.release(0);  // 0 is answered; 3 starts and destroys the responder
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return res.answered == 5 && run.has_value(); }));
    BOOST_TEST(!responder.has_value());
    BOOST_TEST(holds_value(*res.got[0], 0));
    BOOST_TEST(failed_with(*res.got[1], dx::error::closed));  // in flight, held
    BOOST_TEST(failed_with(*res.got[2], dx::error::closed));  // in flight, held
    BOOST_TEST(failed_with(*res.got[3], dx::error::closed));  // the destroyer's own result comes too late
    BOOST_TEST(failed_with(*res.got[4], dx::error::closed));  // queued
    BOOST_TEST(failed_with(*run, dx::error::closed));
    BOOST_TEST(h.holding(1));
    BOOST_TEST(h.holding(2));
    h.release_all();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return ended == 4; }));
    poll(ctx);
    for (int c : res.calls)
        BOOST_TEST(c == 1);
}

// Destroyed before its run ever started: queued requests (and one waiting for room) close at once.
BOOST_AUTO_TEST_CASE(destroying_responder_before_run_started_closes_queued_requests)
{
    net::io_context ctx;
    dx::channel_options opts = options(30s, 2);
    opts.on_full = dx::overflow::wait;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), opts);
    auto& client = ch.first;
    std::optional<responder_t> responder(std::move(ch.second));
    results res;
    for (int i = 0; i < 3; ++i)
        client.async_request(i, res.handler(static_cast<std::size_t>(i)));
    poll(ctx);
    BOOST_TEST(responder->stats().queued == 2u);  // the third waits for room
    BOOST_TEST(res.answered == 0);
    const auto t0 = steady::now();
    responder.reset();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return res.answered == 3; }));
    BOOST_TEST((steady::now() - t0 < 1s));
    for (auto& r : res.got)
        BOOST_TEST(failed_with(*r, dx::error::closed));
    poll(ctx);
    for (int c : res.calls)
        BOOST_TEST(c == 1);
}

// Pending batches close with the responder too.
BOOST_AUTO_TEST_CASE(destroying_responder_closes_pending_batches)
{
    net::io_context ctx;
    holds h;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    std::optional<responder_t> responder(std::move(ch.second));
    std::optional<dx::result<void>> run;
    responder->async_run(
        [&](int x) -> net::awaitable<int> {
            co_await h.hold(x);
            co_return x;
        },
        dx::fixed_concurrency{2}, [&](dx::result<void> r) { run.emplace(std::move(r)); });

    std::optional<dx::result<std::vector<int>>> batch;
    std::optional<std::vector<dx::result<int>>> settled;
    client.async_request_batch(std::vector<int>{1, 2, 3}, 3, [&](dx::result<std::vector<int>> r) { batch.emplace(std::move(r)); });
    client.async_request_batch_settled(std::vector<int>{4, 5}, 2, [&](std::vector<dx::result<int>> r) { settled.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return h.holding() == 2; }));
    const auto t0 = steady::now();
    responder.reset();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return batch && settled && run; }));
    BOOST_TEST((steady::now() - t0 < 1s));
    BOOST_TEST(failed_with(*batch, dx::error::closed));
    BOOST_TEST_REQUIRE(settled->size() == 2u);
    BOOST_TEST(failed_with((*settled)[0], dx::error::closed));
    BOOST_TEST(failed_with((*settled)[1], dx::error::closed));
    h.release_all();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return h.holding() == 0; }));
    poll(ctx);
}

// The io_context is destroyed after the responder and client, without running
// again (e.g. after ctx.stop()), while the run is pending: as with any Asio
// operation, the pending run's handlers are destroyed with the io_context
// rather than leaked.
BOOST_AUTO_TEST_CASE(io_context_destroyed_with_pending_run_frees_its_handlers)
{
    auto witness = std::make_shared<int>(0);
    bool invoked = false;
    {
        net::io_context ctx;
        {
            auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
            ch.second.async_run([witness](int x) { return x; }, dx::fixed_concurrency{2},
                                [witness](dx::result<void>) {});
            ch.first.async_request(1, [witness, &invoked](dx::result<int>) { invoked = true; });
            BOOST_TEST(witness.use_count() > 1);
        }
    }
    BOOST_TEST(witness.use_count() == 1);  // nothing of the run is left behind
    BOOST_TEST(!invoked);                  // destroyed, never invoked: the io_context never ran it
}

// The same with coroutine handlers suspended when the io_context goes: no
// crash, and their frames and the run are freed.
BOOST_AUTO_TEST_CASE(io_context_destroyed_with_suspended_handlers_frees_them)
{
    auto witness = std::make_shared<int>(0);
    {
        net::io_context ctx;
        {
            auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
            auto started = std::make_shared<int>(0);
            ch.second.async_run(
                [started, witness](int x) -> net::awaitable<int> {
                    auto keep = witness;
                    ++*started;
                    net::steady_timer forever(co_await net::this_coro::executor, steady::time_point::max());
                    co_await forever.async_wait(net::use_awaitable);
                    co_return x;
                },
                dx::fixed_concurrency{2}, net::detached);
            for (int i = 0; i < 3; ++i)
                ch.first.async_request(i, [](dx::result<int>) {});
            BOOST_TEST_REQUIRE(run_until(ctx, [&] { return *started == 2; }));
        }
        BOOST_TEST(witness.use_count() > 1);
    }
    BOOST_TEST(witness.use_count() == 1);
}

// A moved-from responder or client may be destroyed (or assigned to) harmlessly.
BOOST_AUTO_TEST_CASE(moved_from_responder_and_client_destruction_is_harmless)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    std::optional<responder_t> r1(std::move(ch.second));
    std::optional<client_t> c1(std::move(ch.first));

    responder_t r2(std::move(*r1));
    r1.reset();  // moved-from: nothing happens
    std::optional<client_t> c2(std::move(*c1));
    c1.reset();  // moved-from: not counted as a client going away

    std::optional<dx::result<void>> run;
    r2.async_run([](int x) { return x * 2; }, dx::fixed_concurrency{2}, [&](dx::result<void> r) { run.emplace(std::move(r)); });
    results res;
    c2->async_request(21, res.handler(0));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return res.answered == 1; }));
    BOOST_TEST(holds_value(*res.got[0], 42));
    poll(ctx);
    BOOST_TEST(!run.has_value());  // the run goes on: a client is still there

    // A moved-from client may be assigned to, and then used.
    client_t c3(std::move(*c2));
    *c2 = c3;
    c2->async_request(5, res.handler(1));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return res.answered == 2; }));
    BOOST_TEST(holds_value(*res.got[1], 10));

    // Once every real client is gone, the run ends with success.
    c2.reset();
    { auto gone = std::move(c3); }
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
    BOOST_TEST(run->has_value());
}

// Moving a responder into another closes the channel the target had: its
// requests close at once and its run completes with closed; the target then
// drives the new channel.
BOOST_AUTO_TEST_CASE(responder_move_assignment_closes_the_old_channel)
{
    net::io_context ctx;
    holds h;
    auto a = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto b = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));

    std::optional<dx::result<void>> run_a;
    a.second.async_run(
        [&](int x) -> net::awaitable<int> {
            co_await h.hold(x);
            co_return x;
        },
        dx::fixed_concurrency{1}, [&](dx::result<void> r) { run_a.emplace(std::move(r)); });
    results ra, rb;
    a.first.async_request(1, ra.handler(0));  // in flight
    a.first.async_request(2, ra.handler(1));  // queued
    b.first.async_request(3, rb.handler(0));  // queued on b, not yet served
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return h.holding(1); }));

    const auto t0 = steady::now();
    a.second = std::move(b.second);
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return ra.answered == 2 && run_a.has_value(); }));
    BOOST_TEST((steady::now() - t0 < 1s));
    BOOST_TEST(failed_with(*ra.got[0], dx::error::closed));
    BOOST_TEST(failed_with(*ra.got[1], dx::error::closed));
    BOOST_TEST(failed_with(*run_a, dx::error::closed));
    BOOST_TEST(rb.answered == 0);  // b's channel is untouched

    // a.second now drives b's channel.
    std::optional<dx::result<void>> run_b;
    a.second.async_run([](int x) { return x * 7; }, dx::fixed_concurrency{1}, [&](dx::result<void> r) { run_b.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return rb.answered == 1; }));
    BOOST_TEST(holds_value(*rb.got[0], 21));
    a.second.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run_b.has_value(); }));
    BOOST_TEST(run_b->has_value());

    h.release_all();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return h.holding() == 0; }));
    poll(ctx);
    for (int c : ra.calls)
        BOOST_TEST(c == 1);
}

// Assigning over the last client of a channel lets its run end (with success,
// once its accepted requests are answered).
BOOST_AUTO_TEST_CASE(client_move_assignment_releases_the_old_channel)
{
    net::io_context ctx;
    auto a = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto b = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    std::optional<dx::result<void>> run_a;
    a.second.async_run([](int x) { return x + 1; }, dx::fixed_concurrency{1}, [&](dx::result<void> r) { run_a.emplace(std::move(r)); });
    results ra;
    a.first.async_request(1, ra.handler(0));
    a.first = std::move(b.first);  // a's last client goes; its request is still answered
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return ra.answered == 1 && run_a.has_value(); }));
    BOOST_TEST(holds_value(*ra.got[0], 2));
    BOOST_TEST(run_a->has_value());

    // Copy assignment too: b keeps one client (a.first) after its other copy is replaced.
    std::optional<dx::result<void>> run_b;
    b.second.async_run([](int x) { return x; }, dx::fixed_concurrency{1}, [&](dx::result<void> r) { run_b.emplace(std::move(r)); });
    auto c = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    client_t copy = a.first;
    copy = c.first;  // b still has a.first
    poll(ctx);
    BOOST_TEST(!run_b.has_value());
    results rb;
    a.first.async_request(9, rb.handler(0));
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return rb.answered == 1; }));
    BOOST_TEST(holds_value(*rb.got[0], 9));
    a.first = c.first;  // now b's last client is gone
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run_b.has_value(); }));
    BOOST_TEST(run_b->has_value());
}
