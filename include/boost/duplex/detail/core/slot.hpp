//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CORE_SLOT_HPP
#define BOOST_DUPLEX_DETAIL_CORE_SLOT_HPP

#include <boost/duplex/detail/core/hook.hpp>
#include <boost/duplex/detail/core/slab.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/priority.hpp>

#include <boost/intrusive/set_hook.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace boost::duplex::detail {

using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;
using duration = clock_type::duration;

// The absolute deadline of a request made at `now` with `timeout`, saturating
// at time_point::max() (which means no deadline).
inline time_point deadline_after(time_point now, duration timeout) noexcept
{
    if (timeout == duration::max() || timeout > time_point::max() - now)
        return time_point::max();
    return now + timeout;
}

// Who is told when a request ends. The backend derives from it; the core calls
// complete() exactly once per admitted waiter, never while holding its lock.
//
// `may_run_inline` is the caller's word that the completion may run the
// client's handler right here (the responder delivering from its own loop,
// which is never inside an initiating function); otherwise a backend that
// must not run it inline defers it. It is passed explicitly, never through
// thread-local state, so a new caller of the core cannot change it by accident.
template <class Response>
class waiter : public hook<result<Response>&&, bool> {
public:
    void complete(result<Response>&& r, bool may_run_inline = false) noexcept
    {
        this->call(std::move(r), may_run_inline);
    }

    // The core's, while it holds the waiter for completion after its lock
    // (an intrusive list, so that ending many requests at once allocates nothing).
    waiter* next_ended = nullptr;

protected:
    // `on_complete` is the derived type's `void (result<Response>&&, bool may_run_inline) noexcept`.
    template <auto OnComplete>
    explicit waiter(hook_to_t<OnComplete> to) noexcept : hook<result<Response>&&, bool>(to)
    {
    }
    ~waiter() = default;
};

// Storage for one T, constructed and destroyed by hand.
template <class T>
class manual {
public:
    template <class... Args>
    void emplace(Args&&... args)
    {
        ::new (static_cast<void*>(&storage_)) T(std::forward<Args>(args)...);
    }
    void destroy() noexcept { std::destroy_at(get()); }
    T* get() noexcept { return std::launder(reinterpret_cast<T*>(&storage_)); }

private:
    alignas(T) unsigned char storage_[sizeof(T)];
};

// How a request ended before its handler's result could be delivered.
enum class run_outcome : unsigned char {
    delivered,  // the result reached the client
    timed_out,  // the request had already timed out: the result was dropped
    cancelled,  // the request had already been cancelled: the result was dropped
    closed,     // the channel had already been closed: the result was dropped
    shed        // shed or displaced by overload control before it was taken (never reaches finish())
};

enum class slot_state : unsigned char {
    free,            // in the table's free list, or prepared and not yet submitted
    cancel_pending,  // prepared, and cancelled before it was submitted
    inbox,           // holds a request, published to the channel's inbox, not yet seen by the responder side
    waiting_room,    // holds a request, waits for room in the queue
    queued,        // holds a request, in the queue
    taken,         // handed to the responder with others, still holds its request: its handler has not started
    running,       // its handler started; its waiter waits for the result
    finished,      // its result was delivered (without the lock); still linked until the core reaps it
    abandoned      // handed to the responder; its waiter has already been completed
};

// The key a client holds for its pending request: the slot's index and the
// generation the slot had when it was given out. Every completion bumps the
// generation, so a stale key never reaches a newer request in the same slot.
struct slot_key {
    std::uint32_t index = 0;
    std::uint32_t generation = 0;
};

template <class Slot>
struct list_links {
    Slot* prev = nullptr;
    Slot* next = nullptr;
};

