//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CORE_CHANNEL_CORE_HPP
#define BOOST_DUPLEX_DETAIL_CORE_CHANNEL_CORE_HPP

#include <boost/duplex/detail/core/deadline_heap.hpp>
#include <boost/duplex/detail/core/slot.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/options.hpp>
#include <boost/duplex/stats.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

namespace boost::duplex::detail {

// What the backend must do after a call into the core.
struct effects {
    bool wake_responder = false;  // the responder was idle and now has work (or must notice the end)
    bool rearm_timer = false;     // the earliest deadline moved earlier: set the timer to next_deadline()
};

// The sans-io heart of a channel: pending-request slots, the request queue and
// the list of requests waiting for room, the deadlines, the in-flight count
// and the counters. It never waits and never does I/O; each call updates the
// state under one lock, then completes the waiters it finished (outside the
// lock) and tells the caller what to do next (`effects`). The backends turn
// that into waiting: Asio handlers and a timer, or fiber wake-ups.
//
// Time is always passed in, so tests and the fuzzer drive it with a virtual clock.
//
// Life of a slot: prepare() -> submit() -> waiting_room | queued -> take() ->
// running -> finish(); at any point before finish() it may end early through
// cancel(), expire(), stop() or close(), after which a running slot is
// `abandoned` until its handler ends.
template <class Request, class Response, class Storage>
class channel_core {
public:
    using request_type = Request;
    using response_type = Response;
    using slot_type = slot<Request, Response>;
    using waiter_type = waiter<Response>;
    using table_type = typename Storage::template table<slot_type>;

    explicit channel_core(const channel_options& opts) : opts_(opts) {}

    channel_core(const channel_core&) = delete;
    channel_core& operator=(const channel_core&) = delete;

    // Handlers may still be running (an io_context destroyed with awaitable
    // handlers suspended), but no request can be waiting: whoever could
    // destroy the channel has closed it first.
    ~channel_core() { BOOST_DUPLEX_ASSERT(queue_.empty() && room_.empty()); }

    const channel_options& options() const noexcept { return opts_; }

    // ---- client side ------------------------------------------------------

    // Reserves a slot, so that the caller knows its key (to hook up
    // cancellation) before the request becomes visible. Follow with submit()
    // or unprepare(). Throws std::bad_alloc only.
    slot_type* prepare() { return table_.acquire(); }

    slot_key key_of(const slot_type* s) const noexcept { return {s->slab_index, s->generation}; }

    // Gives back a prepared slot that will not be submitted.
    void unprepare(slot_type* s) noexcept
    {
        {
            std::lock_guard lock(mutex_);
            retire(s);
        }
        table_.release(s);
    }

    // Admits the request made at `now`: queues it, parks it for room, or
    // completes `w` at once (closed, queue_full, timeout, or cancelled between
    // prepare and submit). After this call the caller must not touch the slot
    // nor rely on `w` still waiting. Throws std::bad_alloc only (from moving the
    // request or growing the deadline heap), in which case nothing happened and
    // the slot is given back.
    template <class Req>
    effects submit(slot_type* s, Req&& req, time_point deadline, waiter_type& w, time_point now)
    {
        try {
            s->request.emplace(std::forward<Req>(req));
        } catch (...) {
            unprepare(s);
            throw;
        }
        s->deadline = deadline;
        s->owner = &w;

        effects fx;
        error e{};
        {
            std::lock_guard lock(mutex_);
            if (s->cancel_requested) {
                e = error::cancelled;
                ++counters_.cancelled;
            } else if (stopped_) {
                e = error::closed;
            } else if (deadline <= now) {
                e = error::timeout;
                ++counters_.timed_out;
            } else {
                // Older requests waiting for room go first (a rendezvous
                // hand-off must not overtake them).
                const bool to_queue = room_.empty() && (queue_.size() < opts_.capacity || handoff_possible());
                if (!to_queue && opts_.on_full == overflow::reject) {
                    e = error::queue_full;
                } else {
                    if (deadline != time_point::max()) {
                        try {
                            heap_.push(s);
                        } catch (...) {
                            retire(s);
                            s->request.destroy();
                            table_.release(s);
                            throw;
                        }
                        if (deadline < armed_) {
                            armed_ = deadline;
                            fx.rearm_timer = true;
                        }
                    }
                    if (to_queue) {
                        s->state = slot_state::queued;
                        queue_.push_back(s);
                        fx.wake_responder = wake();
                    } else {
                        s->state = slot_state::waiting_room;
                        room_.push_back(s);
                    }
                }
            }
            if (e != error{})
                retire(s);
        }
        if (e != error{}) {
            s->request.destroy();
            table_.release(s);
            w.complete(e);
        }
        return fx;
    }

