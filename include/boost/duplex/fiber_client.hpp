//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_FIBER_CLIENT_HPP
#define BOOST_DUPLEX_FIBER_CLIENT_HPP

#include <boost/duplex/detail/fiber/channel.hpp>
#include <boost/duplex/detail/classed_client.hpp>
#include <boost/duplex/detail/client_ref.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/options.hpp>
#include <boost/duplex/priority.hpp>
#include <boost/duplex/storage.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <utility>
#include <vector>

namespace boost::duplex {

template <class Request, class Response, class Storage>
class fiber_responder;

/// The client end of a Boost.Fiber duplex channel.
///
/// Copyable; usable from any fiber on any thread, including a thread's main
/// context (a plain thread that never started a fiber: its calls block the
/// thread). Each call blocks only the calling fiber; every other fiber on the
/// thread keeps running. The responder's run ends by itself once every copy
/// is gone and every accepted request has been answered. A moved-from client
/// may only be destroyed or assigned to.
template <class Request, class Response, class Storage = sharded_slab>
class fiber_client : public detail::classed_client<fiber_client<Request, Response, Storage>> {
public:
    using request_type = Request;
    using response_type = Response;

    fiber_client(const fiber_client&) noexcept = default;
    fiber_client(fiber_client&&) noexcept = default;
    fiber_client& operator=(const fiber_client&) noexcept = default;
    fiber_client& operator=(fiber_client&&) noexcept = default;
    ~fiber_client() = default;

    /// Sends `req` with the channel's default timeout and waits for its result:
    /// the handler's response or error, or `error::timeout`, `closed` or `queue_full`.
    result<Response> request(Request req);

    /// Sends `req` with its own deadline, `timeout` from now.
    /// `duration::max()` means no deadline; zero or less times out at once.
    result<Response> request(Request req, std::chrono::steady_clock::duration timeout);

    /// Sends every request of `reqs`, at most `concurrency` outstanding at
    /// once, each with the default timeout; the responses in input order, or
    /// the first error (the batch's other requests are then cancelled: those
    /// still queued never reach the handler). `concurrency == 0` gives
    /// `error::invalid_argument`; an empty range, an empty vector. An element
    /// that cannot be made into a request (its conversion throws, or reading
    /// an input range does: input ranges are read first) fails with
    /// `error::invalid_argument`; only `std::bad_alloc` escapes.
    template <class Range>
    result<std::vector<Response>> request_batch(Range&& reqs, std::size_t concurrency);

    /// As above, with one deadline for the whole batch, `timeout` from now.
    template <class Range>
    result<std::vector<Response>> request_batch(Range&& reqs, std::size_t concurrency,
                                                std::chrono::steady_clock::duration timeout);

    /// Sends every request of `reqs`, at most `concurrency` outstanding at
    /// once, and lets each one settle; one result per request, in input
    /// order (with `concurrency == 0`, every one is `error::invalid_argument`).
    template <class Range>
    std::vector<result<Response>> request_batch_settled(Range&& reqs, std::size_t concurrency);

    // Cancellation (parity with Asio's terminal cancellation). A stop
    // requested through `stop`, from any thread, before the response is
    // delivered completes the call promptly with `error::cancelled`: a request
    // still queued or waiting for room never reaches the handler; a running
    // one's late result is dropped (its handler is not interrupted). A stop
    // requested already when the call is made sends nothing. Requests the
    // channel had accepted count in `responder_stats::cancelled`.

    /// `request(req)`, cancelled by a stop request on `stop`.
    result<Response> request(Request req, std::stop_token stop);

    /// `request(req, timeout)`, cancelled by a stop request on `stop`.
    result<Response> request(Request req, std::chrono::steady_clock::duration timeout, std::stop_token stop);

    /// `request_batch(reqs, concurrency)`, cancelled by a stop request on
    /// `stop`: every request not yet settled ends with `error::cancelled`, and
    /// so does the batch (fail-fast).
    template <class Range>
    result<std::vector<Response>> request_batch(Range&& reqs, std::size_t concurrency, std::stop_token stop);

    /// `request_batch(reqs, concurrency, timeout)`, cancelled by a stop request on `stop`.
    template <class Range>
    result<std::vector<Response>> request_batch(Range&& reqs, std::size_t concurrency,
                                                std::chrono::steady_clock::duration timeout, std::stop_token stop);

    /// `request_batch_settled(reqs, concurrency)`, cancelled by a stop request
    /// on `stop`: the requests not yet settled then end with `error::cancelled`.
    template <class Range>
    std::vector<result<Response>> request_batch_settled(Range&& reqs, std::size_t concurrency,
                                                        std::stop_token stop);

private:
    using channel_type = detail::fiber::channel<Request, Response, Storage>;

    template <class Req, class Resp, class S>
    friend std::pair<fiber_client<Req, Resp, S>, fiber_responder<Req, Resp, S>> make_fiber_channel(channel_options);

    explicit fiber_client(std::shared_ptr<channel_type> ch) noexcept : ch_(std::move(ch)) {}

    detail::client_ref<channel_type> ch_;
    using detail::classed_client<fiber_client>::cls_;
    friend detail::classed_client<fiber_client>;  // it copies and sets the class
};

}  // namespace boost::duplex

#include <boost/duplex/impl/fiber_client.hpp>

#endif
