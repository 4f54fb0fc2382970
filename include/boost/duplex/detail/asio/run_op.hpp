//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_ASIO_RUN_OP_HPP
#define BOOST_DUPLEX_DETAIL_ASIO_RUN_OP_HPP

#include <boost/duplex/detail/asio/channel.hpp>
#include <boost/duplex/detail/asio/completion.hpp>
#include <boost/duplex/detail/core/invocation.hpp>
#include <boost/duplex/detail/core/limiter.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <concepts>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace boost::duplex::detail::asio {

template <class T>
struct awaitable_value {
    static constexpr bool is_awaitable = false;
};

template <class T, class Executor>
struct awaitable_value<net::awaitable<T, Executor>> {
    static constexpr bool is_awaitable = true;
    using type = T;
    using executor_type = Executor;
};

// A coroutine handler: awaitable<Response>(Request) or awaitable<result<Response>>(Request).
template <class Handler, class Request, class Response>
concept awaitable_handler =
    std::invocable<Handler&, Request&&> && awaitable_value<std::invoke_result_t<Handler&, Request&&>>::is_awaitable &&
    (std::convertible_to<typename awaitable_value<std::invoke_result_t<Handler&, Request&&>>::type, Response> ||
     std::same_as<typename awaitable_value<std::invoke_result_t<Handler&, Request&&>>::type, result<Response>>);

template <class Handler, class Request, class Response>
concept request_handler =
    sync_handler<Handler, Request, Response> || awaitable_handler<Handler, Request, Response>;

