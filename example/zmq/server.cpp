//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The serving process of the remote example: a responder in an ordinary
// in-process channel (a limit of 4 handlers, overload control on), served
// to other processes over ZeroMQ.
//
//   example_zmq_server [endpoint]      (default tcp://127.0.0.1:5555)
//
// Prints "listening <endpoint>" once bound; SIGINT or SIGTERM stops it
// gracefully (what is in flight is answered first).

#include <boost/duplex/asio.hpp>
#include <boost/duplex/zmq.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <string>

namespace net = boost::asio;
namespace dx = boost::duplex;

int main(int argc, char** argv)
{
    const std::string endpoint = argc > 1 ? argv[1] : "tcp://127.0.0.1:5555";
    net::io_context io;

    // The responder's side is the same as for local clients.
    dx::channel_options copts;
    copts.capacity = 256;
    copts.overload = dx::overload_options{};  // shed what waited too long under overload
    auto channel = dx::make_asio_channel<std::string, std::string>(io.get_executor(), copts);
    auto& local = channel.first;
    auto& responder = channel.second;
    responder.async_run(
        [](std::string text) -> net::awaitable<std::string> {
            // Pretend to work for a millisecond, then answer in upper case.
            net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(1));
            co_await t.async_wait(net::use_awaitable);
            std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
            co_return text;
        },
        dx::fixed_concurrency{4}, [](dx::result<void>) {});

    // What arrives over ZeroMQ goes through `local`, with its deadline,
    // priority and flow.
    net::cancellation_signal stop;
    net::signal_set signals(io, SIGINT, SIGTERM);
    dx::zmq_serve_options sopts;
    sopts.on_listening = [](const std::string& e) { std::cout << "listening " << e << std::endl; };
    int status = 0;
    dx::async_serve_zmq(endpoint, local, sopts, net::bind_cancellation_slot(stop.slot(), [&](dx::result<void> r) {
                            if (!r) {
                                std::cerr << "serve: " << r.error().message() << "\n";
                                status = 1;
                            }
                            const auto s = responder.stats();
                            std::cerr << "server: " << s.completed << " answered, " << s.timed_out << " timed out, "
                                      << s.cancelled << " cancelled, " << s.shed << " shed\n";
                            responder.stop();
                            signals.cancel();
                        }));
    signals.async_wait([&](boost::system::error_code ec, int) {
        if (!ec)
            stop.emit(net::cancellation_type::total);  // graceful
    });
    io.run();
    return status;
}
