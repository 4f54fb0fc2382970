//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_FIBER_HPP
#define BOOST_DUPLEX_FIBER_HPP

#include <boost/duplex/fiber_client.hpp>
#include <boost/duplex/fiber_responder.hpp>
#include <boost/duplex/options.hpp>
#include <boost/duplex/storage.hpp>

#include <memory>
#include <utility>

namespace boost::duplex {

/// Makes a Boost.Fiber channel: a client (copy it freely, use it from any
/// fiber on any thread) and its responder (run it in a fiber).
template <class Request, class Response, class Storage = sharded_slab>
std::pair<fiber_client<Request, Response, Storage>, fiber_responder<Request, Response, Storage>>
make_fiber_channel(channel_options opts = {})
{
    auto ch = std::make_shared<detail::fiber::channel<Request, Response, Storage>>(opts);
    return {fiber_client<Request, Response, Storage>(ch), fiber_responder<Request, Response, Storage>(ch)};
}

}  // namespace boost::duplex

#endif
