//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CORE_REQUEST_QUEUE_HPP
#define BOOST_DUPLEX_DETAIL_CORE_REQUEST_QUEUE_HPP

#include <boost/duplex/detail/config.hpp>
#include <boost/duplex/detail/core/slot.hpp>
#include <boost/duplex/priority.hpp>

#include <boost/intrusive/set.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>

namespace boost::duplex::detail {

inline constexpr unsigned priority_levels = 4;

inline unsigned level_of(priority p) noexcept { return static_cast<unsigned>(p) & (priority_levels - 1); }

// Requests of all priorities, each priority in the order it came: the
// requests waiting for room, which get it highest priority first.
template <class Slot, list_links<Slot> Slot::*Links>
class priority_fifo {
public:
    bool empty() const noexcept { return mask_ == 0; }
    std::size_t size() const noexcept { return size_; }

    // The highest priority's oldest request.
    Slot* front() const noexcept { return mask_ ? levels_[top()].front() : nullptr; }

    void push_back(Slot* s) noexcept
    {
        const unsigned l = level_of(s->prio);
        levels_[l].push_back(s);
        mask_ |= 1u << l;
        ++size_;
    }

    void erase(Slot* s) noexcept
    {
        const unsigned l = level_of(s->prio);
        levels_[l].erase(s);
        if (levels_[l].empty())
            mask_ &= ~(1u << l);
        --size_;
    }

    Slot* pop_front() noexcept
    {
        Slot* s = front();
        if (s)
            erase(s);
        return s;
    }

private:
    unsigned top() const noexcept { return static_cast<unsigned>(std::bit_width(mask_)) - 1; }

    slot_list<Slot, Links, false> levels_[priority_levels];
    unsigned mask_ = 0;  // bit l: level l is not empty
    std::size_t size_ = 0;
};

// The responder's queue and its taking order: highest priority first; among
// requests of equal priority, one from each flow in turn (round robin over the
// flows that have requests queued); within a flow, oldest first, or newest
// first when the caller asks (adaptive LIFO while overloaded).
//
// Nothing here allocates: every link lives in the slots. While every queued
// request has the same priority and flow (the usual case, and the only one
// for a channel whose clients never call with_priority or with_flow) the
// queue is one plain FIFO ("uniform"), so that one priority and one flow cost
// about what the first edition's queue did. A request of another class turns
// it "general" until it empties: four priority levels, each in arrival order,
// and a level whose requests share one flow is still a plain FIFO; a second
// flow in a level switches it to its round robin: the flows' first requests
// ("heads") are kept in a search tree by flow (Boost.Intrusive, hooks in the
// slots) and in a ring in serving order; each flow's requests are chained
// from its head, which knows the flow's newest.
//
// Every level keeps all its requests in arrival order too, for what looks
// across flows: the oldest request (shedding), the newest (displacement).
//
// Under the channel's lock, like the rest of the responder side.
template <class Slot>
class request_queue {
public:
    // `overload_clock`: keep nonempty_since() (overload control is set); a
    // channel without it pays nothing for the clock.
    explicit request_queue(bool overload_clock) noexcept : clock_(overload_clock) {}
    request_queue(const request_queue&) = delete;
    request_queue& operator=(const request_queue&) = delete;

    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }

    void push(Slot* s) noexcept
    {
        if (size_++ == 0) {
            prio_ = s->prio;
            flow_ = s->flow;
            if (clock_)
                since_ = s->queued_at > emptied_at_ ? s->queued_at : emptied_at_;
        } else if (!general_ && (s->flow != flow_ || s->prio != prio_)) [[unlikely]] {
            go_general();
        }
        if (!general_) [[likely]]
            uniform_.push_back(s);
        else
            level_push(s);
    }

    // Takes `s` out of the queue, wherever it is in the order.
    void erase(Slot* s) noexcept
    {
        if (!general_) [[likely]]
            uniform_.erase(s);
        else
            level_erase(s);
        if (--size_ == 0) {
            general_ = false;  // every level is empty
            if (clock_) {
                since_ = time_point::max();
                emptied_at_ = now_;
            }
        }
    }

    // The request the responder takes next, left in the queue; null when empty.
    Slot* next(bool newest_first) const noexcept
    {
        if (!general_) [[likely]]
            return newest_first ? uniform_.back() : uniform_.front();
        return general_next(newest_first);
    }

    // Takes out `s`, which next() returned: its flow's turn passes.
    void take(Slot* s) noexcept
    {
        if (!general_) [[likely]]
            erase(s);
        else
            general_take(s);
    }

    // The request that has been queued longest (by arrival order), of any
    // priority and flow; null when empty.
    Slot* oldest() const noexcept
    {
        if (!general_)
            return uniform_.front();
        Slot* best = nullptr;
        for (unsigned m = mask_; m != 0; m &= m - 1) {
            Slot* s = levels_[static_cast<unsigned>(std::countr_zero(m))].all.front();
            if (!best || s->queued_at < best->queued_at)
                best = s;
        }
        return best;
    }

    // The request a request of priority `p` may take the place of: the most
    // recently queued of the lowest priority below `p`; null if none.
    Slot* displaceable_by(priority p) const noexcept
    {
        if (!general_)
            return size_ != 0 && prio_ < p ? uniform_.back() : nullptr;
        const unsigned below = mask_ & ((1u << level_of(p)) - 1);
        if (!below)
            return nullptr;
        return levels_[static_cast<unsigned>(std::countr_zero(below))].all.back();
    }

