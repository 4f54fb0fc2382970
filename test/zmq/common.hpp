//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Helpers shared by the remote tests: a serving side in this process, on an
// io_context and thread of its own (so that the test can stall it, as a hung
// process would be), and unique endpoints.

#ifndef BOOST_DUPLEX_TEST_ZMQ_COMMON_HPP
#define BOOST_DUPLEX_TEST_ZMQ_COMMON_HPP

#include "../asio/common.hpp"

#include <boost/duplex/zmq.hpp>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <unistd.h>

namespace duplex_test {

// A fresh endpoint of the given transport ("inproc" or "ipc") for each call.
inline std::string endpoint(const std::string& transport)
{
    static std::atomic<int> n{0};
    const std::string name = "duplex-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
    if (transport == "ipc")
        return "ipc:///tmp/" + name;
    return transport + "://" + name;
}

// A local channel, its responder running `handler`, and async_serve_zmq
// feeding it from `endpoint`, all on one io_context run by a thread of its own.
template <class Request, class Response, class Codec = dx::binary_codec>
class remote_server {
public:
    template <class Handler>
    remote_server(std::string ep, Handler handler, std::size_t concurrency = 8, dx::channel_options copts = {},
                  dx::zmq_serve_options sopts = {})
        : endpoint_(std::move(ep))
    {
        auto [client, responder] = dx::make_asio_channel<Request, Response>(io_.get_executor(), copts);
        responder_.emplace(std::move(responder));
        responder_->async_run(std::move(handler), dx::fixed_concurrency{concurrency}, [this](dx::result<void>) {
            run_done_ = true;
        });
        std::promise<void> listening;
        auto f = listening.get_future();
        sopts.on_listening = [&listening, this](const std::string& e) {
            bound_ = e;
            listening.set_value();
        };
        dx::async_serve_zmq<Codec>(endpoint_, std::move(client), sopts,
                                   net::bind_cancellation_slot(stop_.slot(), [this](dx::result<void> r) {
                                       served_ = code_of(r);
                                       serve_done_ = true;
                                   }));
        thread_ = std::thread([this] { io_.run(); });
        f.wait();
    }

    remote_server(const remote_server&) = delete;
    remote_server& operator=(const remote_server&) = delete;

    ~remote_server()
    {
        unstall();
        net::post(io_, [this] {
            stop_.emit(net::cancellation_type::terminal);
            responder_->stop();
        });
        if (!wait_served(5s))
            io_.stop();
        net::post(io_, [this] { responder_.reset(); });
        thread_.join();
    }

    const std::string& bound() const { return bound_; }
    dx::responder_stats stats() const { return responder_->stats(); }

    // Stops serving: `total` (graceful) or `terminal`.
    void stop(net::cancellation_type_t type)
    {
        net::post(io_, [this, type] { stop_.emit(type); });
    }

    bool wait_served(clock_type::duration limit)
    {
        const auto end = clock_type::now() + limit;
        while (!serve_done_) {
            if (clock_type::now() > end)
                return false;
            std::this_thread::sleep_for(1ms);
        }
        return true;
    }

    boost::system::error_code served() const { return served_; }

    // Blocks the serving thread until unstall(): the process looks hung (no
    // pongs, no replies), though its sockets stay connected.
    void stall()
    {
        auto p = std::make_shared<std::promise<void>>();
        stalled_ = p->get_future().share();
        release_ = p;
        std::promise<void> entered;
        auto e = entered.get_future();
        net::post(io_, [f = stalled_, &entered] {
            entered.set_value();
            f.wait();
        });
        e.wait();
    }

    void unstall()
    {
        if (release_) {
            release_->set_value();
            release_.reset();
        }
    }

    net::io_context& io() { return io_; }

private:
    std::string endpoint_;
    std::string bound_;
    net::io_context io_;
    std::optional<dx::asio_responder<Request, Response>> responder_;
    net::cancellation_signal stop_;
    std::atomic<bool> serve_done_{false};
    std::atomic<bool> run_done_{false};
    boost::system::error_code served_;
    std::shared_future<void> stalled_;
    std::shared_ptr<std::promise<void>> release_;
    std::thread thread_;
};

// A remote client on `io`, or a failed test.
template <class Request, class Response, class Codec = dx::binary_codec>
dx::zmq_client<Request, Response, Codec> connect(net::io_context& io, std::vector<std::string> endpoints,
                                                  dx::zmq_client_options opts = {})
{
    auto c = dx::make_zmq_client<Request, Response, Codec>(io.get_executor(), endpoints, opts);
    if (!c)
        throw boost::system::system_error(c.error(), "make_zmq_client");
    return std::move(c).value();
}

}  // namespace duplex_test

#endif
