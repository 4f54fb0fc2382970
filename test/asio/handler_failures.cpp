//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 9 (handler failures), Asio backend: every handler shape works; a
// throwing handler yields error::handler_failed for that request and the
// responder keeps serving; a handler's own error_code reaches the client
// unchanged; stats().failed counts both.

#define BOOST_TEST_MODULE asio_handler_failures
#include <boost/test/unit_test.hpp>

#include "common.hpp"
#include "../fragile.hpp"
#include "../throwing_limiter.hpp"

#include <boost/duplex/asio.hpp>
#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_category.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace duplex_test;

namespace {

using steady = std::chrono::steady_clock;

// A category of the user's own, to check codes are not translated.
class custom_category_impl : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "test.custom"; }
    std::string message(int ev) const override { return "custom error " + std::to_string(ev); }
};

const boost::system::error_category& custom_category()
{
    static const custom_category_impl cat;
    return cat;
}

boost::system::error_code custom_error(int v) { return boost::system::error_code(v, custom_category()); }

boost::system::error_code permission_denied()
{
    return boost::system::errc::make_error_code(boost::system::errc::permission_denied);
}

struct not_a_std_exception {
    int code;
};

// Requests understood by every test handler below.
enum : int {
    throw_std = -1,      // throws std::runtime_error
    throw_other = -2,    // throws an int
    throw_custom = -3,   // throws a type not derived from std::exception
    fail_errc = -10,     // returns permission_denied (result shapes only)
    fail_custom = -11,   // returns custom_error(42) (result shapes only)
    fail_duplex = -12,   // returns error::closed as its own code (result shapes only)
};

int value_for(int x)
{
    switch (x) {
    case throw_std: throw std::runtime_error("handler failure");
    case throw_other: throw 42;
    case throw_custom: throw not_a_std_exception{7};
    default: return x * 3;
    }
}

dx::result<int> result_for(int x)
{
    switch (x) {
    case fail_errc: return permission_denied();
    case fail_custom: return custom_error(42);
    case fail_duplex: return dx::make_error_code(dx::error::closed);
    default: return value_for(x);
    }
}

// Sends `requests` one by one (limit 1) and returns the results in order.
template <class Handler>
std::vector<dx::result<int>> serve(Handler handler, const std::vector<int>& requests, dx::responder_stats* stats_out = nullptr)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;

    std::optional<dx::result<void>> run;
    responder.async_run(std::move(handler), dx::fixed_concurrency{1},
                        [&](dx::result<void> r) { run.emplace(std::move(r)); });
    std::vector<std::optional<dx::result<int>>> results(requests.size());
    std::size_t answered = 0;
    for (std::size_t i = 0; i < requests.size(); ++i)
        client.async_request(requests[i], [&, i](dx::result<int> r) {
            results[i].emplace(std::move(r));
            ++answered;
        });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return answered == requests.size(); }));
    // The responder still serves after all of that.
    std::optional<dx::result<int>> last;
    client.async_request(5, [&](dx::result<int> r) { last.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return last.has_value(); }));
    BOOST_TEST_REQUIRE(last->has_value());
    BOOST_TEST(last->value() == 15);

    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
    BOOST_TEST(run->has_value());  // failures do not end the run
    if (stats_out)
        *stats_out = responder.stats();
    std::vector<dx::result<int>> out;
    for (auto& r : results)
        out.push_back(std::move(*r));
    return out;
}

void check_value(const dx::result<int>& r, int expect)
{
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r.value() == expect);
}

// The expectations shared by all four shapes, for value and throwing requests.
void check_throwing_shape(const std::vector<dx::result<int>>& r, const dx::responder_stats& st)
{
    BOOST_TEST_REQUIRE(r.size() == 6u);
    check_value(r[0], 3);
    BOOST_TEST(failed_with(r[1], dx::error::handler_failed));
    check_value(r[2], 6);
    BOOST_TEST(failed_with(r[3], dx::error::handler_failed));
    BOOST_TEST(failed_with(r[4], dx::error::handler_failed));
    check_value(r[5], 9);
    BOOST_TEST(st.completed == 4u);  // three here and the last one of serve()
    BOOST_TEST(st.failed == 3u);
    BOOST_TEST(st.timed_out == 0u);
    BOOST_TEST(st.cancelled == 0u);
}

const std::vector<int> throwing_requests{1, throw_std, 2, throw_other, throw_custom, 3};

