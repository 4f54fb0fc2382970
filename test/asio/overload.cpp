//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Priorities, flows and overload control (API.md, second edition), Asio
// backend: the taking order, displacement from a full queue, shedding while
// overloaded (promptly, long before the deadline, while the handler is busy),
// adaptive LIFO, and what the limiter and the counters hear of it all.

#define BOOST_TEST_MODULE asio_overload
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/duplex/asio.hpp>
#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/priority.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

using namespace duplex_test;
using dx::priority;

namespace {

// A limiter that counts what it is told.
struct counting_limiter {
    std::size_t* told;
    std::size_t limit() const { return 1; }
    void on_complete(std::chrono::nanoseconds, bool) { ++*told; }
};

}  // namespace

BOOST_AUTO_TEST_CASE(queued_requests_are_handled_highest_priority_first)
{
    net::io_context io;
    auto [client, responder] = dx::make_asio_channel<int, int>(io.get_executor(), options(10s));
    std::vector<int> handled;
    std::array<outcome, 5> out;
    // Queued before the run starts, so the queue stands when it takes.
    client.with_priority(priority::low).async_request(0, record(out[0]));
    client.async_request(1, record(out[1]));  // normal
    client.with_priority(priority::critical).async_request(2, record(out[2]));
    client.with_priority(priority::high).async_request(3, record(out[3]));
    client.with_priority(priority::critical).async_request(4, record(out[4]));
    responder.async_run([&](int x) { handled.push_back(x); return x; }, dx::fixed_concurrency{1},
                        [](dx::result<void>) {});
    BOOST_TEST(run_until(io, [&] { return all_done(out); }));
    BOOST_TEST(handled == (std::vector<int>{2, 4, 3, 1, 0}), boost::test_tools::per_element());
    for (int i = 0; i != 5; ++i)
        BOOST_TEST(out[i].holds(i));
    BOOST_TEST((client.get_priority() == priority::normal));  // copies leave the original as it was
    responder.stop();
    io.run();
}

BOOST_AUTO_TEST_CASE(flows_of_equal_priority_take_turns_and_with_flow_keeps_the_priority)
{
    net::io_context io;
    auto [client, responder] = dx::make_asio_channel<int, int>(io.get_executor(), options(10s));
    auto flooder = client.with_priority(priority::high).with_flow(1);
    auto quiet = flooder.with_flow(2);
    BOOST_TEST((quiet.get_priority() == priority::high));
    BOOST_TEST(quiet.get_flow() == 2u);
    BOOST_TEST(flooder.get_flow() == 1u);
    auto other = quiet.with_flow(3).with_priority(priority::high);
    BOOST_TEST(other.get_flow() == 3u);  // with_priority keeps the flow
    std::vector<int> handled;
    std::array<outcome, 6> out;
    flooder.async_request(10, record(out[0]));
    flooder.async_request(11, record(out[1]));
    flooder.async_request(12, record(out[2]));
    quiet.async_request(20, record(out[3]));
    quiet.async_request(21, record(out[4]));
    other.async_request(30, record(out[5]));
    responder.async_run([&](int x) { handled.push_back(x); return x; }, dx::fixed_concurrency{1},
                        [](dx::result<void>) {});
    BOOST_TEST(run_until(io, [&] { return all_done(out); }));
    BOOST_TEST(handled == (std::vector<int>{10, 20, 30, 11, 21, 12}), boost::test_tools::per_element());
    responder.stop();
    io.run();
}

BOOST_AUTO_TEST_CASE(a_full_queue_lets_a_higher_priority_displace_the_newest_lowest_at_once)
{
    net::io_context io;
    auto o = options(10s, 2);
    o.on_full = dx::overflow::reject;
    auto [client, responder] = dx::make_asio_channel<int, int>(io.get_executor(), o);
    std::array<outcome, 4> out;
    client.with_priority(priority::low).async_request(0, record(out[0]));
    client.with_priority(priority::low).async_request(1, record(out[1]));
    client.with_priority(priority::low).async_request(2, record(out[2]));   // equal: queue_full
    client.with_priority(priority::normal).async_request(3, record(out[3]));  // displaces 1
    BOOST_TEST(run_until(io, [&] { return out[1].done() && out[2].done(); }));
    BOOST_TEST(out[1].is(dx::error::overloaded));
    BOOST_TEST(out[2].is(dx::error::queue_full));
    BOOST_TEST(responder.stats().shed == 1u);
    std::vector<int> handled;
    responder.async_run([&](int x) { handled.push_back(x); return x; }, dx::fixed_concurrency{1},
                        [](dx::result<void>) {});
    BOOST_TEST(run_until(io, [&] { return all_done(out); }));
    BOOST_TEST(handled == (std::vector<int>{3, 0}), boost::test_tools::per_element());
    const auto st = responder.stats();
    BOOST_TEST(st.shed == 1u);
    BOOST_TEST(st.completed == 2u);
    BOOST_TEST(st.cancelled == 0u);
    BOOST_TEST(st.timed_out == 0u);
    responder.stop();
    io.run();
}

