//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The threads and io_contexts of the Asio contenders (Boost.Duplex's Asio
// backend and the two concurrent_channel baselines), so that they all run
// the same way.

#ifndef BOOST_DUPLEX_BENCH_ASIO_RIG_HPP
#define BOOST_DUPLEX_BENCH_ASIO_RIG_HPP

#include "bench.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>
#include <thread>

namespace boost::duplex::bench {

namespace net = boost::asio;

// One io_context for everything, run by the calling thread; or, for W3, one
// for the clients, run by a thread pinned to client_core, and one for the
// responder, run by a thread pinned to server_core; or, for W5, one for
// everything run by two threads, pinned to client_core and server_core.
// The concurrency hint is the number of threads that run the io_context: with
// 1 the scheduler would not wake a second thread for queued work.
class asio_rig {
public:
    explicit asio_rig(topology where) : where_(where), client_io_(where == topology::two_threads ? 2 : 1)
    {
        if (where == topology::cross_thread) {
            server_io_.emplace(1);
            guard_.emplace(server_io_->get_executor());
            server_thread_ = std::thread([this] {
                pin_this_thread(server_core);
                server_io_->run();
            });
        }
    }

    asio_rig(const asio_rig&) = delete;
    asio_rig& operator=(const asio_rig&) = delete;

    ~asio_rig()
    {
        if (server_thread_.joinable()) {
            guard_.reset();
            server_io_->stop();
            server_thread_.join();
        }
    }

    net::io_context& client_io() noexcept { return client_io_; }
    net::io_context& server_io() noexcept { return server_io_ ? *server_io_ : client_io_; }

    // Calls start(), which starts the clients on client_io(), and runs
    // client_io() until the last client calls clients_done().
    template <class F>
    void run_clients(F&& start)
    {
        client_io_.restart();
        auto body = [&] {
            start();
            client_io_.run();
        };
        switch (where_) {
        case topology::one_thread:
            body();
            break;
        case topology::cross_thread:
            on_pinned_thread(client_core, body);
            break;
        case topology::two_threads:
            on_pinned_thread(client_core, [&] {
                // The second thread starts once start() has returned: a
                // callback client's first request is made in start(), and
                // its completion must not drive the client while it is made.
                // The guard keeps both in run() until clients_done().
                start();
                auto guard = net::make_work_guard(client_io_);
                std::thread second([this] {
                    pin_this_thread(server_core);
                    client_io_.run();
                });
                client_io_.run();
                second.join();
            });
            break;
        }
    }

    void clients_done() { client_io_.stop(); }

    // Once the responder was told to end: runs both sides until they are out
    // of work. Ends only when the responder's side ends, which is part of
    // what the benchmark checks (the watchdog reports a hang).
    void finish()
    {
        if (server_thread_.joinable()) {
            guard_.reset();
            server_thread_.join();
        }
        client_io_.restart();
        client_io_.run();
    }

private:
    topology where_;
    net::io_context client_io_;
    std::optional<net::io_context> server_io_;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> guard_;
    std::thread server_thread_;
};

}  // namespace boost::duplex::bench

#endif