// Errors a result-returning handler produces itself.
void check_error_results(const std::vector<dx::result<int>>& r, const dx::responder_stats& st)
{
    BOOST_TEST_REQUIRE(r.size() == 5u);
    BOOST_TEST_REQUIRE(!r[0].has_value());
    BOOST_TEST(r[0].error() == permission_denied());
    BOOST_TEST(&r[0].error().category() == &boost::system::generic_category());
    BOOST_TEST(r[0].error().value() == static_cast<int>(boost::system::errc::permission_denied));
    check_value(r[1], 12);
    BOOST_TEST_REQUIRE(!r[2].has_value());
    BOOST_TEST(&r[2].error().category() == &custom_category());
    BOOST_TEST(r[2].error().value() == 42);
    BOOST_TEST_REQUIRE(!r[3].has_value());
    BOOST_TEST(r[3].error() == dx::make_error_code(dx::error::closed));  // the handler's own, passed through
    BOOST_TEST(failed_with(r[4], dx::error::handler_failed));
    BOOST_TEST(st.completed == 2u);
    BOOST_TEST(st.failed == 4u);
}

const std::vector<int> error_requests{fail_errc, 4, fail_custom, fail_duplex, throw_std};

}  // namespace

BOOST_AUTO_TEST_CASE(sync_value_handler_exceptions_become_handler_failed)
{
    dx::responder_stats st;
    auto r = serve([](int x) -> int { return value_for(x); }, throwing_requests, &st);
    check_throwing_shape(r, st);
}

BOOST_AUTO_TEST_CASE(sync_result_handler_exceptions_become_handler_failed)
{
    dx::responder_stats st;
    auto r = serve([](int x) -> dx::result<int> { return result_for(x); }, throwing_requests, &st);
    check_throwing_shape(r, st);
}

BOOST_AUTO_TEST_CASE(awaitable_value_handler_exceptions_become_handler_failed)
{
    dx::responder_stats st;
    auto r = serve([](int x) -> net::awaitable<int> { co_return value_for(x); }, throwing_requests, &st);
    check_throwing_shape(r, st);
}

BOOST_AUTO_TEST_CASE(awaitable_result_handler_exceptions_become_handler_failed)
{
    dx::responder_stats st;
    auto r = serve([](int x) -> net::awaitable<dx::result<int>> { co_return result_for(x); }, throwing_requests, &st);
    check_throwing_shape(r, st);
}

// An awaitable that throws after it suspended (on a timer, on a post).
BOOST_AUTO_TEST_CASE(awaitable_handler_throwing_after_suspending_becomes_handler_failed)
{
    dx::responder_stats st;
    auto r = serve(
        [](int x) -> net::awaitable<int> {
            net::steady_timer t(co_await net::this_coro::executor, 1ms);
            co_await t.async_wait(net::use_awaitable);
            co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
            co_return value_for(x);
        },
        throwing_requests, &st);
    check_throwing_shape(r, st);
}

BOOST_AUTO_TEST_CASE(sync_result_handler_error_code_reaches_client_unchanged)
{
    dx::responder_stats st;
    auto r = serve([](int x) -> dx::result<int> { return result_for(x); }, error_requests, &st);
    check_error_results(r, st);
}

BOOST_AUTO_TEST_CASE(awaitable_result_handler_error_code_reaches_client_unchanged)
{
    dx::responder_stats st;
    auto r = serve(
        [](int x) -> net::awaitable<dx::result<int>> {
            net::steady_timer t(co_await net::this_coro::executor, 1ms);
            co_await t.async_wait(net::use_awaitable);
            co_return result_for(x);
        },
        error_requests, &st);
    check_error_results(r, st);
}

// Many failures in a row: the responder goes on serving, and every one is counted.
BOOST_AUTO_TEST_CASE(responder_keeps_serving_after_many_failures)
{
    std::vector<int> requests;
    for (int i = 0; i < 300; ++i)
        requests.push_back(i % 3 == 0 ? throw_std : (i % 3 == 1 ? fail_custom : i));
    dx::responder_stats st;
    auto r = serve([](int x) -> dx::result<int> { return result_for(x); }, requests, &st);
    for (std::size_t i = 0; i < requests.size(); ++i) {
        if (i % 3 == 0)
            BOOST_TEST(failed_with(r[i], dx::error::handler_failed));
        else if (i % 3 == 1)
            BOOST_TEST((!r[i].has_value() && r[i].error() == custom_error(42)));
        else
            BOOST_TEST((r[i].has_value() && r[i].value() == requests[i] * 3));
    }
    BOOST_TEST(st.failed == 200u);
    BOOST_TEST(st.completed == 101u);
}

