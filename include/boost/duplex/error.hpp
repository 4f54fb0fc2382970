//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_ERROR_HPP
#define BOOST_DUPLEX_ERROR_HPP

#include <boost/duplex/detail/config.hpp>

#include <boost/outcome/result.hpp>
#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/is_error_code_enum.hpp>

#include <type_traits>

namespace boost::duplex {

/// The ways a request can fail inside the channel itself.
///
/// Errors produced by a handler (a `result<Response>` holding an `error_code`)
/// reach the client unchanged and are not translated into these values.
enum class error {
    /// No response before the request's deadline.
    timeout = 1,
    /// The caller cancelled the request (Asio per-operation cancellation, or a batch that failed fast).
    cancelled,
    /// The responder stopped, ended or was destroyed: no response will come.
    closed,
    /// `overflow::reject` and the request queue was at capacity.
    queue_full,
    /// The handler threw; the exception does not cross the channel.
    handler_failed,
    /// A precondition on an argument failed, e.g. a batch with concurrency 0.
    invalid_argument,
    /// Shed by the overload policy (it waited in an overloaded queue longer
    /// than its target), or displaced from a full queue by a request of
    /// higher priority. The handler never saw it.
    overloaded
};

/// The category of `error`, named `"boost.duplex"`.
BOOST_DUPLEX_DECL const boost::system::error_category& error_category() noexcept;

/// Makes an `error_code` of `error_category()` from `e`.
inline boost::system::error_code make_error_code(error e) noexcept
{
    return boost::system::error_code(static_cast<int>(e), error_category());
}

/// What every operation of the library completes with: a value or an `error_code`.
template <class T>
using result = boost::outcome_v2::result<T, boost::system::error_code>;

}  // namespace boost::duplex

template <>
struct boost::system::is_error_code_enum<boost::duplex::error> : std::true_type {};

#ifdef BOOST_DUPLEX_IS_HEADER_ONLY
#include <boost/duplex/impl/error.ipp>
#endif

#endif
