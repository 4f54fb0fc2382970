//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Basic echo: one responder answers many clients over one channel.
//
// The responder's handler is a plain function, and the run reports its end to
// a callback. The clients are coroutines (`use_awaitable`): several of them at
// once, one request with a deadline of its own, and a last one after stop().
// Exits 0 when every answer was the expected one.

#include <boost/duplex/asio.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>

namespace net = boost::asio;
namespace dx = boost::duplex;
using namespace std::chrono_literals;

using echo_client = dx::asio_client<std::string, std::string>;
using echo_responder = dx::asio_responder<std::string, std::string>;

// Everything in this program runs on the one thread that calls io.run(), so
// these counters need no synchronisation.
struct tally {
    int echoed = 0;
    int echoed_in_sessions = 0;
    int wrong = 0;
};

// One client: sends its messages one after another. With `use_awaitable` the
// completion signature void(result<std::string>) becomes the value of the
// co_await; channel failures arrive as an error in that result, never as an
// exception.
net::awaitable<void> session(echo_client client, int id, tally& t)
{
    for (int i = 0; i < 5; ++i) {
        std::string msg = "client " + std::to_string(id) + ", message " + std::to_string(i);
        dx::result<std::string> r = co_await client.async_request(msg, net::use_awaitable);
        if (r && r.value() == msg) {
            ++t.echoed;
            ++t.echoed_in_sessions;
        } else {
            ++t.wrong;
            std::cout << "client " << id << ": " << (r ? "wrong echo" : r.error().message()) << '\n';
        }
    }
}

net::awaitable<void> clients(echo_client client, echo_responder& responder, tally& t)
{
    // Four clients at once, each with its own copy of the client (copies are
    // cheap and all talk to the same responder). `&&` runs them concurrently
    // and resumes here when all four are done.
    using namespace net::experimental::awaitable_operators;
    co_await (session(client, 1, t) && session(client, 2, t) && session(client, 3, t) && session(client, 4, t));
    std::cout << "4 clients at once: " << t.echoed_in_sessions << " of 20 messages echoed\n";

    // A request with a deadline of its own instead of the channel's default
    // (2 s here): a caller that cannot wait long says so per request.
    auto quick = co_await client.async_request("in a hurry", 250ms, net::use_awaitable);
    if (quick && quick.value() == "in a hurry")
        ++t.echoed;
    else
        ++t.wrong;
    std::cout << "request with a 250 ms deadline: " << (quick ? quick.value() : quick.error().message()) << '\n';

    // stop() ends the run once the handler is idle. From then on the channel
    // refuses work: a request fails with error::closed at once instead of
    // waiting for its deadline.
    responder.stop();
    auto late = co_await client.async_request("anyone there?", net::use_awaitable);
    if (late || late.error() != dx::error::closed)
        ++t.wrong;
    std::cout << "request after stop(): " << (late ? late.value() : late.error().message()) << '\n';
}

int main()
{
    net::io_context io;

    // Room for 64 queued requests, 2 s default deadline (the defaults, spelt out).
    auto [client, responder] = dx::make_asio_channel<std::string, std::string>(
        io.get_executor(), dx::channel_options{.capacity = 64, .timeout = 2s});

    // The server: a plain function from request to response, run on the
    // responder's strand, so it could use state of its own without locks.
    // The run's end is reported to a callback, like any Asio operation.
    bool run_ok = false;
    responder.async_run([](std::string req) { return req; }, dx::fixed_concurrency{4},
                        [&run_ok](dx::result<void> r) {
                            run_ok = r.has_value();
                            std::cout << "responder run ended: " << (r ? "success" : r.error().message()) << '\n';
                        });

    // A client with a callback, before the coroutines start: the request is
    // queued and answered once io.run() turns the loop.
    tally t;
    client.async_request("hello", [&t](dx::result<std::string> r) {
        std::cout << "callback client: " << (r ? r.value() : r.error().message()) << '\n';
        if (r && r.value() == "hello")
            ++t.echoed;
        else
            ++t.wrong;
    });

    net::co_spawn(io, clients(client, responder, t), [](std::exception_ptr e) {
        if (e)
            std::rethrow_exception(e);
    });

    // Returns when nothing is left to do: every request answered and the run ended.
    io.run();

    const bool ok = run_ok && t.wrong == 0 && t.echoed_in_sessions == 4 * 5 && t.echoed == 1 + 4 * 5 + 1;
    std::cout << (ok ? "OK" : "FAILED") << '\n';
    return ok ? 0 : 1;
}
