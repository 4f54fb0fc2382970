//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CORE_BATCH_HPP
#define BOOST_DUPLEX_DETAIL_CORE_BATCH_HPP

#include <boost/duplex/detail/core/channel_core.hpp>
#include <boost/duplex/detail/core/invocation.hpp>
#include <boost/duplex/detail/core/parking_mutex.hpp>
#include <boost/duplex/error.hpp>

#include <boost/system/errc.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace boost::duplex::detail {

// What a batch completes with: fail-fast gives every response or the first
// error; settled gives one result per request.
template <class Response, bool Settled>
using batch_value_t = std::conditional_t<Settled, std::vector<result<Response>>, result<std::vector<Response>>>;

// The backend-independent part of a batch: at most `concurrency` requests
// outstanding, each submitted to the core as the previous ones end, results
// kept in input order, fail-fast (the first error stops the batch and cancels
// its other requests, terminally) or settled (every request ends on its own).
//
// Sub-requests end on any thread (the responder, the timer, a canceller), so
// the batch keeps its own small lock. Only one thread at a time submits: a
// completion that arrives while another thread is submitting leaves the
// submitting to it, which keeps the stack flat when many requests end at once
// (e.g. a closed channel failing each submit immediately).
//
// Derived provides `void apply(effects)` (carry out the core's effects),
// `void forward(typename Core::cancel_outcome)` (pass a cancellation on to a
// running handler) and `void on_done() noexcept` (called once, after every
// sub-request ended).
template <class Core, class Source, bool Settled, class Derived>
class batch_engine {
    using Request = typename Core::request_type;
    using Response = typename Core::response_type;
    using element_type = std::conditional_t<Settled, result<Response>, Response>;

    struct sub final : waiter<Response> {
        explicit sub(batch_engine* b) noexcept : waiter<Response>(hook_to<&sub::on_complete>), batch(b) {}

        void on_complete(result<Response>&& r, bool) noexcept { batch->sub_done(this, std::move(r)); }

        batch_engine* batch;
        std::size_t index = 0;
        slot_key key{};
        bool active = false;
        sub* next_idle = nullptr;
    };

public:
    template <class Range>
    batch_engine(Core& core, Range&& range, std::size_t concurrency, std::optional<duration> batch_timeout,
                 time_point now, request_class cls = {})
        : core_(core)
        , cls_(cls)
        , source_(std::forward<Range>(range))
        , concurrency_(concurrency)
        , deadline_(batch_timeout ? std::optional<time_point>(deadline_after(now, *batch_timeout)) : std::nullopt)
        , results_(source_.size())
    {
        out_.reserve(results_.size());
    }

    batch_engine(const batch_engine&) = delete;
    batch_engine& operator=(const batch_engine&) = delete;

    // Starts submitting. on_done() may run before this returns (an empty
    // batch, concurrency 0, or every request failing at once).
    void start() { pump(std::unique_lock(mutex_)); }

    // Stops submitting and cancels the outstanding requests: all of them when
    // `terminal`, otherwise only those not yet handed to the handler. Where
    // listing them fails (std::bad_alloc) they are not cancelled but end on
    // their own, and the batch then ends as cancelled.
    void cancel(bool terminal) noexcept
    {
        std::vector<slot_key> keys;
        {
            std::lock_guard lock(mutex_);
            if (done_)
                return;
            stopping_ = true;
            cancelled_ = true;
            try {
                keys = active_keys();
            } catch (...) {
            }
            ++busy_;
        }
        for (auto k : keys)
            derived().forward(core_.cancel(k, terminal));
        std::unique_lock lk(mutex_);
        --busy_;
        pump(std::move(lk));
    }

    // The batch's value, once on_done() was called. Allocates nothing (its
    // vector was reserved at the start), so it may run where nothing may
    // throw: an element whose Response move throws is handler_failed.
    batch_value_t<Response, Settled> take_value() noexcept
    {
        const error failed_unsent = cancelled_ ? error::cancelled : error::invalid_argument;
        if constexpr (Settled) {
            for (auto& r : results_) {
                try {
                    out_.push_back(r ? std::move(*r) : result<Response>(make_error_code(failed_unsent)));
                } catch (...) {
                    out_.push_back(result<Response>(make_error_code(error::handler_failed)));
                }
            }
            return std::move(out_);
        } else {
            if (failure_)
                return failure_;
            if (concurrency_ == 0 && !results_.empty())
                return make_error_code(error::invalid_argument);
            for (auto& r : results_) {
                if (!r)
                    return make_error_code(failed_unsent);
                try {
                    out_.push_back(std::move(*r));
                } catch (...) {
                    return make_error_code(error::handler_failed);
                }
            }
            return std::move(out_);
        }
    }

private:
    Derived& derived() noexcept { return static_cast<Derived&>(*this); }

    std::vector<slot_key> active_keys() const
    {
        std::vector<slot_key> keys;
        for (auto& s : subs_)
            if (s->active)
                keys.push_back(s->key);
        return keys;
    }

