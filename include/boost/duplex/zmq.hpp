//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_ZMQ_HPP
#define BOOST_DUPLEX_ZMQ_HPP

// Remote responders over ZeroMQ (doc/zmq.md): zmq_client, async_serve_zmq,
// their options and the codecs. An optional part: it needs libzmq and
// cppzmq (CMake target Boost::duplex_zmq). json_codec has a header of its
// own (<boost/duplex/json_codec.hpp>), as it needs Boost.JSON.

#include <boost/duplex/codec.hpp>
#include <boost/duplex/zmq_client.hpp>
#include <boost/duplex/zmq_options.hpp>
#include <boost/duplex/zmq_serve.hpp>

#endif
