//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_SRC_HPP
#define BOOST_DUPLEX_SRC_HPP

// Include this header in exactly one translation unit of a program that uses
// the library without linking Boost::duplex (and without BOOST_DUPLEX_HEADER_ONLY).

#include <boost/duplex/impl/error.ipp>

#endif
