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
// responder, run by a thread pinned to server_core. Each io_context is run by
// exactly one thread, hence the concurrency hint 1 (still thread-safe).
class asio_rig {
public:
    explicit asio_rig(bool cross_thread) : client_io_(1)
    {
        if (cross_thread) {
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
        auto body = [&] {
            client_io_.restart();
            start();
            client_io_.run();
        };
        if (server_io_)
            on_pinned_thread(client_core, body);
        else
            body();
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
    net::io_context client_io_;
    std::optional<net::io_context> server_io_;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> guard_;
    std::thread server_thread_;
};

}  // namespace boost::duplex::bench

#endif
