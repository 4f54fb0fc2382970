//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_ZMQ_CLIENT_HPP
#define BOOST_DUPLEX_ZMQ_CLIENT_HPP

#include <boost/duplex/codec.hpp>
#include <boost/duplex/detail/classed_client.hpp>
#include <boost/duplex/detail/zmq/client.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/priority.hpp>
#include <boost/duplex/zmq_options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace boost::duplex {

/// The client end of a remote channel: sends requests over ZeroMQ to one or
/// more serving processes (async_serve_zmq) and completes with their
/// responses. The request surface is asio_client's: the same overloads,
/// completion signatures and guarantees (exactly once, right recipient,
/// order, Asio conventions), with `closed` meaning that the serving process
/// was lost (not heard from within `zmq_client_options::peer_timeout`).
///
/// Made by make_zmq_client. Copyable; every copy may be used from any thread
/// at once. With several endpoints, each request goes to the serving process
/// with the fewest requests pending from this client among those connected.
/// `Codec` (default binary_codec) encodes the requests and decodes the
/// responses; the serving side must use the same.
template <class Request, class Response, class Codec = binary_codec>
class zmq_client : public detail::classed_client<zmq_client<Request, Response, Codec>> {
public:
    using executor_type = boost::asio::any_io_executor;
    using request_type = Request;
    using response_type = Response;
    using codec_type = Codec;

    /// The executor given to make_zmq_client: completion handlers without an
    /// associated executor of their own run there.
    executor_type get_executor() const noexcept { return state_->executor(); }

    /// Sends `req` with the client's default timeout.
    ///
    /// Completion signature: `void(result<Response>)`. Completes with the
    /// remote handler's response or error, or with `error::timeout` (at the
    /// deadline, whatever the serving side is doing), `cancelled`, `closed`
    /// (the serving process was lost, or its channel is closed) or
    /// `queue_full`. Per-operation cancellation: `terminal` at any point
    /// (the serving side is told to withdraw the request; a late answer is
    /// dropped); `partial` and `total` while it waits for room here, or is
    /// still queued in the serving process's channel (that side decides, and
    /// answers `cancelled`, or the response if the handler had it already).
    template <class CompletionToken>
    auto async_request(Request req, CompletionToken&& token);

    /// Sends `req` with its own deadline, `timeout` from now; the serving
    /// side is given the time that remains when it is sent.
    /// `duration::max()` means no deadline; zero or less times out at once.
    template <class CompletionToken>
    auto async_request(Request req, std::chrono::steady_clock::duration timeout, CompletionToken&& token);

    /// As asio_client::async_request_batch: at most `concurrency` requests
    /// outstanding, responses in input order or the first error.
    template <class Range, class CompletionToken>
    auto async_request_batch(Range&& reqs, std::size_t concurrency, CompletionToken&& token);

    /// As above, with one deadline for the whole batch, `timeout` from now.
    template <class Range, class CompletionToken>
    auto async_request_batch(Range&& reqs, std::size_t concurrency, std::chrono::steady_clock::duration timeout,
                             CompletionToken&& token);

    /// As asio_client::async_request_batch_settled.
    template <class Range, class CompletionToken>
    auto async_request_batch_settled(Range&& reqs, std::size_t concurrency, CompletionToken&& token);

    /// The default per-request deadline (zmq_client_options::timeout).
    std::chrono::steady_clock::duration default_timeout() const noexcept { return state_->options().timeout; }

private:
    using state_type = detail::zmq_io::client_state<Response, Codec>;

    template <class Req, class Resp, class C, class Executor>
    friend result<zmq_client<Req, Resp, C>> make_zmq_client(const Executor&, const std::vector<std::string>&,
                                                             zmq_client_options);

    explicit zmq_client(std::shared_ptr<state_type> s) noexcept : state_(std::move(s)) {}

    template <bool Settled, class Range, class CompletionToken>
    auto batch(Range&& reqs, std::size_t concurrency, std::optional<std::chrono::steady_clock::duration> timeout,
               CompletionToken&& token);

    struct initiate_request;
    template <bool Settled>
    struct initiate_batch;

    std::shared_ptr<state_type> state_;
    using detail::classed_client<zmq_client>::cls_;
    friend detail::classed_client<zmq_client>;
};

/// Makes a remote client connected to `endpoints` (ZeroMQ endpoints such as
/// `"tcp://host:port"` or `"ipc:///path"`, each a serving process), whose
/// completion handlers run on `ex` by default. ZeroMQ connects in the
/// background and reconnects by itself: a request made before a serving
/// process is there waits for it (or fails with `queue_full`, per
/// `opts.on_full`). Fails with `error::invalid_argument` for an empty list,
/// or with the error ZeroMQ gives for an endpoint it cannot parse.
template <class Request, class Response, class Codec = binary_codec, class Executor>
result<zmq_client<Request, Response, Codec>> make_zmq_client(const Executor& ex,
                                                             const std::vector<std::string>& endpoints,
                                                             zmq_client_options opts = {});

}  // namespace boost::duplex

#include <boost/duplex/impl/zmq_client.hpp>

#endif
