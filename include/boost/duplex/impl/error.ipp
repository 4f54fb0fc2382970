//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_IMPL_ERROR_IPP
#define BOOST_DUPLEX_IMPL_ERROR_IPP

#include <boost/duplex/error.hpp>

#include <string>

namespace boost::duplex {
namespace detail {

class error_category_impl final : public boost::system::error_category {
public:
    // A fixed id lets categories from several copies of the library (shared
    // objects, header-only and compiled users) compare equal.
    error_category_impl() noexcept : boost::system::error_category(0x8d3c'5a1e'7b20'94f1ULL) {}

    const char* name() const noexcept override { return "boost.duplex"; }

    std::string message(int ev) const override { return message(ev, nullptr, 0); }

    const char* message(int ev, char*, std::size_t) const noexcept override
    {
        switch (static_cast<error>(ev)) {
        case error::timeout: return "no response before the request's deadline";
        case error::cancelled: return "the request was cancelled";
        case error::closed: return "the responder is closed: no response will come";
        case error::queue_full: return "the request queue is full";
        case error::handler_failed: return "the request handler failed with an exception";
        case error::invalid_argument: return "invalid argument";
        case error::overloaded: return "the responder is overloaded: the request was shed";
        }
        return "unknown boost.duplex error";
    }
};

}  // namespace detail

BOOST_DUPLEX_DECL const boost::system::error_category& error_category() noexcept
{
    static const detail::error_category_impl instance;
    return instance;
}

}  // namespace boost::duplex

#endif
