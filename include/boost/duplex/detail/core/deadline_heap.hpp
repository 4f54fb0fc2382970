//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CORE_DEADLINE_HEAP_HPP
#define BOOST_DUPLEX_DETAIL_CORE_DEADLINE_HEAP_HPP

#include <boost/duplex/detail/core/slot.hpp>

#include <boost/config.hpp>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace boost::duplex::detail {

// The pending deadlines: the earliest at top(), any slot removable at once
// (no tombstones piling up for the length of a timeout).
//
// Requests mostly come with one timeout, so their deadlines arrive in order:
// those go to the back of a sorted list, O(1) in and out. A deadline earlier
// than the list's last (a shorter timeout) goes into a binary min-heap that
// knows each slot's position. Neither allocates per request once warm.
//
// push() never fails: the responder absorbs what clients published into
// here on paths that cannot fail (cancel, expiry, stop). Should the heap's
// array be unable to grow, the slot waits in an unsorted spill list that
// top() scans, slower but correct, until memory is back. (`Alloc` is the
// heap array's allocator: the tests make it fail.)
template <class Slot, class Alloc = std::allocator<Slot*>>
class deadline_heap {
    static constexpr std::uint32_t in_list = Slot::npos - 1;
    static constexpr std::uint32_t in_spill = Slot::npos - 2;

public:
    bool empty() const noexcept { return list_.empty() && v_.empty() && spill_.empty(); }
    std::size_t size() const noexcept { return list_.size() + v_.size() + spill_.size(); }

    Slot* top() const noexcept
    {
        Slot* t = list_.front();
        if (!v_.empty() && (!t || v_.front()->deadline < t->deadline))
            t = v_.front();
        if (!spill_.empty()) [[unlikely]] {
            for (Slot* s = spill_.front(); s; s = s->deadline_link.next)
                if (!t || s->deadline < t->deadline)
                    t = s;
        }
        return t;
    }

    void push(Slot* s) noexcept
    {
        if (list_.empty() || !(s->deadline < list_.back()->deadline)) {
            list_.push_back(s);
            s->heap_pos = in_list;
            return;
        }
        push_out_of_order(s);
    }

private:
    // Out of line: its exception handling would otherwise give every push
    // (nearly all of them in order) a frame that saves registers.
    BOOST_NOINLINE void push_out_of_order(Slot* s) noexcept
    {
        try {
            v_.push_back(s);
        } catch (...) {
            spill_.push_back(s);
            s->heap_pos = in_spill;
            return;
        }
        s->heap_pos = static_cast<std::uint32_t>(v_.size() - 1);
        up(s->heap_pos);
    }

public:
    void erase(Slot* s) noexcept
    {
        const std::uint32_t i = s->heap_pos;
        if (i == Slot::npos)
            return;
        s->heap_pos = Slot::npos;
        if (i == in_list) {
            list_.erase(s);
            return;
        }
        if (i == in_spill) {
            spill_.erase(s);
            return;
        }
        Slot* last = v_.back();
        v_.pop_back();
        if (last == s)
            return;
        v_[i] = last;
        last->heap_pos = i;
        if (i > 0 && less(i, (i - 1) / 2))
            up(i);
        else
            down(i);
    }

private:
    bool less(std::uint32_t a, std::uint32_t b) const noexcept { return v_[a]->deadline < v_[b]->deadline; }

    void swap_at(std::uint32_t a, std::uint32_t b) noexcept
    {
        std::swap(v_[a], v_[b]);
        v_[a]->heap_pos = a;
        v_[b]->heap_pos = b;
    }

    void up(std::uint32_t i) noexcept
    {
        while (i > 0 && less(i, (i - 1) / 2)) {
            swap_at(i, (i - 1) / 2);
            i = (i - 1) / 2;
        }
    }

    void down(std::uint32_t i) noexcept
    {
        const auto n = static_cast<std::uint32_t>(v_.size());
        for (;;) {
            std::uint32_t m = i;
            const std::uint32_t l = 2 * i + 1, r = l + 1;
            if (l < n && less(l, m))
                m = l;
            if (r < n && less(r, m))
                m = r;
            if (m == i)
                return;
            swap_at(i, m);
            i = m;
        }
    }

    slot_list<Slot, &Slot::deadline_link> list_;
    std::vector<Slot*, Alloc> v_;
    slot_list<Slot, &Slot::deadline_link> spill_;  // only when v_ could not grow
};

}  // namespace boost::duplex::detail

#endif