    // Who may touch the batch after releasing its lock: the thread that holds
    // the pumping role, or one that holds `busy_` (a cancelling loop, whose
    // cancels complete sub-requests inline). Anyone else hands its work to
    // them under the lock and leaves without touching the batch again: the
    // batch may end, and be freed, the moment the lock is released.

    void sub_done(sub* s, result<Response>&& r) noexcept
    {
        std::vector<slot_key> to_cancel;
        std::unique_lock lk(mutex_);
        bool lost = false;  // a Response whose move throws cannot be kept
        if (r) {
            try {
                if constexpr (Settled)
                    results_[s->index].emplace(std::move(r));
                else
                    results_[s->index].emplace(std::move(r).assume_value());
            } catch (...) {
                lost = true;
            }
        }
        // That element fails with handler_failed, as in a request of its own.
        const boost::system::error_code failed =
            lost ? make_error_code(error::handler_failed) : r ? boost::system::error_code() : r.error();
        if constexpr (Settled) {
            if (failed)
                results_[s->index].emplace(failed);
        }
        if (!Settled && failed && !failure_) {
            failure_ = failed;
            stopping_ = true;
            s->active = false;
            try {
                to_cancel = active_keys();
            } catch (...) {
                // std::bad_alloc: they are not cancelled but end on their own.
            }
        }
        s->active = false;
        s->next_idle = idle_;
        idle_ = s;
        --outstanding_;
        if (!to_cancel.empty()) {
            ++busy_;
            lk.unlock();
            for (auto k : to_cancel)
                derived().forward(core_.cancel(k, true));
            lk.lock();
            --busy_;
        }
        pump(std::move(lk));
    }

    // Submits while the batch may, then ends it when nothing is left. Called
    // with the lock held; returns without it.
    void pump(std::unique_lock<parking_mutex> lk) noexcept
    {
        if (pumping_)
            return;  // the pumper sees our changes when it next takes the lock
        pumping_ = true;
        for (;;) {
            if (concurrency_ == 0)
                stopping_ = true;
            if (stopping_ || next_ == results_.size() || outstanding_ >= concurrency_) {
                pumping_ = false;
                if (outstanding_ != 0 || busy_ != 0 || done_ || !(stopping_ || next_ == results_.size()))
                    return;
                done_ = true;
                lk.unlock();
                derived().on_done();
                return;
            }
            sub* s = nullptr;
            try {
                s = idle_sub();
            } catch (...) {
                // std::bad_alloc: no more requests start; the batch ends with those under way.
                stopping_ = true;
                continue;
            }
            s->index = next_++;
            ++outstanding_;
            // The slot is prepared under the lock, so that a cancel finds the
            // sub-request's key at once (it then marks the prepared slot, and
            // submit() completes it as cancelled).
            std::optional<Request> req;
            typename Core::slot_type* slot = nullptr;
            boost::system::error_code failed;
            try {
                req.emplace(source_.next());
                slot = core_.prepare();
                s->key = core_.key_of(slot);
                s->active = true;
            } catch (const std::bad_alloc&) {
                failed = make_error_code(boost::system::errc::not_enough_memory);
            } catch (...) {
                failed = make_error_code(error::invalid_argument);  // no request could be made from the element
            }
            lk.unlock();
            if (failed)
                sub_done(s, failed);
            else
                submit(s, slot, std::move(*req));
            lk.lock();
        }
    }

    sub* idle_sub()
    {
        if (sub* s = idle_) {
            idle_ = s->next_idle;
            return s;
        }
        subs_.push_back(std::make_unique<sub>(this));
        return subs_.back().get();
    }

    // Submits the prepared request of sub-request `s`. Where that throws
    // (std::bad_alloc), the request ends with not_enough_memory rather than
    // taking the process down: this runs inside completions, which must not
    // throw.
    void submit(sub* s, typename Core::slot_type* slot, Request&& req) noexcept
    {
        const time_point now = clock_type::now();
        const time_point deadline = deadline_ ? *deadline_ : deadline_after(now, core_.options().timeout);
        try {
            derived().apply(core_.submit(slot, std::move(req), deadline, *s, now, true, cls_));
        } catch (...) {
            sub_done(s, make_error_code(boost::system::errc::not_enough_memory));
        }
    }

    Core& core_;
    const request_class cls_;
    Source source_;
    const std::size_t concurrency_;
    const std::optional<time_point> deadline_;
    std::vector<std::optional<element_type>> results_;
    std::vector<element_type> out_;  // the value, reserved at the start
    std::vector<std::unique_ptr<sub>> subs_;

    parking_mutex mutex_;
    sub* idle_ = nullptr;
    std::size_t next_ = 0;
    std::size_t outstanding_ = 0;
    std::size_t busy_ = 0;  // cancelling loops under way
    boost::system::error_code failure_;
    bool stopping_ = false;
    bool cancelled_ = false;
    bool pumping_ = false;
    bool done_ = false;
};

}  // namespace boost::duplex::detail

#endif