// A coroutine handler that throws while others of the same responder are
// suspended does not disturb them.
BOOST_AUTO_TEST_CASE(awaitable_failure_does_not_disturb_concurrent_invocations)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, int>(ctx.get_executor(), options(30s));
    auto& client = ch.first;
    auto& responder = ch.second;

    net::steady_timer gate(ctx, steady::time_point::max());
    bool open = false;
    int holding = 0;
    std::optional<dx::result<void>> run;
    responder.async_run(
        [&](int x) -> net::awaitable<int> {
            if (x < 0)
                throw std::runtime_error("fails at once");
            ++holding;
            while (!open)
                co_await gate.async_wait(net::as_tuple(net::use_awaitable));
            --holding;
            co_return x + 1;
        },
        dx::fixed_concurrency{8}, [&](dx::result<void> r) { run.emplace(std::move(r)); });

    std::vector<std::optional<dx::result<int>>> results(6);
    const std::vector<int> requests{10, 11, -1, 12, -2, 13};
    int answered = 0;
    for (std::size_t i = 0; i < requests.size(); ++i)
        client.async_request(requests[i], [&, i](dx::result<int> r) {
            results[i].emplace(std::move(r));
            ++answered;
        });
    // Both failures come back while the four others are still suspended.
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return answered == 2 && holding == 4; }));
    BOOST_TEST(failed_with(*results[2], dx::error::handler_failed));
    BOOST_TEST(failed_with(*results[4], dx::error::handler_failed));
    BOOST_TEST(responder.stats().failed == 2u);
    BOOST_TEST(responder.stats().in_flight == 4u);
    open = true;
    gate.cancel();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return answered == 6; }));
    for (std::size_t i : {0u, 1u, 3u, 5u}) {
        BOOST_TEST_REQUIRE(results[i]->has_value());
        BOOST_TEST(results[i]->value() == requests[i] + 1);
    }
    const auto st = responder.stats();
    BOOST_TEST(st.completed == 4u);
    BOOST_TEST(st.failed == 2u);
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
    BOOST_TEST(run->has_value());
}

// A handler returning something convertible to Response (a `short` for `long`).
BOOST_AUTO_TEST_CASE(handler_returning_a_convertible_type_works)
{
    net::io_context ctx;
    auto ch = dx::make_asio_channel<int, long>(ctx.get_executor(), options(30s));
    std::optional<dx::result<void>> run;
    ch.second.async_run([](int x) -> short { return static_cast<short>(x + 1); }, dx::fixed_concurrency{1},
                        [&](dx::result<void> r) { run.emplace(std::move(r)); });
    std::optional<dx::result<long>> got;
    ch.first.async_request(41, [&](dx::result<long> r) { got.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return got.has_value(); }));
    BOOST_TEST_REQUIRE(got->has_value());
    BOOST_TEST(got->value() == 42L);
    ch.second.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
}

// A user limiter that throws: from limit() the last limit read stands, from
// on_start() and on_complete() the exception is ignored; the requests are
// answered as usual and nothing terminates.
using duplex_test_support::throwing_limiter;

BOOST_AUTO_TEST_CASE(a_throwing_user_limiter_is_contained)
{
    net::io_context ctx;
    int calls = 0;
    auto [client, responder] = dx::make_asio_channel<int, int>(ctx.get_executor());
    std::optional<dx::result<void>> run;
    responder.async_run([](int v) { return v * 2; }, throwing_limiter{&calls},
                        [&](dx::result<void> r) { run.emplace(r); });
    std::size_t answered = 0;
    bool all_right = true;
    for (int i = 0; i != 20; ++i)
        client.async_request(i, [&, i](dx::result<int> r) {
            ++answered;
            all_right = all_right && r.has_value() && r.value() == i * 2;
        });
    std::optional<dx::result<std::vector<int>>> batch;
    client.async_request_batch(std::vector<int>(50, 1), 8, [&](dx::result<std::vector<int>> r) { batch.emplace(std::move(r)); });
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return answered == 20 && batch.has_value(); }));
    BOOST_TEST(all_right);
    BOOST_TEST_REQUIRE(batch->has_value());
    BOOST_TEST((batch->value() == std::vector<int>(50, 2)));
    BOOST_TEST(calls > 3);
    responder.stop();
    BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
    BOOST_TEST(run->has_value());
}

// Runs `ctx` until `done()` or until std::bad_alloc escapes run() (a
// completion handler threw it): 1 if it did, 0 if `done()` came first.
template <class Done>
int run_until_done_or_thrown(net::io_context& ctx, Done done)
{
    const auto until = steady::now() + 10s;
    while (!done() && steady::now() < until) {
        try {
            ctx.run_one_for(std::chrono::milliseconds(100));
        } catch (const std::bad_alloc&) {
            return 1;
        }
    }
    return 0;
}

