//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// zmq_test_server: the serving process the cross-process tests and the
// remote soak start (and kill) themselves.
//
//   zmq_test_server --endpoint tcp://127.0.0.1:* [--concurrency N]
//
// Prints "listening <endpoint>" once bound, then serves std::string
// requests through an in-process channel:
//   "echo:<x>"          -> "<pid>:<x>"
//   "sleep:<ms>:<x>"    -> "<pid>:<x>" after <ms> milliseconds (an awaitable
//                          handler: a remote terminal cancellation ends it)
//   "seen:<x>"          -> "yes" if a request tagged <x> reached the handler, else "no"
//   "stats"             -> "completed=<n> timed_out=<n> cancelled=<n>"
// SIGTERM stops it gracefully (exit 0).

#include <boost/duplex/asio.hpp>
#include <boost/duplex/zmq.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <unistd.h>

namespace net = boost::asio;
namespace dx = boost::duplex;

int main(int argc, char** argv)
{
    std::string endpoint = "tcp://127.0.0.1:*";
    std::size_t concurrency = 8;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--endpoint")
            endpoint = argv[i + 1];
        else if (a == "--concurrency")
            concurrency = std::strtoul(argv[i + 1], nullptr, 10);
    }
    net::io_context io;
    // (Not a structured binding: clang 14 cannot capture one in a lambda.)
    auto channel = dx::make_asio_channel<std::string, std::string>(io.get_executor());
    auto& local = channel.first;
    auto& responder = channel.second;
    const std::string pid = std::to_string(::getpid());
    std::set<std::string> seen;
    auto* r = &responder;
    auto handler = [&, r](std::string req) -> net::awaitable<std::string> {
        const auto colon = req.find(':');
        const std::string verb = req.substr(0, colon);
        const std::string rest = colon == std::string::npos ? "" : req.substr(colon + 1);
        if (verb == "echo") {
            seen.insert(rest);
            co_return pid + ":" + rest;
        }
        if (verb == "sleep") {
            const auto c2 = rest.find(':');
            const std::string tag = rest.substr(c2 + 1);
            seen.insert(tag);
            net::steady_timer t(co_await net::this_coro::executor,
                                std::chrono::milliseconds(std::stol(rest.substr(0, c2))));
            co_await t.async_wait(net::as_tuple(net::use_awaitable));
            co_return pid + ":" + tag;
        }
        if (verb == "seen")
            co_return seen.count(rest) ? "yes" : "no";
        if (verb == "stats") {
            const auto s = r->stats();
            co_return "completed=" + std::to_string(s.completed) + " timed_out=" + std::to_string(s.timed_out) +
                " cancelled=" + std::to_string(s.cancelled);
        }
        co_return "unknown";
    };
    responder.async_run(handler, dx::fixed_concurrency{concurrency}, [](dx::result<void>) {});

    net::cancellation_signal stop;
    net::signal_set signals(io, SIGTERM, SIGINT);
    dx::zmq_serve_options opts;
    opts.on_listening = [](const std::string& e) { std::cout << "listening " << e << std::endl; };
    int status = 0;
    dx::async_serve_zmq(endpoint, local, opts, net::bind_cancellation_slot(stop.slot(), [&](dx::result<void> res) {
                            if (!res) {
                                std::cerr << "zmq_test_server: " << res.error().message() << "\n";
                                status = 1;
                            }
                            responder.stop();
                            signals.cancel();
                        }));
    signals.async_wait([&](boost::system::error_code ec, int) {
        if (!ec)
            stop.emit(net::cancellation_type::total);
    });
    io.run();
    return status;
}
