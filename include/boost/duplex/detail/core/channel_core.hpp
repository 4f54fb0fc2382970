//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CORE_CHANNEL_CORE_HPP
#define BOOST_DUPLEX_DETAIL_CORE_CHANNEL_CORE_HPP

#include <boost/duplex/detail/core/deadline_heap.hpp>
#include <boost/duplex/detail/core/parking_mutex.hpp>
#include <boost/duplex/detail/core/request_queue.hpp>
#include <boost/duplex/detail/core/slot.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/options.hpp>
#include <boost/duplex/stats.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>

// A test hook between the atomic steps of a request's publication (see
// submit()), of its start (begin()) and of its delivery (finish()): the
// fuzzer defines it to run other core calls there, as another thread could.
// Empty otherwise.
#ifndef BOOST_DUPLEX_DETAIL_CORE_STEP
#define BOOST_DUPLEX_DETAIL_CORE_STEP(n) ((void)0)
#endif

namespace boost::duplex::detail {

// Where a request goes in the responder's taking order (see request_queue).
struct request_class {
    priority prio = priority::normal;
    std::uint64_t flow = 0;
};

// What the backend must do after a call into the core.
struct effects {
    bool wake_responder = false;  // the responder was idle and now has work (or must notice the end)
    bool rearm_timer = false;     // the earliest deadline moved earlier: set the timer to next_deadline()
};

// The sans-io heart of a channel: pending-request slots, the request queue and
// the list of requests waiting for room, the deadlines, the in-flight count
// and the counters. It never waits and never does I/O; each call updates the
// state, then completes the waiters it finished (outside any lock) and tells
// the caller what to do next (`effects`). The backends turn that into
// waiting: Asio handlers and a timer, or fiber wake-ups.
//
// Two sides. A client publishes a request without a lock: one
// compare-and-swap reserves its place in the queue (`reserved_`, an atomic
// count, less `released_`, the places given back, against the capacity),
// one settles a cancel that came first (the slot's state; not needed when
// nobody can cancel it yet), one pushes it onto the inbox (an intrusive list, newest
// first), and the last word of the inbox says whether the responder sleeps
// (it must be woken) or the channel is closed. Everything else (queue order,
// the list of requests waiting for room, the deadlines, the in-flight count,
// the counters) is the responder side's, kept under one lock that clients
// take only on slow paths: a full queue, a rendezvous channel, an error at
// submission, a cancel. Whoever holds the lock first absorbs the inbox into
// the queue, oldest first, so the queue is always what it would have been
// had every client taken the lock.
//
// Time is always passed in, so tests and the fuzzer drive it with a virtual clock.
//
// Life of a slot: prepare() -> submit() -> waiting_room | queued -> take() ->
// [taken -> begin()] -> running -> finish(); at any point before finish() it
// may end early through cancel(), expire(), stop() or close(), after which a
// slot handed to the responder is `abandoned` until the responder lets go of
// it (begin() or finish()). A request counts as started when its handler
// starts: until then (queued, or taken with others and not yet begun) every
// cancellation, its deadline and stop() end it without reaching the handler.
template <class Request, class Response, class Storage>
class channel_core {
public:
    using request_type = Request;
    using response_type = Response;
    using slot_type = slot<Request, Response>;
    using waiter_type = waiter<Response>;
    using table_type = typename Storage::template table<slot_type>;

    explicit channel_core(const channel_options& opts)
        : opts_(opts)
        , overload_(opts.overload.has_value())
        , shed_(overload_ && opts.overload->shed)
        , lifo_(overload_ && opts.overload->lifo)
        , interval_(overload_ ? non_negative(opts.overload->interval) : duration::max())
        , shed_wait_(overload_ ? strictly_longer(non_negative(opts.overload->target)) : duration::max())
        , queue_(overload_)
    {
    }

    channel_core(const channel_core&) = delete;
    channel_core& operator=(const channel_core&) = delete;

