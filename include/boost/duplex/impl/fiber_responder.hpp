//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_IMPL_FIBER_RESPONDER_HPP
#define BOOST_DUPLEX_IMPL_FIBER_RESPONDER_HPP

#include <boost/duplex/detail/core/limiter.hpp>
#include <boost/duplex/detail/fiber/run.hpp>
#include <boost/duplex/fiber_responder.hpp>

#include <type_traits>
#include <utility>

namespace boost::duplex {

template <class Request, class Response, class Storage>
auto fiber_responder<Request, Response, Storage>::operator=(fiber_responder&& other) noexcept -> fiber_responder&
{
    if (this != &other) {
        close();
        ch_ = std::move(other.ch_);
    }
    return *this;
}

template <class Request, class Response, class Storage>
fiber_responder<Request, Response, Storage>::~fiber_responder()
{
    close();
}

template <class Request, class Response, class Storage>
void fiber_responder<Request, Response, Storage>::close() noexcept
{
    if (!ch_)
        return;
    // The run refers to this responder's channel through the caller's frame;
    // destroying the responder under it is a precondition violation.
    BOOST_DUPLEX_ASSERT(!ch_->running.load());
    ch_->apply(ch_->core.close());
    ch_.reset();
}

template <class Request, class Response, class Storage>
template <class Handler, concurrency_strategy Strategy>
    requires detail::sync_handler<std::decay_t<Handler>, Request, Response>
result<void> fiber_responder<Request, Response, Storage>::run(Handler handler, Strategy strategy)
{
    return run(std::move(handler), std::move(strategy), fiber_run_options{});
}

template <class Request, class Response, class Storage>
template <class Handler, concurrency_strategy Strategy>
    requires detail::sync_handler<std::decay_t<Handler>, Request, Response>
result<void> fiber_responder<Request, Response, Storage>::run(Handler handler, Strategy strategy,
                                                               fiber_run_options options)
{
    BOOST_DUPLEX_ASSERT(ch_);
    if (ch_->run_started.exchange(true))
        return make_error_code(ch_->core.closed() ? error::closed : error::invalid_argument);
    ch_->running.store(true);
    const std::size_t stack =
        options.stack_size != 0 ? options.stack_size : detail::fiber::default_stack_size<Request, Response>();
    auto keep = ch_;  // a handler that moves this responder away does not end the channel under the run
    auto r = detail::fiber::run(keep, std::move(handler), detail::make_limiter(std::move(strategy)), stack);
    keep->running.store(false);
    return r;
}

template <class Request, class Response, class Storage>
void fiber_responder<Request, Response, Storage>::stop()
{
    BOOST_DUPLEX_ASSERT(ch_);
    ch_->apply(ch_->core.stop());
}

template <class Request, class Response, class Storage>
void fiber_responder<Request, Response, Storage>::stop(std::chrono::steady_clock::duration drain)
{
    BOOST_DUPLEX_ASSERT(ch_);
    const detail::time_point at = detail::deadline_after(detail::clock_type::now(), drain);
    ch_->apply(ch_->core.stop(at));
    if (at != detail::time_point::max())
        ch_->responder_wake.raise();  // the run loop waits for the drain's end too from now on
}

template <class Request, class Response, class Storage>
responder_stats fiber_responder<Request, Response, Storage>::stats() const
{
    BOOST_DUPLEX_ASSERT(ch_);
    return ch_->core.stats();
}

}  // namespace boost::duplex

#endif
