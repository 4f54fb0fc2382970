//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_HPP
#define BOOST_DUPLEX_HPP

// Everything of Boost.Duplex: the core vocabulary and both backends.

#include <boost/duplex/asio.hpp>
#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/fiber.hpp>
#include <boost/duplex/options.hpp>
#include <boost/duplex/stats.hpp>
#include <boost/duplex/storage.hpp>

#endif
