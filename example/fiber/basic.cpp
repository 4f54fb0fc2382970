//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Basic echo with Boost.Fiber: one responder answers many clients.
//
// Fiber code reads like plain blocking code: request() blocks the calling
// fiber only, and the handler, a plain function, may block too (here it
// sleeps for "slow" requests) without stopping the other fibers. Shows
// several clients at once, a request whose own deadline passes, and stop().
// Exits 0 when every answer was the expected one.

#include <boost/duplex/fiber.hpp>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

namespace dx = boost::duplex;
namespace fibers = boost::fibers;
using namespace std::chrono_literals;

using echo_client = dx::fiber_client<std::string, std::string>;
using echo_responder = dx::fiber_responder<std::string, std::string>;

// The handler: echoes, after a nap for a request that asks for one. The nap
// blocks this invocation's own fiber only; other requests are served meanwhile.
std::string echo(std::string req)
{
    if (req.starts_with("slow"))
        boost::this_fiber::sleep_for(200ms);
    return req;
}

int main()
{
    auto channel = dx::make_fiber_channel<std::string, std::string>(dx::channel_options{.capacity = 64, .timeout = 2s});
    echo_client client = std::move(channel.first);
    echo_responder responder = std::move(channel.second);

    // The responder runs in a fiber of its own; run() blocks that fiber until
    // the channel is stopped, each invocation of `echo` in a fiber of its own.
    dx::result<void> run_result = dx::make_error_code(dx::error::closed);
    fibers::fiber server([&responder, &run_result] { run_result = responder.run(echo, dx::fixed_concurrency{4}); });

    // Four clients at once, each a fiber sending its messages one after
    // another. All fibers here share the main thread and take turns whenever
    // one blocks, so the plain counters need no lock.
    int echoed = 0;
    int wrong = 0;
    std::vector<fibers::fiber> clients;
    for (int id = 1; id <= 4; ++id)
        clients.emplace_back([client, id, &echoed, &wrong]() mutable {
            for (int i = 0; i < 5; ++i) {
                const std::string msg = "client " + std::to_string(id) + ", message " + std::to_string(i);
                dx::result<std::string> r = client.request(msg);
                if (r && r.value() == msg)
                    ++echoed;
                else
                    ++wrong;
            }
        });
    for (auto& f : clients)
        f.join();
    std::cout << "4 clients at once: " << echoed << " of 20 messages echoed\n";

    // A request with a deadline of its own, shorter than the handler takes:
    // it fails with error::timeout after 50 ms. The handler still finishes
    // its nap (a plain function cannot be interrupted); its late answer is
    // dropped.
    dx::result<std::string> hurried = client.request("slow, in a hurry", 50ms);
    std::cout << "request with a 50 ms deadline: " << (hurried ? hurried.value() : hurried.error().message()) << '\n';
    if (hurried || hurried.error() != dx::error::timeout)
        ++wrong;

    // stop(): no new work; what is running finishes, then run() returns.
    responder.stop();
    dx::result<std::string> late = client.request("anyone there?");
    std::cout << "request after stop(): " << (late ? late.value() : late.error().message()) << '\n';
    if (late || late.error() != dx::error::closed)
        ++wrong;

    server.join();
    std::cout << "responder run ended: " << (run_result ? "success" : run_result.error().message()) << '\n';

    const bool ok = run_result && echoed == 20 && wrong == 0;
    std::cout << (ok ? "OK" : "FAILED") << '\n';
    return ok ? 0 : 1;
}
