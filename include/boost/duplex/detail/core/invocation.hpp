//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CORE_INVOCATION_HPP
#define BOOST_DUPLEX_DETAIL_CORE_INVOCATION_HPP

#include <boost/duplex/detail/core/slot.hpp>
#include <boost/duplex/error.hpp>

#include <chrono>
#include <concepts>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

namespace boost::duplex::detail {

// Turns what a handler returned (a Response, something convertible to it, or
// a result<Response>) into result<Response>.
template <class Response, class R>
result<Response> to_result(R&& r)
{
    if constexpr (std::is_same_v<std::decay_t<R>, result<Response>>)
        return std::forward<R>(r);
    else
        return result<Response>(boost::outcome_v2::in_place_type<Response>, std::forward<R>(r));
}

// A synchronous handler: Response(Request) or result<Response>(Request).
template <class Handler, class Request, class Response>
concept sync_handler = std::invocable<Handler&, Request&&> &&
                       (std::convertible_to<std::invoke_result_t<Handler&, Request&&>, Response> ||
                        std::same_as<std::invoke_result_t<Handler&, Request&&>, result<Response>>);

// Runs a synchronous handler. An exception becomes error::handler_failed, so
// that it never crosses the channel; std::bad_alloc is no exception to that,
// since the responder must go on serving.
template <class Response, class Handler, class Request>
result<Response> invoke_sync(Handler& h, Request&& req) noexcept
{
    try {
        return to_result<Response>(h(std::forward<Request>(req)));
    } catch (...) {
        return make_error_code(error::handler_failed);
    }
}

// invoke_sync() on the request of a taken slot, moved out inside the same
// try: a Request whose move throws fails its request (handler_failed) as a
// throwing handler does, and the responder goes on.
template <class Response, class Core, class Handler>
result<Response> invoke_taken(Handler& h, typename Core::slot_type* s) noexcept
{
    try {
        return to_result<Response>(h(Core::take_request(s)));
    } catch (...) {
        return make_error_code(error::handler_failed);
    }
}

// Moves a result on a path that must not throw: a Response whose move throws
// becomes handler_failed (the response cannot reach its client).
template <class Response>
result<Response> move_or_fail(result<Response>& r) noexcept
{
    try {
        return std::move(r);
    } catch (...) {
        return make_error_code(error::handler_failed);
    }
}

// Stores a result (in a std::optional or a manual) on a path that must not
// throw: a Response whose move throws is stored as handler_failed instead.
template <class Storage, class Response>
void emplace_or_fail(Storage& to, result<Response>& r) noexcept
{
    try {
        to.emplace(std::move(r));
    } catch (...) {
        to.emplace(make_error_code(error::handler_failed));
    }
}

// The time to check a taken request against when its handler is about to
// start (channel_core::begin()): a request without a deadline needs no clock.
template <class Slot>
time_point time_to_begin(const Slot* s) noexcept
{
    return s->deadline == time_point::max() ? time_point::min() : clock_type::now();
}

// Reports the end of one handler invocation to the core (which delivers or
// drops the result) and then to the limiter. The limiter hears
// `ok == false` when the handler failed or the request's deadline passed
// before the handler ended; a request cancelled or closed meanwhile is no sign
// of overload and counts as ok.
// `may_run_inline`: see waiter::complete().
template <class Core, class Limiter, class Response>
void end_invocation(Core& core, Limiter& limiter, typename Core::slot_type* s, result<Response>&& r,
                    time_point started, time_point now, bool may_run_inline = false)
{
    const bool value = r.has_value();
    const bool late = now >= s->deadline;  // read before finish() hands the slot back
    const run_outcome how = core.finish(s, std::move(r), may_run_inline);
    bool ok;
    switch (how) {
    case run_outcome::delivered: ok = value && !late; break;
    case run_outcome::timed_out: ok = false; break;
    default: ok = true; break;
    }
    limiter.on_complete(std::chrono::duration_cast<std::chrono::nanoseconds>(now - started), ok);
}

}  // namespace boost::duplex::detail

#endif
