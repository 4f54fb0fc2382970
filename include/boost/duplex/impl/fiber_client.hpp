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
auto fiber_client<Request, Response, Storage>::with_priority(priority p) const -> fiber_client
{
    fiber_client c(*this);
    c.cls_.prio = p <= priority::critical ? p : priority::critical;  // a value cast from outside the enumeration
    return c;
}

template <class Request, class Response, class Storage>
auto fiber_client<Request, Response, Storage>::with_flow(std::uint64_t flow) const -> fiber_client
{
    fiber_client c(*this);
    c.cls_.flow = flow;
    return c;
}

template <class Request, class Response, class Storage>
priority fiber_client<Request, Response, Storage>::get_priority() const noexcept
{
    return cls_.prio;
}

template <class Request, class Response, class Storage>
std::uint64_t fiber_client<Request, Response, Storage>::get_flow() const noexcept
{
    return cls_.flow;
}

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
