//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 9 (handler failures) for the Fiber backend, and the two handler
// shapes: Response(Request) and result<Response>(Request) both work; a handler
// that throws (anything, std::bad_alloc included) yields handler_failed for
// that request and the responder keeps serving; an error_code the handler
// returns reaches the client unchanged (value and category).

#define BOOST_TEST_MODULE fiber_handler_failures
#include <boost/test/unit_test.hpp>

#include "common.hpp"
#include "../fragile.hpp"
#include "../throwing_limiter.hpp"

#include <boost/system/errc.hpp>

#include <new>
#include <stdexcept>
#include <string>

using namespace fiber_test;

namespace {

// An error category of the test's own, to check that the code arrives intact.
class test_category_impl : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "fiber_test"; }
    std::string message(int ev) const override { return "fiber_test error " + std::to_string(ev); }
};

const boost::system::error_category& test_category()
{
    static const test_category_impl cat;
    return cat;
}

}  // namespace

// Response(Request): the handler returns the response itself (or something
// convertible to it).
BOOST_AUTO_TEST_CASE(plain_response_handler)
{
    watchdog wd;
    channel<int, std::string> ch;
    runner run(*ch.responder, [](int v) { return std::to_string(v); }, dx::fixed_concurrency{2});
    auto r = ch.client->request(42);
    BOOST_TEST((r.has_value() && r.value() == "42"));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());

    channel<int, std::string> ch2;
    runner run2(*ch2.responder, [](int v) -> const char* { return v ? "yes" : "no"; }, dx::fixed_concurrency{1});
    auto y = ch2.client->request(1);
    BOOST_TEST((y.has_value() && y.value() == "yes"));
    ch2.client.reset();
    BOOST_TEST_REQUIRE(run2.wait_done());
}