    struct cancel_outcome {
        // A running request whose handler should hear of the cancellation
        // (the backend forwards it, e.g. to an awaitable's cancellation slot).
        slot_type* forward = nullptr;
        std::uint32_t run_tag = 0;
        effects fx;
    };

    // Cancels the request with key `k` if it is still pending. A queued
    // request, or one waiting for room or not yet submitted, is always
    // cancelled; a running one only when `in_flight_too` (Asio's terminal
    // cancellation): its waiter completes now and the late result is dropped.
    cancel_outcome cancel(slot_key k, bool in_flight_too) noexcept
    {
        cancel_outcome out;
        waiter_type* w = nullptr;
        bool reclaim = false;
        slot_type* s = table_.find(k.index);
        if (!s)
            return out;
        {
            std::lock_guard lock(mutex_);
            if (s->generation != k.generation)
                return out;
            switch (s->state) {
            case slot_state::free:
                s->cancel_requested = true;
                return out;
            case slot_state::abandoned:
                return out;
            case slot_state::running:
                if (!in_flight_too)
                    return out;
                out.forward = s;
                out.run_tag = s->run_tag;
                break;
            case slot_state::queued:
            case slot_state::waiting_room:
                reclaim = true;
                break;
            }
            ++counters_.cancelled;
            w = end_early(s, run_outcome::cancelled);
            promote_waiters();
            out.fx.rearm_timer = disarm();
        }
        if (reclaim) {
            s->request.destroy();
            table_.release(s);
        }
        w->complete(error::cancelled);
        return out;
    }

    // ---- the timer --------------------------------------------------------

    // Completes with error::timeout every request whose deadline is at or
    // before `now`, and returns the deadline the timer must wait for next
    // (time_point::max() for none).
    time_point expire(time_point now)
    {
        completion_batch batch;
        time_point next;
        {
            std::lock_guard lock(mutex_);
            while (!heap_.empty() && heap_.top()->deadline <= now) {
                ++counters_.timed_out;
                end_early(heap_.top(), run_outcome::timed_out, batch);
            }
            promote_waiters();
            armed_ = next = heap_.empty() ? time_point::max() : heap_.top()->deadline;
        }
        batch.run(table_);
        return next;
    }

    // The earliest deadline of any pending request (time_point::max() for none),
    // for a backend that drives expiry from its own timed waits.
    time_point earliest_deadline() const noexcept
    {
        std::lock_guard lock(mutex_);
        return heap_.empty() ? time_point::max() : heap_.top()->deadline;
    }

    // The deadline the timer must wait for, recorded as armed.
    time_point next_deadline() noexcept
    {
        std::lock_guard lock(mutex_);
        return armed_ = heap_.empty() ? time_point::max() : heap_.top()->deadline;
    }

    // Records that the backend's timer waits until `t` although no deadline
    // asks for it (a lazily kept timer): a request whose deadline is not
    // earlier then needs no re-arm.
    void note_armed(time_point t) noexcept
    {
        std::lock_guard lock(mutex_);
        if (t < armed_)
            armed_ = t;
    }

    // ---- the responder ----------------------------------------------------

    struct take_result {
        slot_type* first = nullptr;  // taken slots chained through slot::chain, oldest first
        std::size_t count = 0;
        bool more = false;           // work left that the limit had room for (`most` held the take back)
        bool done = false;           // the run is over: nothing left, nothing will come
    };

    // Hands the responder up to `limit - in_flight` requests, and at most
    // `most`. Requests whose deadline has passed are completed with timeout
    // rather than handed over (the timer may lag). A take that finds nothing
    // while there is room to spare leaves the responder idle, and the next
    // submit() asks to wake it. A take that found work does not: the
    // responder comes back for more by itself, so that a request submitted
    // meanwhile (typically by a client whose completion ran inline) costs no
    // wake-up. When nothing is pending, nothing runs, and the channel was
    // stopped or lost its last client, the run is over: the channel closes and
    // `done` is set.
    take_result take(std::size_t limit, time_point now, std::size_t most = SIZE_MAX)
    {
        completion_batch batch;
        take_result out;
        slot_type* last = nullptr;
        {
            std::lock_guard lock(mutex_);
            limit_ = limit;
            std::size_t n = limit > in_flight_ ? limit - in_flight_ : 0;
            std::size_t wanted = n < most ? n : most;
            while (wanted != 0) {
                slot_type* s = !queue_.empty() ? queue_.front() : room_.front();
                if (!s)
                    break;
                if (s->deadline <= now) {
                    ++counters_.timed_out;
                    end_early(s, run_outcome::timed_out, batch);  // takes it off its list
                    continue;
                }
                (s->state == slot_state::queued ? queue_ : room_).erase(s);
                s->state = slot_state::running;
                s->run_tag = ++run_counter_;
                running_.push_back(s);
                s->chain = nullptr;
                (last ? last->chain : out.first) = s;
                last = s;
                ++in_flight_;
                ++out.count;
                --n;
                --wanted;
            }
            const bool empty = queue_.empty() && room_.empty();
            out.more = !empty && n != 0;
            idle_ = out.count == 0 && empty && n != 0 && !stopped_;
            demand_ = idle_ ? n : 0;
            promote_waiters();
            if (empty && in_flight_ == 0 && (stopped_ || clients_ == 0)) {
                stopped_ = closed_ = true;
                idle_ = false;
                out.done = true;
            }
        }
        batch.run(table_);
        return out;
    }

