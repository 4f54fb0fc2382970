//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The client process of the remote example: many clients (coroutines) of
// a serving process, through the same request surface as asio_client.
//
//   example_zmq_client <endpoint> [<endpoint> ...]
//
// With several endpoints (several example_zmq_server processes), requests
// are spread across them.

#include <boost/duplex/zmq.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>
#include <string>
#include <vector>

namespace net = boost::asio;
namespace dx = boost::duplex;

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::cerr << "usage: example_zmq_client <endpoint> [<endpoint> ...]\n";
        return 2;
    }
    net::io_context io;
    dx::zmq_client_options opts;
    opts.timeout = std::chrono::seconds(5);
    auto made = dx::make_zmq_client<std::string, std::string>(io.get_executor(),
                                                               std::vector<std::string>(argv + 1, argv + argc), opts);
    if (!made) {
        std::cerr << "client: " << made.error().message() << "\n";
        return 1;
    }
    auto client = made.value();
    int failures = 0, answered = 0;

    // 16 clients, 50 requests each, one outstanding per client.
    for (int c = 0; c < 16; ++c)
        net::co_spawn(
            io,
            [&, c]() -> net::awaitable<void> {
                // Each client is a flow of its own: the server takes them in turn.
                auto mine = client.with_flow(static_cast<std::uint64_t>(c));
                for (int i = 0; i < 50; ++i) {
                    const std::string req = "client " + std::to_string(c) + " request " + std::to_string(i);
                    auto [r] = co_await mine.async_request(req, net::as_tuple(net::use_awaitable));
                    if (r && r.value().size() == req.size())
                        ++answered;
                    else
                        ++failures;
                }
            },
            net::detached);

    // An urgent request, and a batch of ten with at most three outstanding.
    client.with_priority(dx::priority::critical).async_request("urgent", [&](dx::result<std::string> r) {
        std::cout << "urgent -> " << (r ? r.value() : r.error().message()) << "\n";
        failures += !r;
    });
    std::vector<std::string> words{"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"};
    client.async_request_batch(words, 3, [&](dx::result<std::vector<std::string>> r) {
        if (r) {
            std::cout << "batch ->";
            for (auto& w : r.value())
                std::cout << " " << w;
            std::cout << "\n";
        } else {
            std::cout << "batch failed: " << r.error().message() << "\n";
            ++failures;
        }
    });
    // A deadline too short for the server's millisecond of work ends here.
    client.async_request("too late", std::chrono::microseconds(100), [&](dx::result<std::string> r) {
        std::cout << "with a 100 us deadline -> " << (r ? r.value() : r.error().message()) << "\n";
    });

    io.run();  // returns once every request has completed: an idle client holds nothing
    std::cout << answered << " of 800 answered, " << failures << " failures\n";
    return failures == 0 && answered == 800 ? 0 : 1;
}
