//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CORE_LOCKED_TABLE_HPP
#define BOOST_DUPLEX_DETAIL_CORE_LOCKED_TABLE_HPP

#include <boost/duplex/detail/config.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace boost::duplex::detail {

// locked_slab's table: one mutex around a plain free list of slot indices.
// Deliberately written apart from `slab` (no shards, no lock-free stack, no
// tags), so that tests running both storage policies compare two
// implementations of the table contract rather than one in two settings.
//
// Slots live in fixed-size chunks that are never freed before the table, so
// addresses and indices stay valid. The free list's capacity always covers
// every slot, so release() never allocates.
template <class Slot>
class locked_table {
    static constexpr std::uint32_t chunk_size = 64;

public:
    locked_table() = default;
    locked_table(const locked_table&) = delete;
    locked_table& operator=(const locked_table&) = delete;

    // Throws std::bad_alloc when the table cannot grow.
    Slot* acquire()
    {
        std::lock_guard lock(mutex_);
        if (free_.empty())
            grow();
        const std::uint32_t index = free_.back();
        free_.pop_back();
        // Slots never handed out are taken in index order (see grow()), so
        // those ever handed out are exactly the indices below used_.
        if (index >= used_)
            used_ = index + 1;
        return slot_at(index);
    }

    void release(Slot* s) noexcept
    {
        std::lock_guard lock(mutex_);
        BOOST_DUPLEX_ASSERT(free_.size() < free_.capacity());
        free_.push_back(s->slab_index);  // within the reserved capacity: no allocation
    }

    // The slot with this index, or null for an index never handed out.
    Slot* find(std::uint32_t index) const noexcept
    {
        std::lock_guard lock(mutex_);
        return index < used_ ? slot_at(index) : nullptr;
    }

    // One free list: the whole table is one shard.
    std::uint32_t shard_count() const noexcept { return 1; }

private:
    Slot* slot_at(std::uint32_t index) const noexcept
    {
        return chunks_[index / chunk_size].get() + index % chunk_size;
    }

    // Adds a chunk; on failure nothing changed.
    void grow()
    {
        const std::size_t first = chunks_.size() * chunk_size;
        if (first + chunk_size > UINT32_MAX)
            throw std::bad_alloc();
        auto chunk = std::make_unique<Slot[]>(chunk_size);
        chunks_.reserve(chunks_.size() + 1);
        free_.reserve(first + chunk_size);
        for (std::uint32_t i = 0; i != chunk_size; ++i)
            chunk[i].slab_index = static_cast<std::uint32_t>(first) + i;
        chunks_.push_back(std::move(chunk));  // cannot throw after the reserve
        // Lowest index on top, so that slots are reused in index order.
        for (std::uint32_t i = chunk_size; i != 0; --i)
            free_.push_back(static_cast<std::uint32_t>(first) + i - 1);
    }

    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<Slot[]>> chunks_;
    std::vector<std::uint32_t> free_;  // indices; capacity >= every slot of the table
    std::uint32_t used_ = 0;           // indices below this have been handed out
};

}  // namespace boost::duplex::detail

#endif