    // Handlers may still be running (an io_context destroyed with awaitable
    // handlers suspended), but no request can be waiting: whoever could
    // destroy the channel has closed it first.
    ~channel_core()
    {
        reap();
        const std::uintptr_t head = inbox_.load(std::memory_order_relaxed);
        BOOST_DUPLEX_ASSERT(queue_.empty() && room_.empty() && (head == 0 || head == idle_mark || head == closed_mark));
        (void)head;
    }

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
    // the slot is given back. `cancellable`: someone holds the slot's key and
    // may cancel it before this call; false saves a compare-and-swap. `cls`:
    // where the request goes in the taking order.
    template <class Req>
    effects submit(slot_type* s, Req&& req, time_point deadline, waiter_type& w, time_point now,
                   bool cancellable = true, request_class cls = {})
    {
        try {
            s->request.emplace(std::forward<Req>(req));
        } catch (...) {
            unprepare(s);
            throw;
        }
        s->deadline = deadline;
        s->owner = &w;
        s->prio = cls.prio;
        s->flow = cls.flow;
        s->queued_at = now;

        // The fast path: room in the queue and nobody older waiting for it.
        if (deadline <= now || room_count_.load(std::memory_order_relaxed) != 0 || !try_reserve())
            return submit_locked(s, deadline, now, false);
        BOOST_DUPLEX_DETAIL_CORE_STEP(1);  // a place reserved
        if (cancellable) {
            slot_state expected = slot_state::free;
            if (!s->state.compare_exchange_strong(expected, slot_state::inbox, std::memory_order_release,
                                                  std::memory_order_relaxed))
                return submit_locked(s, deadline, now, true);  // cancelled before it was submitted
        } else {
            // Nobody holds the key yet, so nobody could have cancelled it: a
            // stale key names another generation, and cancel() checks that first.
            BOOST_DUPLEX_ASSERT(s->get_state() == slot_state::free);
            s->set_state(slot_state::inbox);  // published by the push below (a release)
        }
        BOOST_DUPLEX_DETAIL_CORE_STEP(2);  // the slot is `inbox`, not yet pushed
        std::uintptr_t head = inbox_.load(std::memory_order_relaxed);
        do {
            if (head == closed_mark)
                return submit_locked(s, deadline, now, true);
            s->inbox_next = head == idle_mark ? nullptr : reinterpret_cast<slot_type*>(head);
        } while (!inbox_.compare_exchange_weak(head, reinterpret_cast<std::uintptr_t>(s), std::memory_order_release,
                                               std::memory_order_relaxed));
        BOOST_DUPLEX_DETAIL_CORE_STEP(3);  // pushed, the timer not yet told
        effects fx;
        fx.wake_responder = head == idle_mark;
        // The timer must hear of a deadline earlier than what it waits for;
        // the re-arm it asks for absorbs this request (published above)
        // before it reads the deadlines. With shedding, the earliest this
        // request could be shed counts as a deadline.
        fx.rearm_timer = lower_armed(timer_bound(deadline, now));
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
        slot_type* s = table_.find(k.index);
        if (!s)
            return out;
        completion_batch batch(run_outcome::cancelled);
        {
            std::lock_guard lock(mutex_);
            if (s->generation == k.generation)
                cancel_locked(s, in_flight_too, out, batch);
        }
        batch.run(table_);
        return out;
    }

    // ---- the timer --------------------------------------------------------

    // Completes with error::timeout every request whose deadline is at or
    // before `now`, and returns the deadline the timer must wait for next
    // (time_point::max() for none).
    time_point expire(time_point now) noexcept
    {
        completion_batch batch(run_outcome::timed_out);
        time_point next;
        {
            std::lock_guard lock(mutex_);
            if (overload_)
                queue_.advance(now);
            absorb(batch);
            reap();
            for (slot_type* s = heap_top(); s && s->deadline <= now; s = heap_top()) {
                if (end_early(s, batch))  // false: delivered meanwhile
                    ++counters_.timed_out;
            }
            if (shed_ && overloaded(now))
                shed_locked(now, batch);
            promote_waiters();
            next = due_locked();
            armed_.store(next, std::memory_order_relaxed);
        }
        batch.run(table_);
        return next;
    }

    // The earliest deadline of any pending request (time_point::max() for none),
    // for a backend that drives expiry from its own timed waits.
    time_point earliest_deadline() noexcept
    {
        completion_batch batch(run_outcome::cancelled);  // reclaims only
        time_point t;
        {
            std::lock_guard lock(mutex_);
            absorb(batch);
            reap();
            t = due_locked();
        }
        batch.run(table_);
        return t;
    }

    // The deadline the backend's one timer must wait for (time_point::max():
    // none), recorded as armed: the core alone keeps the timer's target, and
    // asks for a re-arm (effects::rearm_timer) whenever a deadline earlier
    // than it arrives. The backend calls this whenever it sets up its wait.
    time_point next_deadline() noexcept { return next_deadline(time_point{}, false, false); }

    // The same, for a backend whose timer may stay armed while nothing is due
    // (`keep_lazily`: a run is going, which holds its event loop anyway). With
    // no deadline pending, the timer is kept at a horizon of `now` plus the
    // default timeout, so that requests with the default timeout need no
    // re-arm (a post from the client's thread) until then. A lazy wait that
    // ends (`fired`) and finds nothing pending is not renewed: an idle channel
    // wakes at most once per idle period, and a default timeout of zero or
    // less (requests time out at once, never wait) keeps nothing lazily.
    time_point next_deadline(time_point now, bool keep_lazily, bool fired) noexcept
    {
        completion_batch batch(run_outcome::cancelled);  // reclaims only
        time_point next;
        {
            std::lock_guard lock(mutex_);
            absorb(batch);
            reap();
            next = next_deadline_locked(now, keep_lazily, fired);
            armed_.store(next, std::memory_order_relaxed);
        }
        batch.run(table_);
        return next;
    }

    // ---- the responder ----------------------------------------------------

    // When the taker of a take() comes back for more, which decides whether
    // the next request must wake the responder.
    enum class taker {
        // By itself, once done with what it took, or now if it took nothing
        // and goes idle: the run loop, a handler fiber after an invocation.
        comes_back,
        // Maybe not for long: the handler it starts may block (a handler
        // fiber woken directly for an idle responder's request). A take that
        // leaves room to spare and an empty queue leaves the responder idle.
        may_block,
    };

    struct take_result {
        slot_type* first = nullptr;  // taken slots chained through slot::chain, oldest first
        std::size_t count = 0;
        bool more = false;           // work left that the limit had room for (`most` held the take back)
        bool done = false;           // the run is over: nothing left, nothing will come
    };