// One async_run: takes requests from the core on the responder strand as the
// limiter allows, runs the handler on each and reports each end back. A
// synchronous handler runs inline, one after another; a coroutine handler is
// spawned on the strand with a cancellation signal of its own, to which a
// terminal cancellation of its request is forwarded.
template <class Channel, class Handler, class Limiter, class CompletionHandler>
class run_op final : public run_hook,
                     public std::enable_shared_from_this<run_op<Channel, Handler, Limiter, CompletionHandler>> {
    using core_type = typename Channel::core_type;
    using slot_type = typename core_type::slot_type;
    using Request = typename Channel::request_type;
    using Response = typename Channel::response_type;

    static constexpr bool is_async = !sync_handler<Handler, Request, Response>;

    // The state of one running coroutine invocation. It outlives the
    // coroutine: the cancellation slot bound to co_spawn's completion refers to it.
    struct invocation final : hook<> {
        invocation() noexcept : hook<>(hook_to<&invocation::cancel>) {}

        // A terminal cancellation of its request, forwarded by the channel.
        void cancel() noexcept { signal.emit(net::cancellation_type::terminal); }

        net::cancellation_signal signal;
        std::optional<result<Response>> outcome;
        slot_type* slot = nullptr;
        time_point started{};
        bool running = false;  // from co_spawn until its completion
    };

    // The run's own cancellation (its completion handler's slot): terminal
    // cancellation closes the channel as destroying the responder does, and
    // the run completes with error::cancelled at once. Called on whatever
    // thread emits the cancellation.
    struct run_canceller {
        std::weak_ptr<run_op> op;
        std::weak_ptr<Channel> ch;

        void operator()(net::cancellation_type_t type)
        {
            if ((type & net::cancellation_type::terminal) == net::cancellation_type::none)
                return;  // partial and total: a run cannot end halfway, nor without its side effects
            auto o = op.lock();
            auto c = ch.lock();
            if (!o || !c)
                return;
            o->cancel_requested_.store(true);  // the run's end reports error::cancelled
            c->shut_down();
        }
    };

    // How long a drain may keep the strand before giving it back to other
    // work. Yielding costs a post (and, on an io_context with a reactor, a
    // poll of it), so a drain goes on while rounds are quick, as they are
    // when responses to clients on this thread run inline; one slow round
    // (synchronous handlers run inline too) ends it.
    static constexpr auto drain_budget = std::chrono::microseconds(50);

public:
    run_op(Channel& ch, Handler h, Limiter l, CompletionHandler&& done)
        : run_hook(hook_to<&run_op::on_event>)
        , ch_(&ch)
        , handler_(std::move(h))
        , limiter_(std::move(l))
        , done_(std::in_place, std::move(done), ch_->executor)
    {
    }

    // Called by the initiation; everything else happens on the responder strand.
    void start(std::shared_ptr<run_op> self, std::shared_ptr<Channel> ch)
    {
        auto& slot = done_->slot();
        if (slot.is_connected())
            slot.template emplace<run_canceller>(run_canceller{self, ch});
        net::post(ch_->responder_strand,
                  [self = std::move(self), ch = std::move(ch)]() noexcept { self->begin(); });
    }

private:
    void begin() noexcept
    {
        if (ch_->core.closed() || ch_->responder_gone.load()) {
            finish_run(make_error_code(error::closed));
            return;
        }
        ch_->run = this;
        ch_->run_owner = this->shared_from_this();
        ch_->run_active.store(true);
        ch_->core.set_limit(limiter_.limit());
        drain();
    }

    void on_event(run_event e) noexcept
    {
        switch (e.what) {
        case run_event::drain:
            drain();
            break;
        case run_event::shut_down:
            if (!finished_)
                finish_run(make_error_code(error::closed));
            break;
        case run_event::drain_until:
            drain_until(e.at);
            break;
        }
    }

    // Responder strand. The earliest of the drains asked for wins.
    void drain_until(time_point at) noexcept
    {
        if (finished_ || (drain_timer_ && drain_timer_->expiry() <= at))
            return;
        try {
            if (!drain_timer_)
                drain_timer_.emplace(ch_->responder_strand);
            drain_timer_->expires_at(at);
            drain_timer_->async_wait([self = this->weak_from_this()](boost::system::error_code ec) noexcept {
                if (ec)
                    return;  // an earlier drain, or the run ended
                if (auto p = self.lock())
                    p->drain_passed();
            });
        } catch (...) {
            // std::bad_alloc: no bound on this drain; stop() holds as without one.
        }
    }

    // The drain has passed with the run still going: what still runs ends
    // now, with error::closed for its client (its late result is dropped;
    // an awaitable handler hears a terminal cancellation, see finish_run()).
    // A synchronous handler cannot still be running here: it runs on this
    // strand, and holds it until it returns.
    void drain_passed() noexcept
    {
        if (finished_)
            return;
        auto end = ch_->core.end_drain();
        ch_->apply(end.fx);
        finish_run(end.abandoned ? result<void>(make_error_code(error::timeout))
                                 : result<void>(boost::outcome_v2::success()));
    }

    void drain() noexcept
    {
        if (finished_)
            return;
        const time_point start = clock_type::now();
        for (time_point now = start; now - start < drain_budget; now = clock_type::now()) {
            // Read each round: synchronous handlers run inline, so a round
            // may have taken long, and take() must see what expired meanwhile.
            // The first request taken starts now; the others wait for the
            // handlers before them (synchronous ones run inline, one after
            // another) and are checked when their turn comes.
            auto batch = ch_->core.take(limiter_.limit(), now, SIZE_MAX, 1);
            if (batch.done) {
                finish_run(ch_->responder_gone.load() ? make_error_code(error::closed) : result<void>(boost::outcome_v2::success()));
                return;
            }
            if (batch.count == 0)
                return;  // idle (the core wakes us) or at the limit (an ending invocation drains again)
            for (slot_type* s = batch.first; s;) {
                slot_type* next = s->chain;  // read first: a finished slot may be reused at once
                if (s == batch.first || ch_->core.begin(s, time_to_begin(s)))
                    invoke(s);
                s = next;
            }
        }
        // Busy: let other work run, then carry on.
        ch_->schedule_drain();
    }

    void invoke(slot_type* s) noexcept
    {
        limiter_.on_start();
        const time_point started = invocation_clock<Limiter>::now();
        if constexpr (!is_async) {
            auto r = invoke_taken<Response, core_type>(handler_, s);
            end(s, std::move(r), started);
        } else {
            invocation* inv = nullptr;
            try {
                inv = acquire_invocation();
                inv->slot = s;
                inv->started = started;
                inv->running = true;
                s->invocation = inv;
                // The coroutine and its completion keep the channel and the run
                // alive; destroyed unfinished with their io_context, they free both.
                net::co_spawn(ch_->responder_strand,
                              run_handler(this->shared_from_this(), ch_->shared_from_this(), inv,
                                          core_type::take_request(s)),
                              net::bind_cancellation_slot(
                                  inv->signal.slot(),
                                  [self = this->shared_from_this(), ch = ch_->shared_from_this(),
                                   inv](std::exception_ptr) noexcept { self->invocation_ended(inv); }));
            } catch (...) {
                // std::bad_alloc starting the coroutine: the request fails, the responder goes on.
                if (inv) {
                    s->invocation = nullptr;
                    free_.push_back(inv);
                }
                end(s, result<Response>(make_error_code(error::handler_failed)), started);
            }
        }
    }

    // Reports the end of an invocation. The client's completion may run
    // inline here: this is the responder's own loop, never an initiating
    // function, and a client on this thread would otherwise pay a post.
    // Anything that handler starts completes through other paths, which post.
    void end(slot_type* s, result<Response>&& r, time_point started) noexcept
    {
        end_invocation(ch_->core, limiter_, s, std::move(r), started, invocation_clock<Limiter>::now(), true);
    }

    static net::awaitable<void> run_handler(std::shared_ptr<run_op> self, std::shared_ptr<Channel>, invocation* inv,
                                            Request req)
    {
        try {
            inv->outcome.emplace(to_result<Response>(co_await self->handler_(std::move(req))));
        } catch (...) {
            inv->outcome.emplace(make_error_code(error::handler_failed));
        }
    }

    void invocation_ended(invocation* inv) noexcept
    {
        slot_type* s = inv->slot;
        s->invocation = nullptr;
        inv->running = false;
        result<Response> r =
            inv->outcome ? move_or_fail(*inv->outcome) : result<Response>(make_error_code(error::handler_failed));
        inv->outcome.reset();
        const time_point started = inv->started;
        inv->signal.slot().clear();
        free_.push_back(inv);  // reserved in acquire_invocation(): cannot throw
        end(s, std::move(r), started);
        drain();
    }

    // Invocations stay owned by the run, so that a coroutine destroyed
    // unfinished (its io_context gone) leaves nothing behind; the frames and
    // completions hold the run, which therefore outlives them.
    invocation* acquire_invocation()
    {
        if (free_.empty()) {
            all_.push_back(std::make_unique<invocation>());
            free_.reserve(all_.size());
            return all_.back().get();
        }
        invocation* inv = free_.back();
        free_.pop_back();
        return inv;
    }

    void finish_run(result<void> r) noexcept
    {
        std::shared_ptr<void> keep;  // destroyed last: this may be the run's last owner
        finished_ = true;
        if (cancel_requested_.load())
            r = make_error_code(error::cancelled);
        // A run that ends while awaitable handlers still run (the responder
        // destroyed, the run cancelled) does not wait for them: they hear a
        // terminal cancellation, and their late results are dropped. (A
        // run ended by stop() has none left.)
        if constexpr (is_async) {
            for (auto& inv : all_)
                if (inv->running)
                    inv->signal.emit(net::cancellation_type::terminal);
        }
        ch_->run_active.store(false);
        if (ch_->run == this) {
            ch_->run = nullptr;
            keep = std::move(ch_->run_owner);
        }
        ch_->cancel_timer();
        if (drain_timer_)
            drain_timer_->cancel();  // it would hold the io_context until the drain passed
        if (done_->slot().is_connected())
            done_->slot().clear();  // over: a cancellation from now on has nothing to end
        auto done = std::move(*done_);
        done_.reset();
        std::move(done).post(std::move(r));
    }

    Channel* ch_;  // the channel owns the run (see channel::run_owner)
    Handler handler_;
    Limiter limiter_;
    std::optional<handler_holder<CompletionHandler, net::any_io_executor>> done_;
    std::vector<std::unique_ptr<invocation>> all_;
    std::vector<invocation*> free_;
    std::optional<net::steady_timer> drain_timer_;  // made by the first stop(drain)
    bool finished_ = false;
    std::atomic<bool> cancel_requested_{false};  // set by run_canceller, on any thread
};

template <class Channel>
struct initiate_run {
    std::shared_ptr<Channel> ch;

    template <class CompletionHandler, class Handler, class Strategy>
    void operator()(CompletionHandler&& done, Handler&& h, Strategy&& strategy) const
    {
        using limiter_type = decltype(make_limiter(std::forward<Strategy>(strategy)));
        using op_type = run_op<Channel, std::decay_t<Handler>, limiter_type, std::decay_t<CompletionHandler>>;
        if (ch->run_started.exchange(true)) {
            // A channel runs once: after its run it is closed.
            handler_holder<std::decay_t<CompletionHandler>, net::any_io_executor> holder(std::move(done), ch->executor);
            std::move(holder).post(result<void>(make_error_code(ch->core.closed() ? error::closed : error::invalid_argument)));
            return;
        }
        auto alloc = op_allocator<op_type>(done);
        auto op = std::allocate_shared<op_type>(alloc, *ch, std::forward<Handler>(h),
                                                make_limiter(std::forward<Strategy>(strategy)), std::move(done));
        op->start(op, ch);
    }
};

}  // namespace boost::duplex::detail::asio

#endif
