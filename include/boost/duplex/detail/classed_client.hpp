//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CLASSED_CLIENT_HPP
#define BOOST_DUPLEX_DETAIL_CLASSED_CLIENT_HPP

#include <boost/duplex/detail/core/channel_core.hpp>
#include <boost/duplex/priority.hpp>

#include <cstdint>

namespace boost::duplex::detail {

// What both clients (Client: asio_client or fiber_client, which derives from
// this) share of the taking order: the class their requests carry, and the
// copies that change it. One definition, so that the two backends cannot
// disagree on it.
template <class Client>
class classed_client {
public:
    /// A copy of this client whose requests (and batches) carry priority `p`
    /// (default `priority::normal`). The flow is kept; this client is
    /// unchanged. A value cast from outside the enumeration reads as
    /// `priority::critical`.
    Client with_priority(priority p) const
    {
        Client c(static_cast<const Client&>(*this));
        c.cls_.prio = p <= priority::critical ? p : priority::critical;
        return c;
    }

    /// A copy of this client whose requests (and batches) belong to `flow`
    /// (default 0): among requests of equal priority the responder takes one
    /// from each flow in turn. The priority is kept; this client is unchanged.
    Client with_flow(std::uint64_t flow) const
    {
        Client c(static_cast<const Client&>(*this));
        c.cls_.flow = flow;
        return c;
    }

    /// The priority this client's requests carry.
    priority get_priority() const noexcept { return cls_.prio; }

    /// The flow this client's requests belong to.
    std::uint64_t get_flow() const noexcept { return cls_.flow; }

protected:
    request_class cls_;
};

}  // namespace boost::duplex::detail

#endif
