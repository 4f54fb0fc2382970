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
#include <boost/fiber/future.hpp>
#include <boost/fiber/operations.hpp>

#include <cstddef>
#include <thread>
#include <vector>

namespace boost::duplex::bench {

namespace fibers = boost::fibers;

// Runs client(i) for i in [first, last), each in a fiber of its own on the
// calling thread, and waits for them all.
template <class F>
void run_client_fibers(std::size_t first, std::size_t last, F&& client)
{
    std::vector<fibers::fiber> fs;
    fs.reserve(last - first);
    for (std::size_t i = first; i != last; ++i)
        fs.emplace_back([&client, i] { client(i); });
    for (auto& f : fs)
        f.join();
}

// Runs the server side and `clients` clients of one fiber contender, each
// client(i) in a fiber of its own:
// - one_thread: everything on the calling thread, the server in a fiber;
// - cross_thread (W3): the server on a thread pinned to server_core, the
//   clients on one pinned to client_core;
// - two_threads (W5): two threads pinned to client_core and server_core, each
//   with its own scheduler (round_robin, the default) and half the clients;
//   the server in a fiber on the server_core one.
// `serve()` blocks until `stop()` is called, which happens once every client
// is done.
template <class Serve, class Stop, class Client>
void run_fiber_contender(topology where, std::size_t clients, Serve&& serve, Stop&& stop, Client&& client)
{
    switch (where) {
    case topology::one_thread: {
        fibers::fiber server(serve);
        run_client_fibers(0, clients, client);
        stop();
        server.join();
        break;
    }
    case topology::cross_thread: {
        std::thread server([&serve] {
            pin_this_thread(server_core);
            serve();
        });
        on_pinned_thread(client_core, [&] { run_client_fibers(0, clients, client); });
        stop();
        server.join();
        break;
    }
    case topology::two_threads: {
        // The server's thread must go on serving the other thread's clients
        // once its own are done: it waits for them on a fiber future, which
        // suspends only its main fiber.
        fibers::promise<void> others_done;
        fibers::future<void> others = others_done.get_future();
        const std::size_t half = clients / 2;
        std::thread others_thread([&] {
            pin_this_thread(client_core);
            run_client_fibers(0, half, client);
            others_done.set_value();
        });
        on_pinned_thread(server_core, [&] {
            fibers::fiber server(serve);
            run_client_fibers(half, clients, client);
            others.get();
            stop();
            server.join();
        });
        others_thread.join();
        break;
    }
    }
}

}  // namespace boost::duplex::bench

#endif
