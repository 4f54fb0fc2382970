//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_ASIO_RESPONDER_HPP
#define BOOST_DUPLEX_ASIO_RESPONDER_HPP

#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/detail/asio/channel.hpp>
#include <boost/duplex/detail/asio/run_op.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/stats.hpp>
#include <boost/duplex/storage.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <memory>
#include <type_traits>
#include <utility>

namespace boost::duplex {

template <class Request, class Response, class Storage>
class asio_client;

/// The responder end of an Asio duplex channel: runs a handler on each
/// request and sends back its result.
///
/// Move-only. Destroying it closes the channel: every pending request,
/// queued or in flight, completes with `error::closed` at once, late handler
/// results are dropped, and a pending `async_run` completes with
/// `error::closed`. A moved-from responder may only be destroyed or assigned to.
template <class Request, class Response, class Storage = sharded_slab>
class asio_responder {
public:
    using executor_type = boost::asio::any_io_executor;
    using request_type = Request;
    using response_type = Response;

    asio_responder(asio_responder&&) noexcept = default;
    asio_responder& operator=(asio_responder&& other) noexcept;
    asio_responder(const asio_responder&) = delete;
    asio_responder& operator=(const asio_responder&) = delete;
    ~asio_responder();

    /// The channel's executor; the responder runs on a strand of it.
    executor_type get_executor() const noexcept;

    /// Serves requests until `stop()`, or until every client is gone and
    /// every accepted request is answered; then completes with success.
    ///
    /// `handler` is one of `Response(Request)`, `result<Response>(Request)`,
    /// `awaitable<Response>(Request)` and `awaitable<result<Response>>(Request)`.
    /// Its invocations never overlap in time on the strand, so it may use
    /// shared state without locks; at most `strategy`'s limit of them are
    /// running at once (coroutine handlers interleave at their suspension points).
    /// A throwing handler yields `error::handler_failed` for its request.
    ///
    /// `strategy` is `fixed_concurrency`, `dynamic_concurrency`, `aimd_concurrency`
    /// or a user limiter (see <boost/duplex/concurrency.hpp>).
    ///
    /// Completion signature: `void(result<void>)`. A channel runs once: a
    /// second call completes with `error::closed` (after the first run ended)
    /// or `error::invalid_argument` (while it runs).
    ///
    /// Per-operation cancellation: `terminal` closes the channel as
    /// destroying the responder does (every pending request, running ones
    /// included, and every later one completes with `error::closed`; running
    /// awaitable handlers receive a `terminal` cancellation, their late
    /// results are dropped) and the run completes with `error::cancelled` at
    /// once, without waiting for handlers. `partial` and `total` are ignored.
    template <class Handler, concurrency_strategy Strategy, class CompletionToken>
        requires detail::asio::request_handler<std::decay_t<Handler>, Request, Response>
    auto async_run(Handler handler, Strategy strategy, CompletionToken&& token);

    /// Stops accepting requests: new and queued ones complete with
    /// `error::closed`, running ones finish and are delivered, then the run
    /// completes with success. Callable from any thread and from a handler.
    void stop();

    /// As `stop()`, with a bound: requests still running when `drain` has
    /// passed complete with `error::closed` at once (their late results are
    /// dropped; awaitable handlers receive a `terminal` cancellation), and the
    /// run completes then -- with `error::timeout` if a handler invocation was
    /// still running, otherwise with success -- without waiting for them. A
    /// coroutine handler goes on until it ends by itself, with what it uses
    /// kept alive. A synchronous handler holds the responder strand until it
    /// returns, so the bound applies once it has. `duration::max()` is `stop()`;
    /// with several calls the earliest bound holds. Callable from any thread
    /// and from a handler.
    void stop(std::chrono::steady_clock::duration drain);

    /// A snapshot of the counters, callable from any thread.
    responder_stats stats() const;

private:
    using channel_type = detail::asio::channel<Request, Response, Storage>;

    template <class Req, class Resp, class S, class Executor>
    friend std::pair<asio_client<Req, Resp, S>, asio_responder<Req, Resp, S>> make_asio_channel(const Executor&,
                                                                                                  channel_options);

    explicit asio_responder(std::shared_ptr<channel_type> ch) noexcept : ch_(std::move(ch)) {}

    void close() noexcept;

    std::shared_ptr<channel_type> ch_;
};

}  // namespace boost::duplex

#include <boost/duplex/impl/asio_responder.hpp>

#endif
