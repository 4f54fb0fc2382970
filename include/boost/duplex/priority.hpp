//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_PRIORITY_HPP
#define BOOST_DUPLEX_PRIORITY_HPP

#include <cstdint>

namespace boost::duplex {

/// How much a request matters to the responder's queue, set per client with
/// `with_priority()`. The responder takes higher priorities first; a request
/// arriving at a full queue takes the place of a queued request of strictly
/// lower priority (which ends with `error::overloaded`); requests waiting for
/// room get it highest priority first. See doc/overload.md.
enum class priority : std::uint8_t {
    low,
    normal,  ///< the default
    high,
    critical
};

}  // namespace boost::duplex

#endif
