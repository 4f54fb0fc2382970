//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_IMPL_FIBER_CLIENT_HPP
#define BOOST_DUPLEX_IMPL_FIBER_CLIENT_HPP

#include <boost/duplex/detail/fiber/operations.hpp>
#include <boost/duplex/fiber_client.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <stop_token>
#include <utility>
#include <vector>

namespace boost::duplex {

template <class Request, class Response, class Storage>
result<Response> fiber_client<Request, Response, Storage>::request(Request req)
{
    return detail::fiber::request(*ch_, cls_, std::move(req), ch_->core.options().timeout);
}

template <class Request, class Response, class Storage>
result<Response> fiber_client<Request, Response, Storage>::request(Request req,
                                                                   std::chrono::steady_clock::duration timeout)
{
    return detail::fiber::request(*ch_, cls_, std::move(req), timeout);
}

template <class Request, class Response, class Storage>
template <class Range>
result<std::vector<Response>> fiber_client<Request, Response, Storage>::request_batch(Range&& reqs,
                                                                                      std::size_t concurrency)
{
    return detail::fiber::request_batch<channel_type, false>(*ch_, cls_, std::forward<Range>(reqs), concurrency, std::nullopt);
}

template <class Request, class Response, class Storage>
template <class Range>
result<std::vector<Response>> fiber_client<Request, Response, Storage>::request_batch(
    Range&& reqs, std::size_t concurrency, std::chrono::steady_clock::duration timeout)
{
    return detail::fiber::request_batch<channel_type, false>(*ch_, cls_, std::forward<Range>(reqs), concurrency, timeout);
}

template <class Request, class Response, class Storage>
template <class Range>
std::vector<result<Response>> fiber_client<Request, Response, Storage>::request_batch_settled(Range&& reqs,
                                                                                              std::size_t concurrency)
{
    return detail::fiber::request_batch<channel_type, true>(*ch_, cls_, std::forward<Range>(reqs), concurrency, std::nullopt);
}

template <class Request, class Response, class Storage>
result<Response> fiber_client<Request, Response, Storage>::request(Request req, std::stop_token stop)
{
    return detail::fiber::request(*ch_, cls_, std::move(req), ch_->core.options().timeout, std::move(stop));
}

template <class Request, class Response, class Storage>
result<Response> fiber_client<Request, Response, Storage>::request(Request req,
                                                                   std::chrono::steady_clock::duration timeout,
                                                                   std::stop_token stop)
{
    return detail::fiber::request(*ch_, cls_, std::move(req), timeout, std::move(stop));
}

template <class Request, class Response, class Storage>
template <class Range>
result<std::vector<Response>> fiber_client<Request, Response, Storage>::request_batch(Range&& reqs,
                                                                                      std::size_t concurrency,
                                                                                      std::stop_token stop)
{
    return detail::fiber::request_batch<channel_type, false>(*ch_, cls_, std::forward<Range>(reqs), concurrency, std::nullopt,
                                                             std::move(stop));
}

template <class Request, class Response, class Storage>
template <class Range>
result<std::vector<Response>> fiber_client<Request, Response, Storage>::request_batch(
    Range&& reqs, std::size_t concurrency, std::chrono::steady_clock::duration timeout, std::stop_token stop)
{
    return detail::fiber::request_batch<channel_type, false>(*ch_, cls_, std::forward<Range>(reqs), concurrency, timeout,
                                                             std::move(stop));
}

template <class Request, class Response, class Storage>
template <class Range>
std::vector<result<Response>> fiber_client<Request, Response, Storage>::request_batch_settled(Range&& reqs,
                                                                                              std::size_t concurrency,
                                                                                              std::stop_token stop)
{
    return detail::fiber::request_batch<channel_type, true>(*ch_, cls_, std::forward<Range>(reqs), concurrency, std::nullopt,
                                                            std::move(stop));
}

}  // namespace boost::duplex

#endif
