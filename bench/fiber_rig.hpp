//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The threads of the Boost.Fiber contenders (Boost.Duplex's Fiber backend
// and the buffered_channel baseline), so that they both run the same way.

#ifndef BOOST_DUPLEX_BENCH_FIBER_RIG_HPP
#define BOOST_DUPLEX_BENCH_FIBER_RIG_HPP

#include "bench.hpp"

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include <cstddef>
#include <thread>
#include <vector>

namespace boost::duplex::bench {

namespace fibers = boost::fibers;

// Runs client(i) for i in [0, n), each in a fiber of its own on the calling
// thread, and waits for them all.
template <class F>
void run_client_fibers(std::size_t n, F&& client)
{
    std::vector<fibers::fiber> fs;
    fs.reserve(n);
    for (std::size_t i = 0; i != n; ++i)
        fs.emplace_back([&client, i] { client(i); });
    for (auto& f : fs)
        f.join();
}

// Runs the server side and the clients of one fiber contender: on the
// calling thread (the server in a fiber of its own), or (W3) the server on a
// thread pinned to server_core and the clients on one pinned to client_core.
// `serve()` blocks until `stop()` is called, which happens once every client
// is done.
template <class Serve, class Stop, class Clients>
void run_fiber_contender(bool cross_thread, Serve&& serve, Stop&& stop, Clients&& clients)
{
    if (!cross_thread) {
        fibers::fiber server(serve);
        clients();
        stop();
        server.join();
    } else {
        std::thread server([&serve] {
            pin_this_thread(server_core);
            serve();
        });
        on_pinned_thread(client_core, clients);
        stop();
        server.join();
    }
}

}  // namespace boost::duplex::bench

#endif