// result<Response>(Request): values and errors both reach the client.
BOOST_AUTO_TEST_CASE(result_handler)
{
    watchdog wd;
    channel<int, std::string> ch;
    runner run(
        *ch.responder,
        [](int v) -> dx::result<std::string> {
            if (v < 0)
                return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
            return std::string(std::size_t(v), 'x');
        },
        dx::fixed_concurrency{2});
    auto ok = ch.client->request(3);
    BOOST_TEST((ok.has_value() && ok.value() == "xxx"));
    auto bad = ch.client->request(-1);
    BOOST_TEST(code_of(bad) == boost::system::errc::make_error_code(boost::system::errc::invalid_argument));
    const auto s = ch.responder->stats();
    BOOST_TEST(s.completed == 1u);
    BOOST_TEST(s.failed == 1u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// The handler's own error_code arrives unchanged: same value, same category
// object (a category of the test's own, a generic one, and even one of the
// library's own codes returned by the handler itself).
BOOST_AUTO_TEST_CASE(handler_error_code_is_delivered_unchanged)
{
    watchdog wd;
    channel<int, int> ch;
    runner run(
        *ch.responder,
        [](int v) -> dx::result<int> {
            switch (v) {
            case 0: return boost::system::error_code(1234, test_category());
            case 1: return boost::system::errc::make_error_code(boost::system::errc::timed_out);
            case 2: return dx::make_error_code(dx::error::queue_full);
            default: return boost::system::error_code(-7, test_category());
            }
        },
        dx::fixed_concurrency{1});
    const boost::system::error_code expected[] = {
        boost::system::error_code(1234, test_category()),
        boost::system::errc::make_error_code(boost::system::errc::timed_out),
        dx::make_error_code(dx::error::queue_full),
        boost::system::error_code(-7, test_category()),
    };
    for (int v = 0; v != 4; ++v) {
        auto r = ch.client->request(v);
        BOOST_TEST_REQUIRE(!r.has_value());
        BOOST_TEST(r.error() == expected[v]);
        BOOST_TEST(r.error().value() == expected[v].value());
        BOOST_TEST(&r.error().category() == &expected[v].category());
    }
    BOOST_TEST(ch.responder->stats().failed == 4u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Handlers that throw (a std::exception, std::bad_alloc, an int) in either
// shape: each such request gets handler_failed, the others their values, and
// the responder keeps serving long after.
BOOST_AUTO_TEST_CASE(throwing_handler_yields_handler_failed_and_the_responder_goes_on)
{
    watchdog wd;
    channel<int, int> ch;
    runner run(
        *ch.responder,
        [](int v) -> int {
            switch (v % 4) {
            case 1: throw std::runtime_error("runtime");
            case 2: throw std::bad_alloc();
            case 3: throw 42;
            default: return v;
            }
        },
        dx::fixed_concurrency{4});
    int values = 0, failed = 0, other = 0;
    {
        std::vector<scoped_fiber> fs;
        for (int f = 0; f != 4; ++f)
            fs.emplace_back([&, f] {
                for (int i = 0; i != 25; ++i) {
                    const int v = f * 100 + i;
                    auto r = ch.client->request(v);
                    if (v % 4 == 0 && r.has_value() && r.value() == v)
                        ++values;
                    else if (v % 4 != 0 && code_of(r) == code(dx::error::handler_failed))
                        ++failed;
                    else
                        ++other;
                }
            });
    }
    BOOST_TEST(values == 28);  // 4 fibers x 7 multiples of 4 in [0, 25)
    BOOST_TEST(failed == 72);
    BOOST_TEST(other == 0);
    const auto s = ch.responder->stats();
    BOOST_TEST(s.completed == 28u);
    BOOST_TEST(s.failed == 72u);
    auto after = ch.client->request(1000);
    BOOST_TEST((after.has_value() && after.value() == 1000));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(run.result() == boost::system::error_code());
}

// A result-shaped handler that throws is no different.
BOOST_AUTO_TEST_CASE(throwing_result_handler_yields_handler_failed)
{
    watchdog wd;
    channel<int, std::string> ch;
    runner run(
        *ch.responder,
        [](int v) -> dx::result<std::string> {
            if (v == 1)
                throw std::logic_error("no");
            this_fiber::yield();  // a handler may block its fiber before it throws
            if (v == 2)
                throw std::out_of_range("after a yield");
            return std::string("ok");
        },
        dx::fixed_concurrency{2});
    BOOST_TEST(code_of(ch.client->request(1)) == code(dx::error::handler_failed));
    BOOST_TEST(code_of(ch.client->request(2)) == code(dx::error::handler_failed));
    auto r = ch.client->request(3);
    BOOST_TEST((r.has_value() && r.value() == "ok"));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// In batches: a throwing handler fails a fail-fast batch with handler_failed,
// and is one handler_failed element of a settled batch.
BOOST_AUTO_TEST_CASE(throwing_handler_in_batches)
{
    watchdog wd;
    channel<int, int> ch;
    runner run(
        *ch.responder,
        [](int v) -> int {
            if (v == 3)
                throw std::runtime_error("three");
            return v;
        },
        dx::fixed_concurrency{2});
    auto ff = ch.client->request_batch(std::vector<int>{1, 2, 3, 4}, 1);
    BOOST_TEST(code_of(ff) == code(dx::error::handler_failed));
    auto st = ch.client->request_batch_settled(std::vector<int>{1, 2, 3, 4}, 4);
    BOOST_TEST_REQUIRE(st.size() == 4u);
    BOOST_TEST((st[0].has_value() && st[0].value() == 1));
    BOOST_TEST((st[1].has_value() && st[1].value() == 2));
    BOOST_TEST(code_of(st[2]) == code(dx::error::handler_failed));
    BOOST_TEST((st[3].has_value() && st[3].value() == 4));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// The handler object is called in place (by reference) for every
// invocation, so a stateful (mutable) handler keeps its state.
BOOST_AUTO_TEST_CASE(the_same_handler_object_serves_every_invocation)
{
    watchdog wd;
    channel<int, int> ch;
    runner run(
        *ch.responder, [calls = 0](int) mutable { return ++calls; }, dx::fixed_concurrency{1});
    for (int i = 1; i != 6; ++i) {
        auto r = ch.client->request(0);
        BOOST_TEST((r.has_value() && r.value() == i));
    }
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// A user limiter that throws: from limit() the last limit read stands, from
// on_start() and on_complete() the exception is ignored; the requests are
// answered as usual and nothing terminates.
using duplex_test_support::throwing_limiter;

BOOST_AUTO_TEST_CASE(a_throwing_user_limiter_is_contained)
{
    watchdog wd;
    int calls = 0;
    channel<int, int> ch;
    runner run(*ch.responder, [](int v) { return v * 2; }, throwing_limiter{&calls});
    for (int i = 0; i != 20; ++i)
        BOOST_TEST(ch.client->request(i).value() == i * 2);
    std::vector<int> many(50, 1);
    auto b = ch.client->request_batch(many, 8);
    BOOST_TEST_REQUIRE(b.has_value());
    BOOST_TEST(b.value() == std::vector<int>(50, 2));
    BOOST_TEST(calls > 3);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
    BOOST_TEST(run.result() == boost::system::error_code());
}

// A Request or Response whose move throws (std::bad_alloc) never terminates
// the program: whichever move throws (counted on both threads), the call
// throws it, or the request completes with its value or handler_failed;
// nothing else is disturbed, and the responder goes on.
BOOST_AUTO_TEST_CASE(values_whose_moves_throw_fail_their_own_request_only)
{
    using duplex_test_support::fragile;
    watchdog wd;
    for (int k = 1; k <= 10; ++k) {
        BOOST_TEST_CONTEXT("the move that throws: " << k)
        {
            channel<fragile, fragile> ch;
            runner run(*ch.responder, [](fragile f) { return fragile(f.v * 3); }, dx::fixed_concurrency{1});
            int escaped = 0;
            std::optional<dx::result<fragile>> got;
            fragile::arm(k);
            try {
                got.emplace(ch.client->request(fragile(7)));
            } catch (const std::bad_alloc&) {
                ++escaped;
            }
            fragile::arm(0);
            BOOST_TEST_REQUIRE((got.has_value() || escaped == 1));
            if (got)
                BOOST_TEST(duplex_test_support::is_value_or(*got, 21, dx::make_error_code(dx::error::handler_failed)));
            auto next = ch.client->request(fragile(5));
            BOOST_TEST_REQUIRE(next.has_value());
            BOOST_TEST(next.value().v == 15);
            ch.client.reset();
            BOOST_TEST_REQUIRE(run.wait_done());
        }
    }
}
