//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_ZMQ_OPTIONS_HPP
#define BOOST_DUPLEX_ZMQ_OPTIONS_HPP

#include <boost/duplex/options.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <memory>

namespace zmq {
class context_t;
}

namespace boost::duplex {

/// Settings of a remote client (see make_zmq_client and doc/zmq.md).
struct zmq_client_options {
    /// The ZeroMQ context the client's sockets belong to. Null: one context
    /// shared by every client and serving side of the process that was given
    /// none (made on first use, with one I/O thread).
    std::shared_ptr<zmq::context_t> context;

    /// Default per-request deadline, counted from the call. `duration::max()`
    /// means none.
    std::chrono::steady_clock::duration timeout = std::chrono::seconds(2);

    /// What a request does when no serving process can take it now (none is
    /// connected, or every send queue is at `send_high_water_mark`): wait
    /// (counting against its deadline), or complete with `error::queue_full`.
    overflow on_full = overflow::wait;

    /// Peer loss: a serving process that has requests pending and has not
    /// been heard from for this long is taken as lost, and those requests
    /// complete with `error::closed`.
    std::chrono::steady_clock::duration peer_timeout = std::chrono::seconds(1);

    /// How often the client pings a serving process it has requests pending
    /// on. Zero: a quarter of `peer_timeout`. Nothing is sent while nothing
    /// is pending, so an idle client costs nothing.
    std::chrono::steady_clock::duration heartbeat_interval = std::chrono::steady_clock::duration::zero();

    /// ZeroMQ's send high-water mark of each connection (ZMQ_SNDHWM).
    int send_high_water_mark = 1000;
};

/// Settings of a serving side (see async_serve_zmq and doc/zmq.md).
struct zmq_serve_options {
    /// The ZeroMQ context of the serving socket; null: the process's shared one.
    std::shared_ptr<zmq::context_t> context;

    /// Client loss: a client that has requests in flight here and has not
    /// been heard from for this long (it pings while it waits) is taken as
    /// lost, and its requests are withdrawn from the local channel (a
    /// terminal cancellation).
    std::chrono::steady_clock::duration peer_timeout = std::chrono::seconds(1);

    /// Most requests in flight through the local channel at once. Beyond
    /// that, a request is answered with `error::queue_full` at once. The
    /// socket is never left unread, so that heartbeats keep flowing.
    std::size_t max_in_flight = 65536;

    /// ZeroMQ's high-water marks of the serving socket (ZMQ_SNDHWM, ZMQ_RCVHWM).
    int send_high_water_mark = 1000;
    int receive_high_water_mark = 1000;

    /// Called once the socket is bound, with the endpoint it is bound to
    /// (ZMQ_LAST_ENDPOINT: `"tcp://127.0.0.1:*"` binds a free port, and this
    /// says which), before any request is read.
    std::function<void(const std::string&)> on_listening;
};

}  // namespace boost::duplex

#endif