    // Moves the request out of a slot that take() handed over.
    static Request take_request(slot_type* s)
    {
        Request r(std::move(*s->request.get()));
        s->request.destroy();
        return r;
    }

    // Reports the end of the handler invocation of slot `s` (taken by take(),
    // its request already moved out). Delivers `r` unless the request already
    // ended, in which case the late result is dropped. The slot goes back to
    // the table either way.
    run_outcome finish(slot_type* s, result<Response>&& r) noexcept
    {
        waiter_type* w = nullptr;
        run_outcome how;
        {
            std::lock_guard lock(mutex_);
            --in_flight_;
            if (s->state == slot_state::running) {
                heap_.erase(s);
                running_.erase(s);
                ++(r.has_value() ? counters_.completed : counters_.failed);
                w = s->owner;
                retire(s);
                how = run_outcome::delivered;
            } else {
                how = s->end_reason;
                s->state = slot_state::free;
            }
        }
        table_.release(s);
        if (w)
            w->complete(std::move(r));
        return how;
    }

    // ---- shutting down ----------------------------------------------------

    // Stops accepting: completes every request not yet handed to the handler
    // with error::closed. Running ones go on and are delivered; the run ends
    // when the last of them finishes.
    effects stop()
    {
        completion_batch batch;
        effects fx;
        {
            std::lock_guard lock(mutex_);
            if (!stopped_) {
                stopped_ = true;
                close_waiting(batch);
            }
            fx.wake_responder = wake();
            fx.rearm_timer = disarm();
        }
        batch.run(table_);
        return fx;
    }

    // Completes every pending request, running ones included, with
    // error::closed (late results are dropped) and refuses new ones.
    effects close()
    {
        completion_batch batch;
        effects fx;
        {
            std::lock_guard lock(mutex_);
            stopped_ = closed_ = true;
            close_waiting(batch);
            while (slot_type* s = running_.front())
                end_early(s, run_outcome::closed, batch);
            fx.wake_responder = wake();
            fx.rearm_timer = disarm();
        }
        batch.run(table_);
        return fx;
    }

    // Client copies come and go; the run may end when the last one is gone.
    void attach_client() noexcept
    {
        std::lock_guard lock(mutex_);
        ++clients_;
    }

    effects detach_client() noexcept
    {
        effects fx;
        std::lock_guard lock(mutex_);
        if (--clients_ == 0)
            fx.wake_responder = wake();
        return fx;
    }

    bool closed() const noexcept
    {
        std::lock_guard lock(mutex_);
        return closed_;
    }

    responder_stats stats() const noexcept
    {
        std::lock_guard lock(mutex_);
        responder_stats s = counters_;
        s.queued = queue_.size();
        s.in_flight = in_flight_;
        s.concurrency_limit = limit_;
        return s;
    }

    // Waiting for room is not part of `queued`; tests and the soak look at it here.
    std::size_t waiting_for_room() const noexcept
    {
        std::lock_guard lock(mutex_);
        return room_.size();
    }

    // Records the limit before the first take(), so that stats() shows it at once.
    void set_limit(std::size_t limit) noexcept
    {
        std::lock_guard lock(mutex_);
        limit_ = limit;
    }

private:
    // Completions found under the lock and run after it. A few fit inline;
    // more (a mass expiry or a close) spill into a vector.
    class completion_batch {
    public:
        completion_batch() = default;
        completion_batch(const completion_batch&) = delete;
        completion_batch& operator=(const completion_batch&) = delete;

