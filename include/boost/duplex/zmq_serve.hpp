//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_ZMQ_SERVE_HPP
#define BOOST_DUPLEX_ZMQ_SERVE_HPP

#include <boost/duplex/asio_client.hpp>
#include <boost/duplex/codec.hpp>
#include <boost/duplex/detail/zmq/server.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/zmq_options.hpp>

#include <boost/asio/async_result.hpp>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace boost::duplex {

/// Serves remote clients (zmq_client) from an in-process channel: binds a
/// ZeroMQ ROUTER socket to `endpoint`, decodes each request with `Codec`
/// (default binary_codec) and sends it through `local`, a client of that
/// channel, with the time that remained of its deadline when it was sent,
/// its priority and its flow, so that the channel's responder, limits,
/// overload control, deadlines and stats apply as to local requests; then
/// sends back the response or the error code.
///
/// A cancellation from the remote caller reaches the local request with the
/// same type (so `terminal` withdraws it, queued or not). A client with
/// requests in flight that is not heard from within `opts.peer_timeout` is
/// taken as lost, and its requests are withdrawn (terminal cancellation).
///
/// Completion signature: `void(result<void>)`; runs until stopped through
/// per-operation cancellation: `partial` or `total` is a graceful stop (new
/// requests are answered with `error::closed`, those in flight are answered
/// as they finish, then it completes with success); `terminal` withdraws
/// what is in flight (answered with `error::closed`) and completes with
/// `error::cancelled`. A socket that cannot be bound, or fails, completes it
/// with ZeroMQ's error (generic category).
template <class Codec = binary_codec, class Request, class Response, class Storage, class CompletionToken>
auto async_serve_zmq(std::string endpoint, asio_client<Request, Response, Storage> local, zmq_serve_options opts,
                     CompletionToken&& token);

/// As above, with default options.
template <class Codec = binary_codec, class Request, class Response, class Storage, class CompletionToken>
auto async_serve_zmq(std::string endpoint, asio_client<Request, Response, Storage> local, CompletionToken&& token)
{
    return async_serve_zmq<Codec>(std::move(endpoint), std::move(local), zmq_serve_options{},
                                  std::forward<CompletionToken>(token));
}

namespace detail::zmq_io {

template <class Codec>
struct initiate_serve {
    template <class Handler, class Request, class Response, class Storage>
    void operator()(Handler&& h, std::string endpoint, asio_client<Request, Response, Storage> local,
                    zmq_serve_options opts) const
    {
        using op = serve_op<Request, Response, Storage, Codec, std::decay_t<Handler>>;
        std::decay_t<Handler> handler(std::forward<Handler>(h));
        auto p = std::make_shared<op>(std::move(local), std::move(opts), std::move(handler));
        p->start(endpoint);
    }
};

}  // namespace detail::zmq_io

template <class Codec, class Request, class Response, class Storage, class CompletionToken>
auto async_serve_zmq(std::string endpoint, asio_client<Request, Response, Storage> local, zmq_serve_options opts,
                     CompletionToken&& token)
{
    return boost::asio::async_initiate<CompletionToken, void(result<void>)>(
        detail::zmq_io::initiate_serve<Codec>{}, token, std::move(endpoint), std::move(local), std::move(opts));
}

}  // namespace boost::duplex

#endif