// A Request or Response whose move throws (std::bad_alloc) never terminates
// the program: whichever move throws, the request's initiation throws, or it
// completes with its value or handler_failed, or its completion handler
// throws out of run() (as any throwing completion handler does); nothing
// else is disturbed, and the responder goes on.
// An io_context, a channel of fragile values and its run.
struct fragile_service {
    using fragile = duplex_test_support::fragile;

    template <class Handler>
    fragile_service(Handler handler, std::size_t limit)
    {
        ch.second.async_run(std::move(handler), dx::fixed_concurrency{limit},
                            [this](dx::result<void> r) { run.emplace(std::move(r)); });
    }

    // The responder still serves, then its run ends well when stopped.
    void check_it_goes_on()
    {
        std::optional<dx::result<fragile>> next;
        ch.first.async_request(fragile(5), [&](dx::result<fragile> r) { next.emplace(std::move(r)); });
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return next.has_value(); }));
        BOOST_TEST_REQUIRE(next->has_value());
        BOOST_TEST(next->value().v == 15);
        ch.second.stop();
        BOOST_TEST_REQUIRE(run_until(ctx, [&] { return run.has_value(); }));
        BOOST_TEST(run->has_value());
    }

    net::io_context ctx;
    decltype(dx::make_asio_channel<fragile, fragile>(ctx.get_executor(), options(30s))) ch =
        dx::make_asio_channel<fragile, fragile>(ctx.get_executor(), options(30s));
    std::optional<dx::result<void>> run;
};

template <class Handler>
void check_throwing_moves(Handler handler)
{
    using duplex_test_support::fragile;
    for (int k = 1; k <= 10; ++k) {
        BOOST_TEST_CONTEXT("the move that throws: " << k)
        {
            fragile_service svc(handler, 1);
            auto& ctx = svc.ctx;
            auto& client = svc.ch.first;
            std::optional<dx::result<fragile>> got;
            int escaped = 0;
            fragile::arm(k);
            try {
                client.async_request(fragile(7), [&](dx::result<fragile> r) { got.emplace(std::move(r)); });
            } catch (const std::bad_alloc&) {
                ++escaped;
            }
            if (escaped == 0)
                escaped = run_until_done_or_thrown(ctx, [&] { return got.has_value(); });
            fragile::arm(0);
            BOOST_TEST_REQUIRE((got.has_value() || escaped == 1));
            if (got)
                BOOST_TEST(duplex_test_support::is_value_or(*got, 21, dx::make_error_code(dx::error::handler_failed)));
            svc.check_it_goes_on();
        }
    }
}

BOOST_AUTO_TEST_CASE(a_sync_handler_s_values_whose_moves_throw_fail_their_own_request_only)
{
    using duplex_test_support::fragile;
    check_throwing_moves([](fragile f) { return fragile(f.v * 3); });
}

BOOST_AUTO_TEST_CASE(an_awaitable_handler_s_values_whose_moves_throw_fail_their_own_request_only)
{
    using duplex_test_support::fragile;
    check_throwing_moves([](fragile f) -> net::awaitable<fragile> { co_return fragile(f.v * 3); });
}

// The same for a batch: whichever move of its elements or responses throws,
// the batch completes once (with its values or an error), or the initiation
// or the completion handler throws it; the responder goes on.
BOOST_AUTO_TEST_CASE(a_batch_of_values_whose_moves_throw_completes_once)
{
    using duplex_test_support::fragile;
    for (int k = 1; k <= 24; ++k) {
        BOOST_TEST_CONTEXT("the move that throws: " << k)
        {
            fragile_service svc([](fragile f) { return fragile(f.v * 3); }, 2);
            auto& ctx = svc.ctx;
            auto& client = svc.ch.first;
            std::vector<fragile> reqs;
            reqs.reserve(3);
            for (int i = 1; i <= 3; ++i)
                reqs.emplace_back(i);
            int calls = 0, escaped = 0;
            std::optional<dx::result<std::vector<fragile>>> got;
            fragile::arm(k);
            try {
                client.async_request_batch(std::move(reqs), 2, [&](dx::result<std::vector<fragile>> r) {
                    ++calls;
                    got.emplace(std::move(r));
                });
            } catch (const std::bad_alloc&) {
                ++escaped;
            }
            if (escaped == 0)
                escaped = run_until_done_or_thrown(ctx, [&] { return calls != 0; });
            fragile::arm(0);
            BOOST_TEST_REQUIRE((calls == 1 || escaped == 1));
            if (got && got->has_value()) {
                BOOST_TEST_REQUIRE(got->value().size() == 3u);
                for (int i = 0; i != 3; ++i)
                    BOOST_TEST(got->value()[static_cast<std::size_t>(i)].v == 3 * (i + 1));
            }
            svc.check_it_goes_on();
            BOOST_TEST(calls <= 1);
        }
    }
}
