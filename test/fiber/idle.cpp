//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// An idle channel costs nothing: a running responder with no request pending
// uses no CPU worth measuring, whatever the channel's default timeout,
// including the degenerate ones (zero, negative, a microsecond).

#define BOOST_TEST_MODULE fiber_idle
#include <boost/test/unit_test.hpp>

#include "common.hpp"
#include "../cpu_time.hpp"

using namespace fiber_test;

namespace {

using duplex_test_support::thread_cpu_seconds;

void check_idle(duration default_timeout)
{
    channel<int, int> ch(dx::channel_options{8, default_timeout, dx::overflow::wait});
    runner run(*ch.responder, [](int v) { return v; }, dx::fixed_concurrency{4});
    (void)ch.client->request(1);  // the default timeout (may time out at once)
    BOOST_TEST(ch.client->request(2, 10s).value() == 2);

    this_fiber::sleep_for(20ms);
    const double cpu0 = thread_cpu_seconds();
    this_fiber::sleep_for(500ms);  // the responder sits idle meanwhile (the time is what is measured)
    const double cpu = thread_cpu_seconds() - cpu0;
    BOOST_TEST(cpu < 0.1, cpu << " s of CPU in 500 ms of idleness");

    BOOST_TEST(ch.client->request(3, 10s).value() == 3);  // still serving
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_idle_channel_with_a_degenerate_default_timeout_does_not_spin)
{
    watchdog wd;
    for (duration t : {duration::zero(), duration(-std::chrono::milliseconds(5)), duration(std::chrono::microseconds(1))}) {
        BOOST_TEST_CONTEXT("default timeout " << seconds(t) << " s")
        check_idle(t);
    }
}

BOOST_AUTO_TEST_CASE(an_idle_channel_with_an_ordinary_default_timeout_does_not_spin)
{
    watchdog wd;
    check_idle(std::chrono::milliseconds(50));
    check_idle(std::chrono::seconds(2));
}
