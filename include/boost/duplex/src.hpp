//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_SRC_HPP
#define BOOST_DUPLEX_SRC_HPP

// The compiled part of the library, for programs that define
// BOOST_DUPLEX_SEPARATE_COMPILATION (on every translation unit): include this
// header in exactly one of them. Without that macro the library is
// header-only and this header is not needed.

#include <boost/duplex/detail/config.hpp>

#ifdef BOOST_DUPLEX_IS_HEADER_ONLY
#error "<boost/duplex/src.hpp> is for BOOST_DUPLEX_SEPARATE_COMPILATION: without it the library is header-only"
#endif

#include <boost/duplex/impl/error.ipp>

#endif
