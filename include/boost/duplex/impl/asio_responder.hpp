//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_IMPL_ASIO_RESPONDER_HPP
#define BOOST_DUPLEX_IMPL_ASIO_RESPONDER_HPP

#include <boost/duplex/asio_responder.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <type_traits>
#include <utility>

namespace boost::duplex {

template <class Request, class Response, class Storage>
auto asio_responder<Request, Response, Storage>::operator=(asio_responder&& other) noexcept -> asio_responder&
{
    if (this != &other) {
        close();
        ch_ = std::move(other.ch_);
    }
    return *this;
}

template <class Request, class Response, class Storage>
asio_responder<Request, Response, Storage>::~asio_responder()
{
    close();
}

template <class Request, class Response, class Storage>
void asio_responder<Request, Response, Storage>::close() noexcept
{
    if (!ch_)
        return;
    auto ch = std::move(ch_);
    ch->responder_gone.store(true);
    // A run with coroutine handlers still running completes now, not when they end.
    ch->shut_down();
}

template <class Request, class Response, class Storage>
auto asio_responder<Request, Response, Storage>::get_executor() const noexcept -> executor_type
{
    BOOST_DUPLEX_ASSERT(ch_);
    return ch_->executor;
}

template <class Request, class Response, class Storage>
template <class Handler, concurrency_strategy Strategy, class CompletionToken>
    requires detail::asio::request_handler<std::decay_t<Handler>, Request, Response>
auto asio_responder<Request, Response, Storage>::async_run(Handler handler, Strategy strategy, CompletionToken&& token)
{
    BOOST_DUPLEX_ASSERT(ch_);
    return boost::asio::async_initiate<CompletionToken, void(result<void>)>(
        detail::asio::initiate_run<channel_type>{ch_}, token, std::move(handler), std::move(strategy));
}

template <class Request, class Response, class Storage>
void asio_responder<Request, Response, Storage>::stop()
{
    BOOST_DUPLEX_ASSERT(ch_);
    ch_->apply(ch_->core.stop());
}

template <class Request, class Response, class Storage>
void asio_responder<Request, Response, Storage>::stop(std::chrono::steady_clock::duration drain)
{
    BOOST_DUPLEX_ASSERT(ch_);
    const detail::time_point at = detail::deadline_after(detail::clock_type::now(), drain);
    ch_->apply(ch_->core.stop(at));
    if (at == detail::time_point::max())
        return;
    boost::asio::post(ch_->responder_strand, [ch = ch_]() noexcept {
        if (ch->run)
            ch->run->call({detail::asio::run_event::drain_until, ch->core.drain_deadline()});
    });
}

template <class Request, class Response, class Storage>
responder_stats asio_responder<Request, Response, Storage>::stats() const
{
    BOOST_DUPLEX_ASSERT(ch_);
    return ch_->core.stats();
}

}  // namespace boost::duplex

#endif