BOOST_AUTO_TEST_CASE(while_overloaded_requests_waiting_past_the_target_are_shed_promptly_and_never_handled)
{
    net::io_context io;
    auto o = options(10s);
    o.overload = dx::overload_options{.interval = 20ms, .target = 5ms};
    auto [client, responder] = dx::make_asio_channel<int, int>(io.get_executor(), o);
    gate g;
    std::vector<int> handled;
    std::size_t told = 0;
    bool run_done = false;
    responder.async_run(
        [&](int x) -> net::awaitable<int> {
            handled.push_back(x);
            if (x == 0)
                co_await g.wait();  // holds the only place in flight: the queue stands
            co_return x;
        },
        counting_limiter{&told}, [&](dx::result<void>) { run_done = true; });
    outcome first;
    client.async_request(0, record(first));
    BOOST_TEST(run_until(io, [&] { return handled.size() == 1; }));
    std::array<outcome, 4> out;
    for (int i = 0; i != 4; ++i)
        client.async_request(i + 1, record(out[i]));
    // Each is shed once the queue has stood for the interval and it has
    // waited longer than the target: within a few milliseconds of that, not
    // at its deadline 10 s away, while the handler still holds the responder.
    BOOST_TEST(run_until(io, [&] { return all_done(out); }, 5s));
    for (auto& x : out) {
        BOOST_TEST(x.is(dx::error::overloaded));
        BOOST_TEST(x.elapsed() < 2s);  // generous: expected about 25 ms
        BOOST_TEST(x.elapsed() >= 10ms);  // not before the queue stood for the interval (less the submissions' spread)
    }
    BOOST_TEST(!first.done());
    g.open();
    BOOST_TEST(run_until(io, [&] { return first.done(); }));
    BOOST_TEST(first.holds(0));
    BOOST_TEST(handled == std::vector<int>{0}, boost::test_tools::per_element());
    const auto st = responder.stats();
    BOOST_TEST(st.shed == 4u);
    BOOST_TEST(st.completed == 1u);
    BOOST_TEST(st.timed_out == 0u);
    BOOST_TEST(told == 1u);  // the limiter hears nothing of shed requests
    responder.stop();
    BOOST_TEST(run_until(io, [&] { return run_done; }));
}

BOOST_AUTO_TEST_CASE(with_lifo_an_overloaded_responder_takes_the_newest_first)
{
    net::io_context io;
    auto o = options(10s);
    o.overload = dx::overload_options{.interval = 1ms, .target = 10s, .shed = false, .lifo = true};
    auto [client, responder] = dx::make_asio_channel<int, int>(io.get_executor(), o);
    gate g;
    std::vector<int> handled;
    responder.async_run(
        [&](int x) -> net::awaitable<int> {
            handled.push_back(x);
            if (x == 0)
                co_await g.wait();
            co_return x;
        },
        dx::fixed_concurrency{1}, [](dx::result<void>) {});
    outcome first;
    client.async_request(0, record(first));
    BOOST_TEST(run_until(io, [&] { return handled.size() == 1; }));
    std::array<outcome, 3> out;
    for (int i = 0; i != 3; ++i)
        client.async_request(i + 1, record(out[i]));
    // The queue must stand for the interval: that is the condition itself.
    net::steady_timer t(io, 50ms);
    bool waited = false;
    t.async_wait([&](boost::system::error_code) { waited = true; });
    BOOST_TEST(run_until(io, [&] { return waited; }));
    g.open();
    BOOST_TEST(run_until(io, [&] { return all_done(out) && first.done(); }));
    BOOST_TEST(handled == (std::vector<int>{0, 3, 2, 1}), boost::test_tools::per_element());
    BOOST_TEST(responder.stats().shed == 0u);
    responder.stop();
    io.run();
}

BOOST_AUTO_TEST_CASE(below_capacity_overload_control_sheds_nothing)
{
    net::io_context io;
    auto o = options(10s);
    o.overload = dx::overload_options{};
    auto channel = dx::make_asio_channel<int, int>(io.get_executor(), o);
    auto& client = channel.first;  // (clang 14 cannot capture a structured binding)
    auto& responder = channel.second;
    responder.async_run([](int x) { return x + 1; }, dx::fixed_concurrency{4}, [](dx::result<void>) {});
    std::array<outcome, 200> out;
    int next = 0;
    // One after another: the queue never stands.
    std::function<void()> send = [&] {
        if (next == static_cast<int>(out.size()))
            return;
        const int i = next++;
        client.async_request(i, [&, h = record(out[static_cast<std::size_t>(i)])](dx::result<int> r) mutable {
            h(std::move(r));
            send();
        });
    };
    send();
    BOOST_TEST(run_until(io, [&] { return all_done(out); }));
    for (int i = 0; i != static_cast<int>(out.size()); ++i)
        BOOST_TEST(out[static_cast<std::size_t>(i)].holds(i + 1));
    BOOST_TEST(responder.stats().shed == 0u);
    responder.stop();
    io.run();
}

BOOST_AUTO_TEST_CASE(batches_carry_the_client_s_priority)
{
    net::io_context io;
    auto [client, responder] = dx::make_asio_channel<int, int>(io.get_executor(), options(10s));
    std::vector<int> handled;
    std::optional<dx::result<std::vector<int>>> low, high;
    client.with_priority(priority::low).async_request_batch(std::vector<int>{1, 2}, 2,
                                                           [&](dx::result<std::vector<int>> r) { low.emplace(std::move(r)); });
    client.with_priority(priority::high).async_request_batch(std::vector<int>{3, 4}, 2,
                                                            [&](dx::result<std::vector<int>> r) { high.emplace(std::move(r)); });
    poll(io);  // the batches submit their requests
    responder.async_run([&](int x) { handled.push_back(x); return x; }, dx::fixed_concurrency{1},
                        [](dx::result<void>) {});
    BOOST_TEST(run_until(io, [&] { return low && high; }));
    BOOST_TEST(handled == (std::vector<int>{3, 4, 1, 2}), boost::test_tools::per_element());
    BOOST_TEST(low->has_value());
    BOOST_TEST(high->has_value());
    responder.stop();
    io.run();
}
