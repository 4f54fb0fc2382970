//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CONFIG_HPP
#define BOOST_DUPLEX_DETAIL_CONFIG_HPP

#include <boost/config.hpp>

// The library's few non-template functions live in src/ (compiled into
// Boost::duplex). Define BOOST_DUPLEX_HEADER_ONLY to have them inline instead,
// or include <boost/duplex/src.hpp> in exactly one translation unit.
// Header-only by default: the few non-template functions are defined inline
// in every translation unit that includes them. A program that wants one
// compiled copy defines BOOST_DUPLEX_SEPARATE_COMPILATION everywhere and
// includes <boost/duplex/src.hpp> in exactly one translation unit (or links
// the CMake target Boost::duplex built with BOOST_DUPLEX_SEPARATE_COMPILATION=ON).
// BOOST_DUPLEX_HEADER_ONLY (the first edition's switch) forces header-only.
#if defined(BOOST_DUPLEX_SEPARATE_COMPILATION) && !defined(BOOST_DUPLEX_HEADER_ONLY)
#define BOOST_DUPLEX_DECL
#else
#define BOOST_DUPLEX_DECL inline
#define BOOST_DUPLEX_IS_HEADER_ONLY 1
#endif

#include <boost/assert.hpp>

// Preconditions (a moved-from client or responder used, a fiber responder
// destroyed under its own run) are checked in debug builds only.
#define BOOST_DUPLEX_ASSERT(expr) BOOST_ASSERT(expr)

#endif