// One pending request. Fields marked (L) are read and written only under the
// channel's lock; the others belong to whoever holds the slot at the time (a
// client until it publishes the slot, then the responder side).
template <class Request, class Response>
struct slot : slab_hook {
    std::uint32_t generation = 0;  // (L)
    // (L), with three exceptions settled by compare-and-swap against the
    // lock's side: a client publishes its slot (free -> inbox) without the
    // lock, where a cancel may have come first (free -> cancel_pending); the
    // responder moves its own slot from taken to running (channel_core::begin())
    // and from running to finished (channel_core::finish()) without the lock,
    // where whoever ends it may come first.
    std::atomic<slot_state> state{slot_state::free};
    run_outcome end_reason{};             // (L) why an abandoned slot ended
    std::uint32_t heap_pos = npos;        // (L) position in the deadline heap, npos when not in it
    list_links<slot> link;                // (L) the queue or the room list
    list_links<slot> run_link;            // (L) the list of running slots
    list_links<slot> deadline_link;       // (L) the in-order deadlines (see deadline_heap)
    slot* chain = nullptr;                // a batch handed out by take(), or slots to reclaim
    // The channel's inbox (written before publication), later its list of
    // finished slots to reap: a slot is in at most one of them.
    slot* inbox_next = nullptr;
    bool failed = false;                  // a finished slot delivered an error (counted when reaped)
    time_point deadline{};
    waiter<Response>* owner = nullptr;

    // Where the request goes in the taking order (set by submit()), and when
    // it entered the queue (for overload control).
    priority prio = priority::normal;
    std::uint64_t flow = 0;
    time_point queued_at{};
    // (L) The round robin over flows (see request_queue): the flow's
    // requests in arrival order; in a flow's first request ("head"), the
    // flow's newest, its place in the serving ring and in the tree by flow.
    list_links<slot> flow_link;
    list_links<slot> round_link;
    slot* flow_tail = nullptr;
    using flow_hook_type = boost::intrusive::set_member_hook<boost::intrusive::link_mode<boost::intrusive::normal_link>>;
    flow_hook_type flow_hook;

    manual<Request> request;           // constructed while waiting_room, queued or taken, and until the handler takes it

    // Owned by the responder while the slot is running or abandoned: what
    // cancels the handler running this request (a coroutine handler's
    // invocation; null when there is none to cancel), and the tag that tells
    // this run of the slot from a later one.
    hook<>* invocation = nullptr;
    std::uint32_t run_tag = 0;

    static constexpr std::uint32_t npos = UINT32_MAX;

    // Plain accesses under the channel's lock (which orders them).
    slot_state get_state() const noexcept { return state.load(std::memory_order_relaxed); }
    void set_state(slot_state x) noexcept { state.store(x, std::memory_order_relaxed); }
};

// An intrusive FIFO of slots, linked through the member Links. `Counted`:
// it keeps its size (lists whose owner counts for them need not).
template <class Slot, list_links<Slot> Slot::*Links, bool Counted = true>
class slot_list {
public:
    bool empty() const noexcept { return head_ == nullptr; }
    std::size_t size() const noexcept
        requires Counted
    {
        return size_;
    }
    Slot* front() const noexcept { return head_; }
    bool contains(const Slot* s) const noexcept { return (s->*Links).prev != nullptr || head_ == s; }
    Slot* back() const noexcept { return tail_; }

    void push_back(Slot* s) noexcept
    {
        (s->*Links).prev = tail_;
        (s->*Links).next = nullptr;
        (tail_ ? (tail_->*Links).next : head_) = s;
        tail_ = s;
        if constexpr (Counted)
            ++size_;
    }

    void erase(Slot* s) noexcept
    {
        auto& l = s->*Links;
        (l.prev ? (l.prev->*Links).next : head_) = l.next;
        (l.next ? (l.next->*Links).prev : tail_) = l.prev;
        l.prev = l.next = nullptr;
        if constexpr (Counted)
            --size_;
    }

    Slot* pop_front() noexcept
    {
        Slot* s = head_;
        if (s)
            erase(s);
        return s;
    }

    // `by` takes the place of `s`, which leaves the list.
    void replace(Slot* s, Slot* by) noexcept
    {
        auto& l = s->*Links;
        auto& b = by->*Links;
        b.prev = l.prev;
        b.next = l.next;
        (l.prev ? (l.prev->*Links).next : head_) = by;
        (l.next ? (l.next->*Links).prev : tail_) = by;
        l.prev = l.next = nullptr;
    }

private:
    Slot* head_ = nullptr;
    Slot* tail_ = nullptr;
    struct empty_count {};
    [[no_unique_address]] std::conditional_t<Counted, std::size_t, empty_count> size_{};
};

}  // namespace boost::duplex::detail

#endif