    // Since when the queue has been non-empty without a break (max while
    // empty): the overload clock. A request that came while the queue was
    // empty dates it by its own arrival, or by the emptying if it arrived
    // first (it was published, not yet absorbed, when the queue emptied).
    time_point nonempty_since() const noexcept { return since_; }

    // The latest time the channel's callers have told of (monotonic): the
    // date of an emptying, and of a promotion from the room list. (Only
    // with the overload clock.)
    void advance(time_point now) noexcept
    {
        if (now > now_)
            now_ = now;
    }
    time_point now() const noexcept { return now_; }

private:
    struct flow_of {
        using type = std::uint64_t;
        std::uint64_t operator()(const Slot& s) const noexcept { return s.flow; }
    };
    using flow_tree = boost::intrusive::set<
        Slot, boost::intrusive::member_hook<Slot, typename Slot::flow_hook_type, &Slot::flow_hook>,
        boost::intrusive::key_of_value<flow_of>, boost::intrusive::constant_time_size<false>>;

    struct level {
        slot_list<Slot, &Slot::link, false> all;  // arrival order
        flow_tree flows;                          // multi: the heads, by flow
        slot_list<Slot, &Slot::round_link, false> round;  // multi: the heads, the next to serve first
        std::uint64_t flow = 0;  // not multi: the flow of every request here
        bool multi = false;
    };

    unsigned top() const noexcept { return static_cast<unsigned>(std::bit_width(mask_)) - 1; }

    // The general paths, out of line: the uniform queue is the usual case.
    BOOST_NOINLINE Slot* general_next(bool newest_first) const noexcept
    {
        const level& lv = levels_[top()];
        if (!lv.multi)
            return newest_first ? lv.all.back() : lv.all.front();
        Slot* head = lv.round.front();
        return newest_first ? head->flow_tail : head;
    }

    BOOST_NOINLINE void general_take(Slot* s) noexcept
    {
        level& lv = levels_[level_of(s->prio)];
        const bool rotate = lv.multi;
        erase(s);
        if (rotate && lv.multi && lv.round.front()->flow == s->flow)
            lv.round.push_back(lv.round.pop_front());
    }

    // A request of another class than the queue's: what is queued moves to
    // its level, in its order.
    BOOST_NOINLINE void go_general() noexcept
    {
        general_ = true;
        while (Slot* s = uniform_.front()) {
            uniform_.erase(s);
            level_push(s);
        }
    }

    BOOST_NOINLINE void level_push(Slot* s) noexcept
    {
        const unsigned l = level_of(s->prio);
        level& lv = levels_[l];
        if (lv.all.empty()) {
            lv.flow = s->flow;
            mask_ |= 1u << l;
        } else if (lv.multi || s->flow != lv.flow) {
            if (!lv.multi)
                go_multi(lv);
            join_flow(lv, s);
        }
        lv.all.push_back(s);
    }

    BOOST_NOINLINE void level_erase(Slot* s) noexcept
    {
        const unsigned l = level_of(s->prio);
        level& lv = levels_[l];
        lv.all.erase(s);
        if (lv.multi)
            leave_flow(lv, s);
        if (lv.all.empty()) {
            lv.multi = false;  // the tree and the ring are empty too
            mask_ &= ~(1u << l);
        }
    }

    // A second flow arrived: what is queued joins the round robin in its order.
    static void go_multi(level& lv) noexcept
    {
        for (Slot* s = lv.all.front(); s; s = s->link.next)
            join_flow(lv, s);
        lv.multi = true;
    }

    static void join_flow(level& lv, Slot* s) noexcept
    {
        s->flow_link = {};
        typename flow_tree::insert_commit_data commit;
        auto [it, fresh] = lv.flows.insert_unique_check(s->flow, commit);
        if (fresh) {
            s->flow_tail = s;
            lv.flows.insert_unique_commit(*s, commit);
            lv.round.push_back(s);  // a flow that (re)appears waits for the others' turn
            return;
        }
        Slot* head = &*it;
        Slot* tail = head->flow_tail;
        tail->flow_link.next = s;
        s->flow_link.prev = tail;
        head->flow_tail = s;
    }

    static void leave_flow(level& lv, Slot* s) noexcept
    {
        Slot* const prev = s->flow_link.prev;
        Slot* const next = s->flow_link.next;
        if (!prev) {  // the flow's head
            if (next) {
                next->flow_link.prev = nullptr;
                next->flow_tail = s->flow_tail;
                lv.flows.replace_node(lv.flows.iterator_to(*s), *next);
                lv.round.replace(s, next);  // the flow keeps its turn
            } else {
                lv.flows.erase(lv.flows.iterator_to(*s));
                lv.round.erase(s);
            }
        } else {
            prev->flow_link.next = next;
            if (next)
                next->flow_link.prev = prev;
            else
                lv.flows.find(s->flow)->flow_tail = prev;
        }
        s->flow_link = {};
    }

    slot_list<Slot, &Slot::link, false> uniform_;  // while not general_: every request, in arrival order
    std::size_t size_ = 0;
    const bool clock_;
    bool general_ = false;
    priority prio_ = priority::normal;  // while not general_: the class of every queued request
    std::uint64_t flow_ = 0;
    level levels_[priority_levels];  // while general_
    unsigned mask_ = 0;              // bit l: level l is not empty
    time_point since_ = time_point::max();
    time_point emptied_at_{};
    time_point now_{};
};

}  // namespace boost::duplex::detail

#endif
