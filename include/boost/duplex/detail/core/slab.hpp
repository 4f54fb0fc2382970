//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CORE_SLAB_HPP
#define BOOST_DUPLEX_DETAIL_CORE_SLAB_HPP

#include <boost/duplex/detail/config.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <thread>

namespace boost::duplex::detail {

// What a slab needs inside each of its slots.
struct slab_hook {
    std::uint32_t slab_index = 0;                  // the slot's index in its table, fixed for its life
    std::atomic<std::uint32_t> slab_free_next{0};  // the next free slot's index + 1 (0: none)
};

// A table of slots that hands out and takes back slots of type Slot, which
// derives from slab_hook. Slots live in chunks that are never freed before the
// table, so a slot's address and index stay valid (find() never dangles) and
// steady-state acquire/release allocate nothing.
//
// Shards keep threads apart: a thread acquires from its own shard, and a slot
// goes back to the shard it came from. A shard's free list is a lock-free
// stack whose head carries a tag against ABA (a slot popped and pushed back
// between another thread's read and its exchange changes the tag); since
// slots are never freed, reading a slot that another thread just took is
// harmless, the exchange then fails. The lock serves growth only.
template <class Slot>
class slab {
    static constexpr std::uint32_t first_chunk = 16;
    static constexpr std::uint32_t chunk_count = 20;  // 16 * (2^20 - 1) slots per shard at most

    struct alignas(64) shard {
        std::atomic<std::uint64_t> free{0};  // tag << 32 | (index of the top free slot + 1)
        std::mutex mutex;                    // growth
        std::atomic<std::uint32_t> used{0};  // slots ever handed out by this shard (written under the lock)
        std::array<std::atomic<Slot*>, chunk_count> chunks{};
    };

public:
    explicit slab(std::size_t shards)
        : shard_count_(static_cast<std::uint32_t>(std::clamp<std::size_t>(std::bit_ceil(shards), 1, 64)))
        , shard_shift_(static_cast<std::uint32_t>(std::countr_zero(shard_count_)))
        , shards_(new shard[shard_count_])
    {
    }

    slab(const slab&) = delete;
    slab& operator=(const slab&) = delete;

    ~slab()
    {
        for (std::uint32_t i = 0; i != shard_count_; ++i)
            for (auto& c : shards_[i].chunks)
                delete[] c.load(std::memory_order_relaxed);
    }

    // Throws std::bad_alloc when a new chunk cannot be allocated, or when the
    // shard already holds as many slots as an index can name.
    Slot* acquire()
    {
        const std::uint32_t home = this_thread_shard() & (shard_count_ - 1);
        shard& sh = shards_[home];
        std::uint64_t head = sh.free.load(std::memory_order_acquire);
        while (const auto top = static_cast<std::uint32_t>(head)) {
            Slot* s = at(top - 1);
            const std::uint64_t next = ((head >> 32) + 1) << 32 | s->slab_free_next.load(std::memory_order_relaxed);
            if (sh.free.compare_exchange_weak(head, next, std::memory_order_acquire, std::memory_order_acquire))
                return s;
        }
        return grow(home);
    }

private:
    // Out of line: the lock and the allocation would otherwise weigh on the
    // hot path above (register saves, a larger frame).
    BOOST_NOINLINE Slot* grow(std::uint32_t home)
    {
        shard& sh = shards_[home];
        std::lock_guard lock(sh.mutex);
        const std::uint32_t local = sh.used.load(std::memory_order_relaxed);
        const auto [chunk, offset] = locate(local);
        if (chunk >= chunk_count || std::uint64_t(local) * shard_count_ + home >= UINT32_MAX)  // index + 1 must fit
            throw std::bad_alloc();
        Slot* base = sh.chunks[chunk].load(std::memory_order_relaxed);
        if (!base) {
            base = new Slot[std::size_t(first_chunk) << chunk];
            for (std::uint32_t i = 0; i != (first_chunk << chunk); ++i)
                base[i].slab_index = (chunk_start(chunk) + i) * shard_count_ + home;
            sh.chunks[chunk].store(base, std::memory_order_release);
        }
        sh.used.store(local + 1, std::memory_order_release);
        return base + offset;
    }

public:
    void release(Slot* s) noexcept
    {
        shard& sh = shards_[s->slab_index & (shard_count_ - 1)];
        std::uint64_t head = sh.free.load(std::memory_order_relaxed);
        std::uint64_t next;
        do {
            s->slab_free_next.store(static_cast<std::uint32_t>(head), std::memory_order_relaxed);
            next = ((head >> 32) + 1) << 32 | (s->slab_index + 1);
        } while (!sh.free.compare_exchange_weak(head, next, std::memory_order_release, std::memory_order_relaxed));
    }

    // The slot with this index, or null for an index never handed out.
    Slot* find(std::uint32_t index) const noexcept
    {
        const shard& sh = shards_[index & (shard_count_ - 1)];
        const std::uint32_t local = index >> shard_shift_;
        if (local >= sh.used.load(std::memory_order_acquire))
            return nullptr;
        const auto [chunk, offset] = locate(local);
        Slot* base = sh.chunks[chunk].load(std::memory_order_acquire);
        return base ? base + offset : nullptr;
    }

    std::uint32_t shard_count() const noexcept { return shard_count_; }

private:
    // The slot with an index known to have been handed out.
    Slot* at(std::uint32_t index) const noexcept
    {
        const shard& sh = shards_[index & (shard_count_ - 1)];
        const auto [chunk, offset] = locate(index >> shard_shift_);
        return sh.chunks[chunk].load(std::memory_order_relaxed) + offset;
    }

    static constexpr std::uint32_t chunk_start(std::uint32_t chunk) noexcept
    {
        return first_chunk * ((std::uint32_t(1) << chunk) - 1);
    }

    struct position {
        std::uint32_t chunk, offset;
    };

    static position locate(std::uint32_t local) noexcept
    {
        const std::uint32_t chunk = static_cast<std::uint32_t>(std::bit_width(local / first_chunk + 1)) - 1;
        return {chunk, chunk < chunk_count ? local - chunk_start(chunk) : 0};
    }

    // Threads take shards in turn. A constant-initialised thread_local, set
    // on first use, needs no initialisation guard on every access.
    static std::uint32_t this_thread_shard() noexcept
    {
        static std::atomic<std::uint32_t> next{0};
        constinit thread_local std::uint32_t mine = UINT32_MAX;
        if (mine == UINT32_MAX) [[unlikely]]
            mine = next.fetch_add(1, std::memory_order_relaxed) & 0x7fffffff;
        return mine;
    }

    std::uint32_t shard_count_;
    std::uint32_t shard_shift_;  // log2(shard_count_)
    std::unique_ptr<shard[]> shards_;
};

inline std::size_t default_shard_count() noexcept
{
    return std::max(1u, std::thread::hardware_concurrency()) * 2;
}

}  // namespace boost::duplex::detail

#endif
