//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// example/asio/basic.cpp built with separate compilation: a program that wants
// one compiled copy of the library's non-template parts defines
// BOOST_DUPLEX_SEPARATE_COMPILATION on every translation unit and includes
// <boost/duplex/src.hpp> in exactly one. This program has one translation
// unit, so both happen here.

#ifndef BOOST_DUPLEX_SEPARATE_COMPILATION
#define BOOST_DUPLEX_SEPARATE_COMPILATION
#endif

#include <boost/duplex/src.hpp>

#include "asio/basic.cpp"