    // Hands the responder up to `limit - in_flight` requests, and at most
    // `most`, of which the first `started` count as started at once (their
    // handler starts now); the others are `taken` and must pass begin() when
    // their handler is about to start. Requests whose deadline has passed are
    // completed with timeout rather than handed over (the timer may lag). A take that finds nothing
    // while there is room to spare leaves the responder idle, and the next
    // submit() asks to wake it. A take that found work does not: the
    // responder comes back for more by itself, so that a request submitted
    // meanwhile (typically by a client whose completion ran inline) costs no
    // wake-up. When nothing is pending, nothing runs, and the channel was
    // stopped or lost its last client, the run is over: the channel closes and
    // `done` is set. `who` says when the taker comes back (see `taker`),
    // which decides whether the next request must wake the responder.
    take_result take(std::size_t limit, time_point now, std::size_t most = SIZE_MAX,
                     std::size_t started = SIZE_MAX, taker who = taker::comes_back) noexcept
    {
        completion_batch batch(run_outcome::timed_out);
        take_result out;
        slot_type* last = nullptr;
        {
            std::lock_guard lock(mutex_);
            reap();
            if (overload_ && run_since_ == time_point::max()) [[unlikely]]
                run_since_ = now;  // a run is going from now on: the overload clock runs
            if (overload_)
                queue_.advance(now);
            limit_ = limit;
            std::size_t n = limit > in_flight_ ? limit - in_flight_ : 0;
            std::size_t wanted = n < most ? n : most;
            if (inbox_.load(std::memory_order_relaxed) == idle_mark) {
                // Awake now, woken by something else than a request (the
                // timer, a stop): only the responder side clears its own mark.
                std::uintptr_t was_idle = idle_mark;
                inbox_.compare_exchange_strong(was_idle, 0, std::memory_order_relaxed);
            }
            for (;;) {
                absorb(batch);
                bool newest_first = false;
                if (overload_ && overloaded(now)) [[unlikely]] {
                    if (shed_)
                        shed_locked(now, batch);
                    newest_first = lifo_;
                }
                while (wanted != 0) {
                    slot_type* s = !queue_.empty() ? queue_.next(newest_first) : room_.front();
                    if (!s)
                        break;
                    if (s->deadline <= now) {
                        ++counters_.timed_out;
                        end_early(s, batch);  // takes it off its list (it cannot have finished)
                        continue;
                    }
                    if (s->get_state() == slot_state::queued) {
                        queue_.take(s);
                        release_place();
                    } else {
                        room_.erase(s);
                        room_count_.store(room_.size(), std::memory_order_relaxed);
                    }
                    s->set_state(out.count < started ? slot_state::running : slot_state::taken);
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
                promote_waiters();
                const bool empty = queue_.empty() && room_.empty();
                out.more = !empty && n != 0;
                if (empty && in_flight_ == 0 && (stopped_ || clients_ == 0)) {
                    if (!seal(closed_mark))
                        continue;  // a request came meanwhile
                    stopped_ = closed_ = true;
                    out.done = true;
                    break;
                }
                const bool room_to_spare = empty && n != 0 && !stopped_;
                if ((out.count == 0 || who == taker::may_block) && room_to_spare) {
                    if (!seal(idle_mark))
                        continue;  // a request came meanwhile: take it instead of sleeping
                    demand_ = n;
                } else {
                    demand_ = 0;
                }
                break;
            }
        }
        batch.run(table_);
        return out;
    }

    // The handler of `taken` slot `s` is about to start: true if it may (the
    // slot is now running). False if the request ended meanwhile (cancelled,
    // expired, closed by stop() or close()) or ends now because its deadline
    // passed (error::timeout); the slot then goes back to the table, and the
    // responder must not touch it again. Either way the responder
    // counts one request less in flight unless it runs.
    bool begin(slot_type* s, time_point now) noexcept
    {
        // The usual case needs no lock: the deadline is the responder's to
        // read (it never changes), and a compare-and-swap settles the race
        // with anyone ending the request under the lock (see claim()).
        if (s->deadline > now) {
            BOOST_DUPLEX_DETAIL_CORE_STEP(5);  // its deadline read, the slot still taken
            slot_state expected = slot_state::taken;
            if (s->state.compare_exchange_strong(expected, slot_state::running, std::memory_order_acq_rel,
                                                 std::memory_order_relaxed))
                return true;
        }
        return begin_locked(s, now);
    }

private:
    // begin() when the request ended meanwhile or its deadline passed. Out
    // of line, so that the usual case above needs no frame.
    BOOST_NOINLINE bool begin_locked(slot_type* s, time_point now) noexcept
    {
        waiter_type* w = nullptr;
        error e{};
        {
            std::lock_guard lock(mutex_);
            if (s->get_state() == slot_state::taken) {
                // Still taken: not stopped meanwhile (stop() ends taken slots,
                // and none is taken after it), so only the deadline can end it.
                BOOST_DUPLEX_ASSERT(!stopped_);
                if (s->deadline > now) {
                    s->set_state(slot_state::running);
                    return true;
                }
                e = error::timeout;
                ++counters_.timed_out;
                heap_.erase(s);
                running_.erase(s);
                w = s->owner;
                retire(s);
            } else {
                BOOST_DUPLEX_ASSERT(s->get_state() == slot_state::abandoned);
                s->set_state(slot_state::free);  // its waiter was completed when it ended
            }
            --in_flight_;
        }
        s->request.destroy();
        table_.release(s);
        if (w)
            w->complete(e);
        return false;
    }

public:
    // Moves the request out of a slot that take() handed over. The slot's
    // copy is destroyed even when the move throws (the exception then goes
    // to the caller).
    static Request take_request(slot_type* s)
    {
        struct destroy_after {
            slot_type* s;
            ~destroy_after() { s->request.destroy(); }
        } guard{s};
        return Request(std::move(*s->request.get()));
    }

    // Reports the end of the handler invocation of slot `s` (taken by take(),
    // its request already moved out). Delivers `r` unless the request already
    // ended, in which case the late result is dropped. No lock: one
    // compare-and-swap of the slot's state (running -> finished) settles the
    // race with a cancel, an expiry or a close (running -> abandoned under
    // the lock); the winner completes the waiter. The slot then goes onto a
    // list of finished slots, which whoever next holds the lock reaps (takes
    // off the running list and the deadline heap, counts, gives back to the
    // table): the responder's next take() at the latest.
    // `may_run_inline`: see waiter::complete().
    run_outcome finish(slot_type* s, result<Response>&& r, bool may_run_inline = false) noexcept
    {
        slot_state st = slot_state::running;
        const bool delivered =
            s->state.compare_exchange_strong(st, slot_state::finished, std::memory_order_acq_rel, std::memory_order_acquire);
        BOOST_DUPLEX_ASSERT(delivered || st == slot_state::abandoned);
        // Read before the slot is published: the reaper may reuse it at once.
        const run_outcome how = delivered ? run_outcome::delivered : s->end_reason;
        waiter_type* const w = delivered ? s->owner : nullptr;
        if (delivered)
            BOOST_DUPLEX_DETAIL_CORE_STEP(4);  // delivered, the slot not yet on the list to reap
        s->failed = !r.has_value();
        std::uintptr_t head = finished_.load(std::memory_order_relaxed);
        do
            s->inbox_next = reinterpret_cast<slot_type*>(head);
        while (!finished_.compare_exchange_weak(head, reinterpret_cast<std::uintptr_t>(s), std::memory_order_release,
                                                std::memory_order_relaxed));
        if (w)
            w->complete(std::move(r), may_run_inline);
        return how;
    }

    // Gives back now the slots finish() let go of, which the responder's next
    // take() (or any call that takes the lock) would give back anyway.
    void reclaim_finished() noexcept
    {
        std::lock_guard lock(mutex_);
        reap();
    }

    // ---- shutting down ----------------------------------------------------

    // Stops accepting: completes every request whose handler has not started
    // (queued, waiting for room, or taken and not yet begun) with
    // error::closed. Running ones go on and are delivered; the run ends when
    // the last of them finishes.
    effects stop() noexcept
    {
        completion_batch batch(run_outcome::closed);
        effects fx;
        {
            std::lock_guard lock(mutex_);
            if (!stopped_) {
                stopped_ = true;
                fx.wake_responder = close_inbox(batch);
                close_waiting(batch);
                for (slot_type* s = running_.front(); s;) {
                    slot_type* next = s->run_link.next;  // read first: ending it unlinks it
                    if (claim(s) == slot_state::taken)
                        end_claimed(s, slot_state::taken, batch);
                    s = next;
                }
            }
            fx.rearm_timer = disarm();
        }
        batch.run(table_);
        return fx;
    }

    // stop() with a bound on the wait for running handlers: at `drain_at`
    // (the earliest asked for holds) the responder calls end_drain().
    effects stop(time_point drain_at) noexcept
    {
        time_point was = drain_at_.load(std::memory_order_relaxed);
        while (drain_at < was && !drain_at_.compare_exchange_weak(was, drain_at, std::memory_order_relaxed)) {
        }
        return stop();
    }

    // When the responder stops waiting for running handlers (max: never).
    time_point drain_deadline() const noexcept { return drain_at_.load(std::memory_order_relaxed); }

    struct drain_outcome {
        effects fx;
        bool abandoned = false;  // handlers were still running: the run ends with error::timeout
    };

    // The drain has passed: closes what still runs (as close()) and says
    // whether a handler was still running, which only invocations can be
    // after stop() (it ended the taken ones).
    drain_outcome end_drain() noexcept
    {
        bool abandoned = false;
        {
            std::lock_guard lock(mutex_);
            reap();
            abandoned = in_flight_ != 0;
        }
        return {close(), abandoned};
    }

    // Completes every pending request, running ones included, with
    // error::closed (late results are dropped) and refuses new ones.
    effects close() noexcept
    {
        completion_batch batch(run_outcome::closed);
        effects fx;
        {
            std::lock_guard lock(mutex_);
            stopped_ = closed_ = true;
            fx.wake_responder = close_inbox(batch);
            close_waiting(batch);
            reap();
            while (slot_type* s = running_.front())
                end_early(s, batch);  // a finished one is only unlinked
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
        const_cast<channel_core*>(this)->reap();
        responder_stats s = counters_;
        s.queued = places_taken();  // the inbox too
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
    // The inbox's word: a list of published slots (newest first), empty, or
    // one of two marks that no slot address can be.
    static constexpr std::uintptr_t idle_mark = 1;    // empty, and the responder sleeps: wake it
    static constexpr std::uintptr_t closed_mark = 2;  // the channel takes no more requests

    class completion_batch;

    // cancel() under the lock, for slot `s` of the key's generation: ends it
    // into `batch` (which completes its waiter after the lock) if it may.
    void cancel_locked(slot_type* s, bool in_flight_too, cancel_outcome& out, completion_batch& batch) noexcept
    {
        // A published request becomes queued first, so that its slot goes
        // back to the table at once; one not yet pushed stays in the inbox.
        absorb(batch);
        slot_state was = claim(s);
        // Prepared and not submitted: the client's submit() settles it.
        if (was == slot_state::free &&
            s->state.compare_exchange_strong(was, slot_state::cancel_pending, std::memory_order_acq_rel,
                                             std::memory_order_acquire))
            return;
        switch (was) {  // a failed exchange above read `inbox`: the client published it meanwhile
        case slot_state::free:
        case slot_state::cancel_pending:
        case slot_state::abandoned:
        case slot_state::finished:  // delivered: the cancel comes too late
            return;
        case slot_state::running:
            if (!in_flight_too)
                return;
            out.forward = s;
            out.run_tag = s->run_tag;
            break;
        case slot_state::inbox:  // not pushed yet: reclaimed when the inbox is absorbed
        case slot_state::taken:  // not started (claimed): as good as queued, but the responder holds it
        case slot_state::queued:
        case slot_state::waiting_room:
            break;
        }
        if (!end_claimed(s, was, batch)) {  // delivered meanwhile
            out.forward = nullptr;
            return;
        }
        ++counters_.cancelled;
        promote_waiters();
        out.fx.rearm_timer = disarm();
    }

    // submit() when the fast path cannot do: under the lock. `reserved`:
    // the caller holds a place in the queue it could not use.
    effects submit_locked(slot_type* s, time_point deadline, time_point now, bool reserved) noexcept
    {
        completion_batch batch(run_outcome::cancelled);  // reclaims only
        waiter_type* const w = s->owner;  // the slot may serve another request once released
        effects fx;
        error e{};
        bool drop = false;
        {
            std::lock_guard lock(mutex_);
            if (overload_)
                queue_.advance(now);
            absorb(batch);  // what was published earlier goes first
            const slot_state st = s->get_state();
            if (reserved && st != slot_state::abandoned)  // an abandoned inbox slot gave its place back
                release_place();
            if (st == slot_state::abandoned) {
                // Published, then cancelled before the client found the inbox
                // closed: the cancel completed the waiter.
                s->set_state(slot_state::free);
                drop = true;
            } else if (st == slot_state::cancel_pending) {
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
                const bool to_queue = (room_.empty() && reserve_locked()) || displace(s, batch);
                if (!to_queue && opts_.on_full == overflow::reject) {
                    e = error::queue_full;
                } else {
                    if (deadline != time_point::max())
                        heap_.push(s);
                    fx.rearm_timer = lower_armed(timer_bound(deadline, now));
                    if (to_queue) {
                        s->set_state(slot_state::queued);
                        queue_.push(s);
                        fx.wake_responder = wake();
                    } else {
                        s->set_state(slot_state::waiting_room);
                        room_.push_back(s);
                        room_count_.store(room_.size(), std::memory_order_relaxed);
                    }
                }
            }
            if (e != error{})
                retire(s);
            if (reserved)
                promote_waiters();  // the place given back
        }
        batch.run(table_);
        if (e != error{} || drop) {
            s->request.destroy();
            table_.release(s);
        }
        if (e != error{})
            w->complete(e);
        return fx;
    }

    // ---- overload control (see request_queue for the taking order) -------

    static duration non_negative(duration d) noexcept { return d < duration::zero() ? duration::zero() : d; }

    // "Waited longer than the target" as "waited at least this long".
    static duration strictly_longer(duration d) noexcept { return d == duration::max() ? d : d + duration(1); }

    static time_point earlier(time_point a, time_point b) noexcept { return a < b ? a : b; }

    // Under the lock: the queue has stood, without a break, for `interval`
    // while a run was going.
    bool overloaded(time_point now) const noexcept { return now >= overloaded_from(); }

    // Under the lock: when the channel is (or will be, if nothing changes)
    // overloaded: `interval` after the queue started standing, or the run
    // started if later; max while the queue is empty or no run is going.
    time_point overloaded_from() const noexcept
    {
        const time_point since = queue_.nonempty_since();
        if (since == time_point::max() || run_since_ == time_point::max())
            return time_point::max();
        return deadline_after(since > run_since_ ? since : run_since_, interval_);
    }

    // What the timer must hear of a request submitted at `now`: its
    // deadline, or with shedding the earliest it could be shed if earlier.
    time_point timer_bound(time_point deadline, time_point now) const noexcept
    {
        return shed_ ? earlier(deadline, deadline_after(now, shed_wait_)) : deadline;
    }

    // Under the lock: when the next request may be shed (max: none can be
    // until something changes), which the timer waits for as for a deadline,
    // so that a shed request ends promptly even while the responder is busy.
    time_point next_shed() const noexcept
    {
        const time_point over = shed_ ? overloaded_from() : time_point::max();
        if (over == time_point::max())
            return over;
        const time_point waited = deadline_after(queue_.oldest()->queued_at, shed_wait_);
        return over > waited ? over : waited;
    }

    // Under the lock: what the timer must wait for next.
    time_point due_locked() noexcept
    {
        const time_point t = deadline_of(heap_top());
        return shed_ ? earlier(t, next_shed()) : t;
    }

    // Under the lock, while overloaded: ends every queued request that has
    // waited longer than the target with error::overloaded, oldest first.
    void shed_locked(time_point now, completion_batch& batch) noexcept
    {
        while (slot_type* s = queue_.oldest()) {
            if (now < deadline_after(s->queued_at, shed_wait_))
                break;
            batch.add_shed(end_claimed(s, slot_state::queued, run_outcome::shed));
            batch.reclaim(s);
            ++counters_.shed;
        }
    }

    // Under the lock, the queue at capacity: request `s` takes the place of
    // the most recently queued request of the lowest priority below its own,
    // which ends with error::overloaded. The place passes from one to the
    // other (it is not given back, so no racing client can take it). False if
    // every queued request has `s`'s priority or higher.
    bool displace(slot_type* s, completion_batch& batch) noexcept
    {
        slot_type* victim = queue_.displaceable_by(s->prio);
        if (!victim)
            return false;
        queue_.erase(victim);
        heap_.erase(victim);
        waiter_type* w = victim->owner;
        retire(victim);
        batch.add_shed(w);
        batch.reclaim(victim);
        ++counters_.shed;
        return true;
    }

    // Lowers what the timer waits for to `deadline` if that is earlier: true
    // if the timer must be re-armed.
    bool lower_armed(time_point deadline) noexcept
    {
        time_point armed = armed_.load(std::memory_order_relaxed);
        while (deadline < armed) {
            if (armed_.compare_exchange_weak(armed, deadline, std::memory_order_relaxed))
                return true;
        }
        return false;
    }

    // A place in the queue, if it has room: a compare-and-swap loop, so that
    // racing clients never count past the capacity. The places given back
    // are read first (with acquire: every place given back was taken before
    // it), so the difference can only overstate the queue, which at worst
    // sends the client to the slow path, where the lock makes it exact.
    bool try_reserve() noexcept
    {
        const std::size_t released = released_.load(std::memory_order_acquire);
        std::size_t n = reserved_.load(std::memory_order_relaxed);
        while (n - released < opts_.capacity) {
            if (reserved_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed))
                return true;
        }
        return false;
    }

    // Under the lock: a request leaves the inbox or the queue. Only lock
    // holders write released_, so this needs no read-modify-write.
    void release_place() noexcept
    {
        released_.store(released_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }

    // Requests in the inbox and the queue (exact under the lock).
    std::size_t places_taken() const noexcept
    {
        const std::size_t released = released_.load(std::memory_order_acquire);
        return reserved_.load(std::memory_order_relaxed) - released;
    }

    // The same under the lock, where a rendezvous responder standing ready
    // admits a request too.
    bool reserve_locked() noexcept
    {
        if (try_reserve())
            return true;
        if (!handoff_possible())
            return false;
        reserved_.fetch_add(1, std::memory_order_relaxed);
        return true;
    }

    // Under the lock: moves what clients published into the queue (and the
    // deadline heap), oldest first. A slot cancelled while in the inbox had
    // its waiter completed then; it goes back to the table now.
    void absorb(completion_batch& batch) noexcept
    {
        // Marks and the empty list are below any slot's address.
        if (inbox_.load(std::memory_order_relaxed) > closed_mark)
            // Only lock holders replace a list with a mark or empty it, so it
            // is still a list.
            absorb_list(inbox_.exchange(0, std::memory_order_acquire), batch);
    }

    void absorb_list(std::uintptr_t head, completion_batch& batch) noexcept
    {
        slot_type* fifo = nullptr;
        for (slot_type* s = reinterpret_cast<slot_type*>(head); s;) {
            slot_type* next = s->inbox_next;
            s->inbox_next = fifo;
            fifo = s;
            s = next;
        }
        while (slot_type* s = fifo) {
            fifo = s->inbox_next;
            s->inbox_next = nullptr;
            if (s->get_state() == slot_state::inbox) {
                s->set_state(slot_state::queued);
                if (s->deadline != time_point::max())
                    heap_.push(s);
                queue_.push(s);
            } else {
                BOOST_DUPLEX_ASSERT(s->get_state() == slot_state::abandoned);
                s->set_state(slot_state::free);
                batch.reclaim(s);
            }
        }
    }

    // Under the lock: marks the inbox closed and absorbs what it held (for the
    // caller to close). True if the responder slept.
    bool close_inbox(completion_batch& batch) noexcept
    {
        const std::uintptr_t head = inbox_.exchange(closed_mark, std::memory_order_acquire);
        if (head > closed_mark)
            absorb_list(head, batch);
        return head == idle_mark;
    }

    // Under the lock, with nothing in the queue: sets an empty inbox to
    // `mark`. False if a request was published since the last absorb().
    bool seal(std::uintptr_t mark) noexcept
    {
        std::uintptr_t head = 0;
        return inbox_.compare_exchange_strong(head, mark, std::memory_order_relaxed) || head == mark;
    }

    time_point next_deadline_locked(time_point now, bool keep_lazily, bool fired) noexcept
    {
        if (closed_) {  // nothing can be pending any more
            lazy_ = false;
            return time_point::max();
        }
        if (const time_point due = due_locked(); due != time_point::max()) {
            lazy_ = false;
            return due;
        }
        const duration t = opts_.timeout;
        if (!keep_lazily || t <= duration::zero() || t == duration::max() || (fired && lazy_)) {
            lazy_ = false;
            return time_point::max();
        }
        const time_point armed = armed_.load(std::memory_order_relaxed);
        if (armed != time_point::max() && !fired)
            return armed;  // a wait is pending: keep it
        lazy_ = true;
        return deadline_after(now, t);
    }

    // Completions found under the lock and run after it, oldest first. The
    // waiters wait (they are alive until completed), so they carry the list
    // themselves: ending any number of requests at once allocates nothing,
    // which lets stop(), close() and expire() be noexcept. The requests one
    // call ends in bulk all end the same way (expiry: timeout; stop and close:
    // closed), so the batch holds that once.
    class completion_batch {
    public:
        explicit completion_batch(run_outcome how) noexcept : how_(how) {}
        completion_batch(const completion_batch&) = delete;
        completion_batch& operator=(const completion_batch&) = delete;

        run_outcome how() const noexcept { return how_; }

        void add(waiter_type* w) noexcept
        {
            w->next_ended = nullptr;
            (last_ ? last_->next_ended : first_) = w;
            last_ = w;
        }

        // A waiter that ends with error::overloaded (shed or displaced),
        // whatever the batch's own outcome.
        void add_shed(waiter_type* w) noexcept
        {
            w->next_ended = nullptr;
            (shed_last_ ? shed_last_->next_ended : shed_first_) = w;
            shed_last_ = w;
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
            while (waiter_type* w = first_) {
                first_ = w->next_ended;  // read first: completing may end the waiter's life
                w->complete(error_of(how_));
            }
            if (shed_first_) [[unlikely]]
                run_shed();
        }

    private:
        BOOST_NOINLINE void run_shed() noexcept
        {
            while (waiter_type* w = shed_first_) {
                shed_first_ = w->next_ended;
                w->complete(error::overloaded);
            }
        }

        run_outcome how_;
        waiter_type* first_ = nullptr;
        waiter_type* last_ = nullptr;
        waiter_type* shed_first_ = nullptr;
        waiter_type* shed_last_ = nullptr;
        slot_type* reclaim_ = nullptr;
    };

    static error error_of(run_outcome how) noexcept
    {
        switch (how) {
        case run_outcome::timed_out: return error::timeout;
        case run_outcome::cancelled: return error::cancelled;
        case run_outcome::shed: return error::overloaded;
        default: return error::closed;
        }
    }

    // Ends slot `s` before its handler delivered (under the lock) into
    // `batch`, which completes its waiter after the lock. A slot that held a
    // request not yet taken goes back to free (the batch destroys the request
    // and releases it after the lock); one the responder holds (taken or
    // running) becomes abandoned until the responder lets go of it (begin()
    // or finish()). False if the handler's result was delivered first: the
    // slot is only unlinked then (see finish()).
    bool end_early(slot_type* s, completion_batch& batch) noexcept { return end_claimed(s, claim(s), batch); }

    // The state of slot `s` (under the lock), settled against a begin() that
    // may run at the same time without the lock: a taken slot is claimed (by
    // compare-and-swap to abandoned; `taken` is returned and the caller must
    // end it), unless its handler just started (`running` is returned, or
    // `finished` if it has ended too).
    static slot_state claim(slot_type* s) noexcept
    {
        slot_state st = s->get_state();
        if (st == slot_state::taken)
            s->state.compare_exchange_strong(st, slot_state::abandoned, std::memory_order_acq_rel,
                                             std::memory_order_acquire);  // on failure st is what begin() made it
        return st;
    }

    // Ends `s`, whose state was `was` (see claim()), and returns its waiter;
    // null if it was running and finish() came first (it is unlinked then).
    waiter_type* end_claimed(slot_type* s, slot_state was, run_outcome how) noexcept
    {
        switch (was) {
        case slot_state::queued:
            queue_.erase(s);
            release_place();
            break;
        case slot_state::inbox: release_place(); break;
        case slot_state::waiting_room:
            room_.erase(s);
            room_count_.store(room_.size(), std::memory_order_relaxed);
            break;
        case slot_state::running: {
            s->end_reason = how;  // finish() reads it once it sees `abandoned`
            slot_state st = slot_state::running;
            if (!s->state.compare_exchange_strong(st, slot_state::abandoned, std::memory_order_acq_rel,
                                                  std::memory_order_acquire)) {
                unlink(s);  // finished: reap() gives it back
                return nullptr;
            }
            running_.erase(s);
            heap_.erase(s);
            ++s->generation;
            return s->owner;
        }
        case slot_state::finished: unlink(s); return nullptr;
        case slot_state::taken: running_.erase(s); break;
        default: break;
        }
        heap_.erase(s);
        waiter_type* w = s->owner;
        // A slot the responder holds, or one still in the inbox (reclaimed
        // when the inbox is absorbed), stays out of the table for now.
        if (was == slot_state::taken || was == slot_state::inbox) {
            s->end_reason = how;
            s->set_state(slot_state::abandoned);
            ++s->generation;
        } else {
            retire(s);
        }
        return w;
    }

    bool end_claimed(slot_type* s, slot_state was, completion_batch& batch) noexcept
    {
        const bool held_request = was == slot_state::queued || was == slot_state::waiting_room;
        waiter_type* w = end_claimed(s, was, batch.how());
        if (!w)
            return false;
        batch.add(w);
        if (held_request)
            batch.reclaim(s);
        return true;
    }

    // Under the lock: takes finished slot `s` off the running list and the
    // deadline heap (it may be off already), for reap() to give back.
    void unlink(slot_type* s) noexcept
    {
        heap_.erase(s);
        if (running_.contains(s))
            running_.erase(s);
    }

    // Under the lock: the slot with the earliest deadline (null for none),
    // past any that finish() delivered and reap() has not seen yet (they are
    // unlinked here: their deadline no longer counts).
    slot_type* heap_top() noexcept
    {
        while (!heap_.empty()) {
            slot_type* s = heap_.top();
            if (s->get_state() != slot_state::finished)
                return s;
            unlink(s);
        }
        return nullptr;
    }

    static time_point deadline_of(const slot_type* s) noexcept { return s ? s->deadline : time_point::max(); }

    // Under the lock: gives back the slots finish() let go of. A delivered
    // one is unlinked and counted; an abandoned one was unlinked when it
    // ended. Either way the responder holds one request less.
    void reap() noexcept
    {
        if (finished_.load(std::memory_order_relaxed) == 0)
            return;
        auto* s = reinterpret_cast<slot_type*>(finished_.exchange(0, std::memory_order_acquire));
        while (s) {
            slot_type* next = s->inbox_next;
            s->inbox_next = nullptr;
            if (s->get_state() == slot_state::finished) {
                unlink(s);
                ++(s->failed ? counters_.failed : counters_.completed);
                retire(s);
            } else {
                BOOST_DUPLEX_ASSERT(s->get_state() == slot_state::abandoned);
                s->set_state(slot_state::free);
            }
            --in_flight_;
            table_.release(s);
            s = next;
        }
    }

    // A slot leaves use: its key goes stale.
    void retire(slot_type* s) noexcept
    {
        s->set_state(slot_state::free);
        ++s->generation;
    }

    void close_waiting(completion_batch& batch) noexcept  // a batch of run_outcome::closed
    {
        while (slot_type* s = queue_.next(false))
            end_early(s, batch);
        while (slot_type* s = room_.front())
            end_early(s, batch);
    }

    // Moves requests waiting for room into the queue while it has room, or
    // while a rendezvous responder stands ready for them, oldest first.
    void promote_waiters() noexcept
    {
        if (room_.empty())
            return;
        // The highest priority first, oldest first within one.
        for (slot_type* s = room_.front(); s && reserve_locked(); s = room_.front()) {
            room_.erase(s);
            s->set_state(slot_state::queued);
            if (overload_)
                s->queued_at = queue_.now();  // its wait in the queue starts now
            queue_.push(s);
        }
        room_count_.store(room_.size(), std::memory_order_relaxed);
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
        if (heap_top() || next_shed() != time_point::max() || armed_.load(std::memory_order_relaxed) == time_point::max())
            return false;
        armed_.store(time_point::max(), std::memory_order_relaxed);
        return true;
    }

    // Under the lock: true if the responder slept (it is awake from now on).
    bool wake() noexcept
    {
        std::uintptr_t head = idle_mark;
        return inbox_.compare_exchange_strong(head, 0, std::memory_order_relaxed);
    }

    const channel_options opts_;
    // Overload control (channel_options::overload), fixed at construction.
    const bool overload_;
    const bool shed_;
    const bool lifo_;
    const duration interval_;   // how long the queue must stand to be overloaded
    const duration shed_wait_;  // a wait this long or longer is longer than the target
    table_type table_;

    // What clients touch without the lock, together on a line of their own.
    alignas(64) std::atomic<std::uintptr_t> inbox_{0};  // see idle_mark, closed_mark
    std::atomic<std::size_t> reserved_{0};    // places in the queue ever taken (the inbox's too)
    std::atomic<std::size_t> released_{0};    // places given back (written under the lock only)
    std::atomic<std::size_t> room_count_{0};  // room_.size(): clients with someone waiting take the lock
    // What the backend's timer waits for: set under the lock, lowered by clients.
    std::atomic<time_point> armed_{time_point::max()};

    alignas(64) mutable parking_mutex mutex_;
    request_queue<slot_type> queue_;                            // admitted and absorbed, in taking order
    priority_fifo<slot_type, &slot_type::link> room_;           // waiting for room, by priority, oldest first
    slot_list<slot_type, &slot_type::run_link> running_;  // handed to the handler, not yet ended
    deadline_heap<slot_type> heap_;
    std::atomic<time_point> drain_at_{time_point::max()};  // stop(drain); read by the responder unlocked
    std::atomic<std::uintptr_t> finished_{0};  // slots finish() let go of, newest first (see reap())
    bool lazy_ = false;                      // armed_ is a lazy horizon, not a deadline
    std::size_t in_flight_ = 0;
    std::size_t limit_ = 0;
    std::size_t demand_ = 0;
    std::size_t clients_ = 0;
    std::uint32_t run_counter_ = 0;
    bool stopped_ = false;
    bool closed_ = false;
    responder_stats counters_{};
    time_point run_since_ = time_point::max();  // the first take(): a run is going

};

}  // namespace boost::duplex::detail

#endif
