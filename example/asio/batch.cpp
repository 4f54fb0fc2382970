//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Batches: many requests in one call, at most `concurrency` of them
// outstanding at once, the answers in input order.
//
// - async_request_batch is fail-fast: it completes with every response, or
//   with the first error, and then cancels the batch's other requests, or
//   with error::timeout when the batch has a deadline and misses it;
// - async_request_batch_settled lets every request end and gives one result
//   per request.
//
// The handler squares a number after "working" n ms; a negative number is an
// error of the handler's own. Exits 0 when every batch behaved as described.

#include <boost/duplex/asio.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/errc.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <iostream>
#include <numeric>
#include <vector>

namespace net = boost::asio;
namespace dx = boost::duplex;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

using square_client = dx::asio_client<int, int>;
using square_responder = dx::asio_responder<int, int>;

// The handler's invocations run on the responder's strand and never overlap
// in time (they only interleave at co_await), so they share this without locks.
struct load {
    int in_flight = 0;
    int peak = 0;
};

// The responder: an awaitable handler, so the work (a timer here) does not
// block the strand and several requests are worked on at once.
auto square_handler(load& l)
{
    return [&l](int n) -> net::awaitable<dx::result<int>> {
        if (n < 0) // the handler's own error reaches the client unchanged
            co_return boost::system::errc::make_error_code(boost::system::errc::argument_out_of_domain);
        l.peak = std::max(l.peak, ++l.in_flight);
        net::steady_timer work(co_await net::this_coro::executor, std::chrono::milliseconds(n));
        // as_tuple: a cancelled request (its batch failed) ends the wait with
        // operation_aborted as a value instead of an exception.
        auto [ec] = co_await work.async_wait(net::as_tuple(net::use_awaitable));
        --l.in_flight;
        if (ec)
            co_return ec;
        co_return n * n;
    };
}

net::awaitable<bool> run_batches(square_client client, square_responder& responder, load& l,
                                 std::vector<int> one_to_eight, std::vector<int> mixed, std::vector<int> failing,
                                 std::vector<int> slow)
{
    bool ok = true;

    // 1. Fail-fast, every request succeeds: the squares, in input order,
    //    whatever order they were answered in. `one_to_eight` is an lvalue: the
    //    batch reads it where it is (it must outlive the operation, as a
    //    local of this coroutine does).
    l.peak = 0;
    dx::result<std::vector<int>> squares = co_await client.async_request_batch(one_to_eight, 3, net::use_awaitable);
    std::cout << "batch of 8, at most 3 at once:";
    if (squares) {
        for (int v : squares.value())
            std::cout << ' ' << v;
    } else {
        std::cout << ' ' << squares.error().message();
    }
    std::cout << "  (peak in flight: " << l.peak << ")\n";
    ok = ok && squares && squares.value().size() == 8 && squares.value()[7] == 64 && l.peak <= 3;

    // 2. Settled: each request ends on its own, failures included, one
    //    result each in input order. The vector is moved into the batch.
    l.peak = 0;
    std::vector<dx::result<int>> settled =
        co_await client.async_request_batch_settled(std::move(mixed), 2, net::use_awaitable);
    std::cout << "settled batch of 5, at most 2 at once:";
    for (const auto& r : settled) {
        if (r)
            std::cout << ' ' << r.value();
        else
            std::cout << " [" << r.error().message() << ']';
    }
    std::cout << "  (peak in flight: " << l.peak << ")\n";
    ok = ok && settled.size() == 5 && settled[0] && settled[0].value() == 9 && !settled[1] && settled[2] &&
         settled[2].value() == 25 && !settled[3] && settled[4] && l.peak <= 2;

    // 3. Fail-fast with a failure: the two 1 s requests and the bad one go
    //    out together; the bad one fails at once, which completes the batch
    //    with its error and cancels the other two while they run (the
    //    handler's timer wait is aborted), so nobody waits the second.
    //    The fourth request is never sent.
    const auto before = responder.stats();
    const auto start = clock_type::now();
    dx::result<std::vector<int>> failed =
        co_await client.async_request_batch(std::move(failing), 3, net::use_awaitable);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
    const auto after = responder.stats();
    std::cout << "fail-fast batch: " << (failed ? "succeeded?!" : failed.error().message()) << " after "
              << took.count() << " ms; requests cancelled: " << after.cancelled - before.cancelled << '\n';
    ok = ok && !failed && failed.error() == boost::system::errc::argument_out_of_domain &&
         after.cancelled - before.cancelled == 2;

    // 4. A deadline for the whole batch: four 50 ms requests one at a time
    //    cannot make 120 ms.
    dx::result<std::vector<int>> late =
        co_await client.async_request_batch(std::move(slow), 1, 120ms, net::use_awaitable);
    std::cout << "batch with a 120 ms deadline: " << (late ? "succeeded?!" : late.error().message()) << '\n';
    ok = ok && !late && late.error() == dx::error::timeout;

    responder.stop();
    co_return ok;
}

int main()
{
    net::io_context io;
    auto [client, responder] = dx::make_asio_channel<int, int>(io.get_executor());

    load l;
    bool run_ok = false;
    responder.async_run(square_handler(l), dx::fixed_concurrency{16},
                        [&run_ok](dx::result<void> r) { run_ok = r.has_value(); });

    // The request lists are built here rather than inside the coroutine (g++ 12
    // mishandles braced initializer lists in coroutine bodies).
    std::vector<int> one_to_eight(8);
    std::iota(one_to_eight.begin(), one_to_eight.end(), 1);
    std::vector<int> mixed{3, -1, 5, -2, 7};
    std::vector<int> failing{1000, 1000, -7, 4};
    std::vector<int> slow{50, 50, 50, 50};

    bool ok = false;
    net::co_spawn(io, run_batches(client, responder, l, one_to_eight, mixed, failing, slow),
                  [&ok](std::exception_ptr e, bool result) {
                      if (e)
                          std::rethrow_exception(e);
                      ok = result;
                  });
    io.run();

    ok = ok && run_ok;
    std::cout << (ok ? "OK" : "FAILED") << '\n';
    return ok ? 0 : 1;
}