        void add(waiter_type* w, error e)
        {
            if (n_ < inline_.size())
                inline_[n_++] = {w, e};
            else
                more_.push_back({w, e});
        }

        void reclaim(slot_type* s) noexcept
        {
            s->chain = reclaim_;
            reclaim_ = s;
        }

        void run(table_type& table) noexcept
        {
            while (slot_type* s = reclaim_) {
                reclaim_ = s->chain;
                s->chain = nullptr;
                s->request.destroy();
                table.release(s);
            }
            for (std::size_t i = 0; i != n_; ++i)
                inline_[i].w->complete(inline_[i].e);
            for (auto& c : more_)
                c.w->complete(c.e);
        }

    private:
        struct entry {
            waiter_type* w;
            error e;
        };
        std::array<entry, 8> inline_{};
        std::size_t n_ = 0;
        std::vector<entry> more_;
        slot_type* reclaim_ = nullptr;
    };

    static error error_of(run_outcome how) noexcept
    {
        switch (how) {
        case run_outcome::timed_out: return error::timeout;
        case run_outcome::cancelled: return error::cancelled;
        default: return error::closed;
        }
    }

    // Ends slot `s` before its handler delivered (under the lock) and returns
    // its waiter. A slot that held a request not yet taken goes back to free
    // (the caller destroys the request and releases it after the lock); a
    // running one becomes abandoned until its handler ends.
    waiter_type* end_early(slot_type* s, run_outcome how) noexcept
    {
        switch (s->state) {
        case slot_state::queued: queue_.erase(s); break;
        case slot_state::waiting_room: room_.erase(s); break;
        case slot_state::running: running_.erase(s); break;
        default: break;
        }
        heap_.erase(s);
        waiter_type* w = s->owner;
        if (s->state == slot_state::running) {
            s->state = slot_state::abandoned;
            s->end_reason = how;
            ++s->generation;
        } else {
            retire(s);
        }
        return w;
    }

    void end_early(slot_type* s, run_outcome how, completion_batch& batch)
    {
        const bool held_request = s->state == slot_state::queued || s->state == slot_state::waiting_room;
        batch.add(end_early(s, how), error_of(how));
        if (held_request)
            batch.reclaim(s);
    }

    // A slot leaves use: its key goes stale.
    void retire(slot_type* s) noexcept
    {
        s->state = slot_state::free;
        s->cancel_requested = false;
        ++s->generation;
    }

    void close_waiting(completion_batch& batch)
    {
        while (slot_type* s = queue_.front())
            end_early(s, run_outcome::closed, batch);
        while (slot_type* s = room_.front())
            end_early(s, run_outcome::closed, batch);
    }

    // Moves requests waiting for room into the queue while it has room, or
    // while a rendezvous responder stands ready for them, oldest first.
    void promote_waiters() noexcept
    {
        while (!room_.empty() && (queue_.size() < opts_.capacity || handoff_possible())) {
            slot_type* s = room_.pop_front();
            s->state = slot_state::queued;
            queue_.push_back(s);
        }
    }

    // A rendezvous channel (capacity 0) lets a request into the queue only
    // while the responder stands ready to take it: as many as the room it had
    // when it last found nothing to take.
    bool handoff_possible() const noexcept { return opts_.capacity == 0 && queue_.size() < demand_; }

    // When the last deadline went otherwise than by the timer, the backend's
    // timer still waits for it, and an armed wait may hold an event loop (an
    // io_context's run()) that has nothing else to do. Cheap paths (a
    // response delivered) leave it armed: a run is pending then anyway.
    bool disarm() noexcept
    {
        if (!heap_.empty() || armed_ == time_point::max())
            return false;
        armed_ = time_point::max();
        return true;
    }

    bool wake() noexcept
    {
        const bool was = idle_;
        idle_ = false;
        return was;
    }

    const channel_options opts_;
    table_type table_;

    mutable std::mutex mutex_;
    slot_list<slot_type, &slot_type::link> queue_;    // admitted, oldest first
    slot_list<slot_type, &slot_type::link> room_;     // waiting for room in the queue, oldest first
    slot_list<slot_type, &slot_type::run_link> running_;  // handed to the handler, not yet ended
    deadline_heap<slot_type> heap_;
    time_point armed_ = time_point::max();
    std::size_t in_flight_ = 0;
    std::size_t limit_ = 0;
    std::size_t demand_ = 0;
    std::size_t clients_ = 0;
    std::uint32_t run_counter_ = 0;
    bool idle_ = false;
    bool stopped_ = false;
    bool closed_ = false;
    responder_stats counters_{};
};

}  // namespace boost::duplex::detail

#endif
