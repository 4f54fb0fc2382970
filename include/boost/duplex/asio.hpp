//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_ASIO_HPP
#define BOOST_DUPLEX_ASIO_HPP

#include <boost/duplex/asio_client.hpp>
#include <boost/duplex/asio_responder.hpp>
#include <boost/duplex/options.hpp>
#include <boost/duplex/storage.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution/executor.hpp>
#include <boost/asio/is_executor.hpp>

#include <memory>
#include <utility>

namespace boost::duplex {

/// Makes a channel whose operations use `ex`: the client's completion
/// handlers run there unless they have an executor of their own, the
/// responder runs on a strand of it, and deadlines are kept by one timer on
/// another strand of it. `ex` may be run by any number of threads.
template <class Request, class Response, class Storage = sharded_slab, class Executor>
std::pair<asio_client<Request, Response, Storage>, asio_responder<Request, Response, Storage>>
make_asio_channel(const Executor& ex, channel_options opts = {})
{
    static_assert(boost::asio::execution::is_executor<Executor>::value || boost::asio::is_executor<Executor>::value,
                  "make_asio_channel needs an executor, e.g. io_context.get_executor()");
    auto ch = std::make_shared<detail::asio::channel<Request, Response, Storage>>(boost::asio::any_io_executor(ex), opts);
    return {asio_client<Request, Response, Storage>(ch), asio_responder<Request, Response, Storage>(ch)};
}

}  // namespace boost::duplex

#endif
