//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// An idle channel costs nothing: a running responder with no request pending
// runs no handler on its io_context (beyond a bounded few) and uses no CPU
// worth measuring, whatever the channel's default timeout, including the
// degenerate ones (zero, negative, a microsecond), which once made the
// deadline timer re-arm itself at "now + timeout" for ever.

#define BOOST_TEST_MODULE asio_idle
#include <boost/test/unit_test.hpp>

#include "common.hpp"
#include "../cpu_time.hpp"

#include <boost/duplex/asio.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>

using namespace duplex_test;

namespace {

using duplex_test_support::thread_cpu_seconds;

using duration = clock_type::duration;

// Serves one request (with the channel's default timeout, and one with its
// own), then lets the responder sit idle for 500 ms and counts the handlers
// the io_context ran meanwhile and the CPU time the thread used.
void check_idle(duration default_timeout)
{
    net::io_context io;
    dx::channel_options opts;
    opts.timeout = default_timeout;
    auto ch = dx::make_asio_channel<int, int>(io.get_executor(), opts);
    auto& client = ch.first;
    auto& responder = ch.second;
    responder.async_run([](int v) { return v; }, dx::fixed_concurrency{4}, net::detached);

    outcome a, b;
    client.async_request(1, record(a));       // the default timeout (may time out at once)
    client.async_request(2, 10s, record(b));  // served
    BOOST_TEST_REQUIRE(run_until(io, [&] { return a.done() && b.done(); }));
    BOOST_TEST(b.holds(2));

    // Let whatever the request left behind settle, then measure the idle time.
    io.run_for(std::chrono::milliseconds(20));
    const double cpu0 = thread_cpu_seconds();
    const std::size_t handlers = io.run_for(std::chrono::milliseconds(500));
    const double cpu = thread_cpu_seconds() - cpu0;
    BOOST_TEST(handlers <= 5u, handlers << " handlers ran in 500 ms of idleness");
    BOOST_TEST(cpu < 0.1, cpu << " s of CPU in 500 ms of idleness");

    // Still serving after the idle time.
    outcome c;
    client.async_request(3, 10s, record(c));
    BOOST_TEST_REQUIRE(run_until(io, [&] { return c.done(); }));
    BOOST_TEST(c.holds(3));
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_idle_channel_with_a_zero_default_timeout_does_not_spin)
{
    check_idle(duration::zero());
}

BOOST_AUTO_TEST_CASE(an_idle_channel_with_a_negative_default_timeout_does_not_spin)
{
    check_idle(-std::chrono::milliseconds(5));
}

BOOST_AUTO_TEST_CASE(an_idle_channel_with_a_one_microsecond_default_timeout_does_not_spin)
{
    check_idle(std::chrono::microseconds(1));
}

BOOST_AUTO_TEST_CASE(an_idle_channel_with_an_ordinary_default_timeout_does_not_spin)
{
    check_idle(std::chrono::milliseconds(50));
    check_idle(std::chrono::seconds(2));
}
