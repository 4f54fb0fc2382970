//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_IMPL_ASIO_CLIENT_HPP
#define BOOST_DUPLEX_IMPL_ASIO_CLIENT_HPP

#include <boost/duplex/asio_client.hpp>
#include <boost/duplex/detail/asio/batch_op.hpp>
#include <boost/duplex/detail/asio/request_op.hpp>

#include <boost/asio/async_result.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <utility>

namespace boost::duplex {

template <class Request, class Response, class Storage>
auto asio_client<Request, Response, Storage>::get_executor() const noexcept -> executor_type
{
    return ch_->executor;
}

template <class Request, class Response, class Storage>
template <class CompletionToken>
auto asio_client<Request, Response, Storage>::async_request(Request req, CompletionToken&& token)
{
    return async_request(std::move(req), ch_->core.options().timeout, std::forward<CompletionToken>(token));
}

template <class Request, class Response, class Storage>
template <class CompletionToken>
auto asio_client<Request, Response, Storage>::async_request(Request req, std::chrono::steady_clock::duration timeout,
                                                            CompletionToken&& token)
{
    return boost::asio::async_initiate<CompletionToken, void(result<Response>)>(
        detail::asio::initiate_request<channel_type>{ch_.shared(), cls_}, token, std::move(req), timeout);
}

template <class Request, class Response, class Storage>
template <bool Settled, class Range, class CompletionToken>
auto asio_client<Request, Response, Storage>::batch(Range&& reqs, std::size_t concurrency,
                                                    std::optional<std::chrono::steady_clock::duration> timeout,
                                                    CompletionToken&& token)
{
    using signature = void(detail::batch_value_t<Response, Settled>);
    return boost::asio::async_initiate<CompletionToken, signature>(
        detail::asio::initiate_batch<channel_type, Settled>{ch_.shared(), cls_}, token,
        detail::asio::range_ref<Range>{std::forward<Range>(reqs)}, concurrency, timeout);
}

template <class Request, class Response, class Storage>
template <class Range, class CompletionToken>
auto asio_client<Request, Response, Storage>::async_request_batch(Range&& reqs, std::size_t concurrency,
                                                                  CompletionToken&& token)
{
    return batch<false>(std::forward<Range>(reqs), concurrency, std::nullopt, std::forward<CompletionToken>(token));
}

template <class Request, class Response, class Storage>
template <class Range, class CompletionToken>
auto asio_client<Request, Response, Storage>::async_request_batch(Range&& reqs, std::size_t concurrency,
                                                                  std::chrono::steady_clock::duration timeout,
                                                                  CompletionToken&& token)
{
    return batch<false>(std::forward<Range>(reqs), concurrency, timeout, std::forward<CompletionToken>(token));
}

template <class Request, class Response, class Storage>
template <class Range, class CompletionToken>
auto asio_client<Request, Response, Storage>::async_request_batch_settled(Range&& reqs, std::size_t concurrency,
                                                                          CompletionToken&& token)
{
    return batch<true>(std::forward<Range>(reqs), concurrency, std::nullopt, std::forward<CompletionToken>(token));
}

}  // namespace boost::duplex

#endif
