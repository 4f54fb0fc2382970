//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_ASIO_CLIENT_HPP
#define BOOST_DUPLEX_ASIO_CLIENT_HPP

#include <boost/duplex/detail/asio/channel.hpp>
#include <boost/duplex/detail/classed_client.hpp>
#include <boost/duplex/detail/client_ref.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/priority.hpp>
#include <boost/duplex/storage.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ranges>
#include <utility>
#include <vector>

namespace boost::duplex {

template <class Request, class Response, class Storage>
class asio_responder;

/// The client end of an Asio duplex channel: sends requests to the
/// channel's responder and completes with their responses.
///
/// Copyable; every copy may be used from any thread at once. The responder's
/// run ends by itself once every copy is gone and every accepted request has
/// been answered. A moved-from client may only be destroyed or assigned to.
template <class Request, class Response, class Storage = sharded_slab>
class asio_client : public detail::classed_client<asio_client<Request, Response, Storage>> {
public:
    using executor_type = boost::asio::any_io_executor;
    using request_type = Request;
    using response_type = Response;

    asio_client(const asio_client&) noexcept = default;
    asio_client(asio_client&&) noexcept = default;
    asio_client& operator=(const asio_client&) noexcept = default;
    asio_client& operator=(asio_client&&) noexcept = default;
    ~asio_client() = default;

    /// The channel's executor: completion handlers without an associated
    /// executor of their own run there.
    executor_type get_executor() const noexcept;

    /// Sends `req` with the channel's default timeout.
    ///
    /// Completion signature: `void(result<Response>)`. Completes with the
    /// handler's response or error, or with `error::timeout`, `cancelled`,
    /// `closed` or `queue_full`. Supports per-operation cancellation: any
    /// type while the request is still queued or waiting for room, `terminal`
    /// while its handler runs (the late result is then dropped).
    template <class CompletionToken>
    auto async_request(Request req, CompletionToken&& token);

    /// Sends `req` with its own deadline, `timeout` from now.
    /// `duration::max()` means no deadline; zero or less times out at once.
    template <class CompletionToken>
    auto async_request(Request req, std::chrono::steady_clock::duration timeout, CompletionToken&& token);

    /// Sends every request of `reqs`, at most `concurrency` outstanding at
    /// once, each with the default timeout.
    ///
    /// Completion signature: `void(result<std::vector<Response>>)`: the
    /// responses in input order, or the first error, in which case the
    /// batch's other requests are cancelled. An lvalue range must outlive the
    /// operation (its elements are copied as they are sent); an rvalue range
    /// is moved into it (its elements are moved from). `concurrency == 0`
    /// gives `error::invalid_argument`; an empty range, an empty vector. An
    /// element that cannot be made into a request (its conversion throws, or
    /// reading an input range does: input ranges are read first) fails with
    /// `error::invalid_argument`; only `std::bad_alloc` escapes.
    template <class Range, class CompletionToken>
    auto async_request_batch(Range&& reqs, std::size_t concurrency, CompletionToken&& token);

    /// As above, with one deadline for the whole batch, `timeout` from now.
    template <class Range, class CompletionToken>
    auto async_request_batch(Range&& reqs, std::size_t concurrency, std::chrono::steady_clock::duration timeout,
                             CompletionToken&& token);

    /// Sends every request of `reqs`, at most `concurrency` outstanding at
    /// once, and lets each one settle.
    ///
    /// Completion signature: `void(std::vector<result<Response>>)`, in input
    /// order. With `concurrency == 0` every element is `error::invalid_argument`.
    template <class Range, class CompletionToken>
    auto async_request_batch_settled(Range&& reqs, std::size_t concurrency, CompletionToken&& token);

private:
    using channel_type = detail::asio::channel<Request, Response, Storage>;

    template <class Req, class Resp, class S, class Executor>
    friend std::pair<asio_client<Req, Resp, S>, asio_responder<Req, Resp, S>> make_asio_channel(const Executor&,
                                                                                                  channel_options);

    explicit asio_client(std::shared_ptr<channel_type> ch) noexcept : ch_(std::move(ch)) {}

    template <bool Settled, class Range, class CompletionToken>
    auto batch(Range&& reqs, std::size_t concurrency, std::optional<std::chrono::steady_clock::duration> timeout,
               CompletionToken&& token);

    detail::client_ref<channel_type> ch_;
    using detail::classed_client<asio_client>::cls_;
    friend detail::classed_client<asio_client>;  // it copies and sets the class
};

}  // namespace boost::duplex

#include <boost/duplex/impl/asio_client.hpp>

#endif
