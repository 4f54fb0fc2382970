//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Batches with Boost.Fiber: many requests in one blocking call, at most
// `concurrency` of them outstanding at once, the answers in input order.
//
// - request_batch is fail-fast: every response, or the first error (the
//   batch's other requests are then cancelled), or error::timeout when the
//   batch has a deadline and misses it;
// - request_batch_settled lets every request end: one result per request.
//
// The handler squares a number after "working" n ms; a negative number is an
// error of the handler's own. Exits 0 when every batch behaved as described.

#include <boost/duplex/fiber.hpp>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>
#include <boost/system/errc.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <numeric>
#include <vector>

namespace dx = boost::duplex;
namespace fibers = boost::fibers;
using namespace std::chrono_literals;

int main()
{
    auto channel = dx::make_fiber_channel<int, int>();
    dx::fiber_client<int, int> client = std::move(channel.first);
    dx::fiber_responder<int, int> responder = std::move(channel.second);

    // Every fiber of this program runs on the main thread, and the handler
    // changes these with no blocking call in between, so no other fiber can
    // see them half-updated: no lock needed.
    int in_flight = 0;
    int peak = 0;
    auto square = [&in_flight, &peak](int n) -> dx::result<int> {
        if (n < 0)  // the handler's own error reaches the client unchanged
            return boost::system::errc::make_error_code(boost::system::errc::argument_out_of_domain);
        peak = std::max(peak, ++in_flight);
        boost::this_fiber::sleep_for(std::chrono::milliseconds(n));  // blocks this invocation's fiber only
        --in_flight;
        return n * n;
    };
    dx::result<void> run_result = dx::make_error_code(dx::error::closed);
    fibers::fiber server([&] { run_result = responder.run(square, dx::fixed_concurrency{16}); });

    bool ok = true;

    // 1. Fail-fast, every request succeeds: the squares, in input order. An
    //    lvalue range is read where it is, an rvalue one is moved in.
    std::vector<int> one_to_eight(8);
    std::iota(one_to_eight.begin(), one_to_eight.end(), 1);
    peak = 0;
    dx::result<std::vector<int>> squares = client.request_batch(one_to_eight, 3);
    std::cout << "batch of 8, at most 3 at once:";
    if (squares) {
        for (int v : squares.value())
            std::cout << ' ' << v;
    } else {
        std::cout << ' ' << squares.error().message();
    }
    std::cout << "  (peak in flight: " << peak << ")\n";
    ok = ok && squares && squares.value().size() == 8 && squares.value()[7] == 64 && peak <= 3;

    // 2. Settled: each request ends on its own, failures included.
    peak = 0;
    std::vector<dx::result<int>> settled = client.request_batch_settled(std::vector<int>{3, -1, 5, -2, 7}, 2);
    std::cout << "settled batch of 5, at most 2 at once:";
    for (const auto& r : settled) {
        if (r)
            std::cout << ' ' << r.value();
        else
            std::cout << " [" << r.error().message() << ']';
    }
    std::cout << "  (peak in flight: " << peak << ")\n";
    ok = ok && settled.size() == 5 && settled[0] && settled[0].value() == 9 && !settled[1] && settled[2] &&
         settled[2].value() == 25 && !settled[3] && settled[4] && peak <= 2;

    // 3. Fail-fast with a failure: the two 200 ms requests and the bad one go
    //    out together; the bad one fails at once and the call returns its
    //    error without waiting for the others, which are cancelled (their
    //    handlers, plain functions, still finish their nap; the answers are
    //    dropped). The fourth request is never sent.
    const auto before = responder.stats();
    dx::result<std::vector<int>> failed = client.request_batch(std::vector<int>{200, 200, -7, 4}, 3);
    const auto after = responder.stats();
    std::cout << "fail-fast batch: " << (failed ? "succeeded?!" : failed.error().message())
              << "; requests cancelled: " << after.cancelled - before.cancelled << '\n';
    ok = ok && !failed && failed.error() == boost::system::errc::argument_out_of_domain &&
         after.cancelled - before.cancelled == 2;

    // 4. A deadline for the whole batch: four 50 ms requests one at a time
    //    cannot make 120 ms.
    dx::result<std::vector<int>> late = client.request_batch(std::vector<int>{50, 50, 50, 50}, 1, 120ms);
    std::cout << "batch with a 120 ms deadline: " << (late ? "succeeded?!" : late.error().message()) << '\n';
    ok = ok && !late && late.error() == dx::error::timeout;

    responder.stop();
    server.join();
    ok = ok && run_result;
    std::cout << (ok ? "OK" : "FAILED") << '\n';
    return ok ? 0 : 1;
}
