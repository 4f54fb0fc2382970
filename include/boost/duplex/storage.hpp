//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_STORAGE_HPP
#define BOOST_DUPLEX_STORAGE_HPP

#include <boost/duplex/detail/core/locked_table.hpp>
#include <boost/duplex/detail/core/slab.hpp>

namespace boost::duplex {

// Storage policies decide where a channel keeps its pending requests.
//
// A policy S is a plain type with a member template `S::table<Slot>`: a
// default-constructible, non-copyable table of Slot objects (Slot derives from
// an internal hook type) offering
//   Slot* acquire();                          // thread-safe; may throw std::bad_alloc
//   void release(Slot*) noexcept;             // thread-safe
//   Slot* find(std::uint32_t index) const noexcept;  // thread-safe; null for an unknown index
// where a slot's address and index stay valid for the life of the table.
// Generation tags live in the slots and are kept by the channel, not the table.

/// The default storage policy: slots in chunks recycled through per-thread
/// shards, so clients on different threads do not contend, and no heap
/// allocation happens per request once the table has grown to the peak
/// number of pending requests.
struct sharded_slab {
    template <class Slot>
    class table : public detail::slab<Slot> {
    public:
        table() : detail::slab<Slot>(detail::default_shard_count()) {}
    };
};

/// The simple reference policy: one mutex around one free list (written
/// independently of sharded_slab, so that each checks the other in tests).
struct locked_slab {
    template <class Slot>
    using table = detail::locked_table<Slot>;
};

}  // namespace boost::duplex

#endif
