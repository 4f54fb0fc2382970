//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_FIBER_RESPONDER_HPP
#define BOOST_DUPLEX_FIBER_RESPONDER_HPP

#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/detail/core/invocation.hpp>
#include <boost/duplex/detail/fiber/channel.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/stats.hpp>
#include <boost/duplex/storage.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

namespace boost::duplex {

template <class Request, class Response, class Storage>
class fiber_client;

/// Options of a Fiber responder's `run()`.
struct fiber_run_options {
    /// The stack size of each handler fiber, in bytes. 0 (the default): 128 KiB,
    /// more for large request and response types (64 KiB and eight of each of
    /// them: an invocation's frames hold a few on the way, more in debug builds). Handlers that need deep
    /// stacks of their own (recursion, large locals) need a size to match:
    /// a stack overflow is not detected. `run()` itself runs on the calling
    /// fiber, whose stack is the caller's: with large responses it needs room
    /// for a few of them too (the run loop completes requests that end early,
    /// expired or closed, on it).
    std::size_t stack_size = 0;
};

/// The responder end of a Boost.Fiber duplex channel.
///
/// Move-only. It must outlive its own `run()` call (asserted in debug
/// builds). Destroying it closes the channel: every pending request completes
/// with `error::closed` at once. A moved-from responder may only be destroyed
/// or assigned to.
template <class Request, class Response, class Storage = sharded_slab>
class fiber_responder {
public:
    using request_type = Request;
    using response_type = Response;

    fiber_responder(fiber_responder&&) noexcept = default;
    fiber_responder& operator=(fiber_responder&& other) noexcept;
    fiber_responder(const fiber_responder&) = delete;
    fiber_responder& operator=(const fiber_responder&) = delete;
    ~fiber_responder();

    /// Serves requests, blocking the calling fiber, until `stop()`, or until
    /// every client is gone and every accepted request is answered; then
    /// returns success.
    ///
    /// `handler` is `Response(Request)` or `result<Response>(Request)`. Each
    /// invocation runs in a fiber of its own (launched on this thread; a
    /// work-sharing scheduler may move it) and may block that fiber: sleep,
    /// take a fiber mutex, make a request on another channel. At most
    /// `strategy`'s limit of invocations run at once. A throwing handler
    /// yields `error::handler_failed` for its request.
    ///
    /// A channel runs once: a second call returns `error::closed` (after the
    /// first run ended) or `error::invalid_argument` (while it runs).
    template <class Handler, concurrency_strategy Strategy = fixed_concurrency>
        requires detail::sync_handler<std::decay_t<Handler>, Request, Response>
    result<void> run(Handler handler, Strategy strategy = {});

    /// As above, with the handler fibers' stacks as `options` says.
    template <class Handler, concurrency_strategy Strategy>
        requires detail::sync_handler<std::decay_t<Handler>, Request, Response>
    result<void> run(Handler handler, Strategy strategy, fiber_run_options options);

    /// Stops accepting requests: new and queued ones complete with
    /// `error::closed`, running ones finish and are delivered, then `run()`
    /// returns success. Callable from any thread and from a handler.
    void stop();

    /// As `stop()`, with a bound: requests still running when `drain` has
    /// passed complete with `error::closed` at once (their late results are
    /// dropped), and `run()` returns then -- `error::timeout` if a handler
    /// invocation was still running, otherwise success -- without waiting for
    /// them. A handler that never returns does not keep `run()` from
    /// returning; its fiber goes on, and what the invocation uses (the
    /// handler, the limiter, the channel) stays alive until it ends.
    /// `duration::max()` is `stop()`; with several calls the earliest bound
    /// holds. Callable from any thread and from a handler.
    void stop(std::chrono::steady_clock::duration drain);

    /// A snapshot of the counters, callable from any thread.
    responder_stats stats() const;

private:
    using channel_type = detail::fiber::channel<Request, Response, Storage>;

    template <class Req, class Resp, class S>
    friend std::pair<fiber_client<Req, Resp, S>, fiber_responder<Req, Resp, S>> make_fiber_channel(channel_options);

    explicit fiber_responder(std::shared_ptr<channel_type> ch) noexcept : ch_(std::move(ch)) {}

    void close() noexcept;

    std::shared_ptr<channel_type> ch_;
};

}  // namespace boost::duplex

#include <boost/duplex/impl/fiber_responder.hpp>

#endif
