//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_ASIO_CHANNEL_HPP
#define BOOST_DUPLEX_DETAIL_ASIO_CHANNEL_HPP

#include <boost/duplex/detail/asio/completion.hpp>
#include <boost/duplex/detail/core/channel_core.hpp>
#include <boost/duplex/options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

namespace boost::duplex::detail::asio {

namespace net = boost::asio;

// What the channel asks of its running async_run, whatever the run's handler
// types. On the responder strand only.
struct run_event {
    enum kind : unsigned char {
        drain,       // take what the core holds
        shut_down,   // the channel is closed: end the run now
        drain_until  // stop(drain): at `at`, the run ends whatever still runs
    } what;
    time_point at{};
};

using run_hook = hook<run_event>;

// The state shared by the clients, the responder and its run: the sans-io
// core, plus what adapts it to Asio (a strand for the responder, one timer
// for all deadlines on a strand of its own, so that a busy responder does not
// delay the deadlines of clients on other threads).
template <class Request, class Response, class Storage>
class channel : public std::enable_shared_from_this<channel<Request, Response, Storage>> {
public:
    using core_type = channel_core<Request, Response, Storage>;
    using request_type = Request;
    using response_type = Response;

    channel(net::any_io_executor ex, const channel_options& opts)
        : core(opts)
        , executor(std::move(ex))
        , responder_strand(strand_for(executor))
        , timer_strand_(strand_for(executor))
        , timer_(timer_strand_)
    {
    }

    // Carries out what a call into the core asked for. Called on paths that
    // cannot fail (a client's destructor, a cancellation, the responder's
    // destruction): on an io_context's executor each kind of post it makes
    // travels in memory of the channel's own, so it allocates nothing.
    void apply(effects fx) noexcept
    {
        if (fx.wake_responder || fx.rearm_timer) [[unlikely]]
            carry_out(fx);
    }

    // Passes a terminal cancellation on to the handler invocation of a running request.
    void forward_cancel(typename core_type::cancel_outcome out)
    {
        apply(out.fx);
        if (!out.forward)
            return;
        net::post(responder_strand, [self = this->shared_from_this(), s = out.forward, tag = out.run_tag]() noexcept {
            // The invocation and the tag are the responder's, read on its
            // strand: a slot handed back and taken again since the cancel
            // shows another tag or no invocation. A run that ended has
            // cancelled its invocations already.
            if (self->run && s->run_tag == tag && s->invocation)
                s->invocation->call();
        });
    }

    // Runs the responder's drain on its strand soon: to wake it from idle, or
    // to carry on after it gave the strand back. The two never overlap (a
    // wake-up comes only while the responder is idle, a carry-on only while
    // it is busy), so they share one post's memory.
    void schedule_drain() noexcept
    {
        post_to(responder_strand, wake_memory_, [self = this->shared_from_this()]() noexcept { self->drain(); });
    }

    // Closes the channel, and ends its run at once (the run's completion is
    // posted; running awaitable handlers hear a terminal cancellation): what
    // destroying the responder and a terminal cancellation of the run both do.
    void shut_down() noexcept
    {
        apply(core.close());
        cancel_timer();
        post_to(responder_strand, shut_down_memory_, [self = this->shared_from_this()]() noexcept {
            if (self->run)
                self->run->call({run_event::shut_down});
        });
    }

    // Once the channel is closed no deadline is left to keep; a wait still
    // armed would hold the io_context's run() for up to a whole timeout.
    void cancel_timer() noexcept { request_timer(timer_cancel); }

    core_type core;
    const net::any_io_executor executor;
    const net::any_io_executor responder_strand;  // a strand

    // The running async_run, if any, and its owner (responder strand only).
    // The channel owns its run, and never the other way round: a run left
    // pending when its io_context is destroyed goes with the handlers that
    // held the channel, instead of keeping itself alive.
    run_hook* run = nullptr;
    std::shared_ptr<void> run_owner;
    // The responder object is gone: a run still going completes with error::closed.
    std::atomic<bool> responder_gone{false};
    // async_run was called once; a channel runs at most once.
    std::atomic<bool> run_started{false};
    // A run is going (from its start until it completes).
    std::atomic<bool> run_active{false};

private:
    // A strand of the io_context's own executor where there is one: Asio
    // 1.81's strand<any_io_executor> allocates each time it reschedules itself
    // (through any_executor's type-erased function), its strand<io_context
    // executor> does not.
    static net::any_io_executor strand_for(const net::any_io_executor& ex)
    {
        if (const auto* io = io_context_executor_of(ex))
            return net::make_strand(*io);
        return net::make_strand(ex);
    }

    void drain() noexcept
    {
        if (run)
            run->call({run_event::drain});
    }

    // apply()'s work, out of line: most calls have nothing to do.
    BOOST_NOINLINE void carry_out(effects fx) noexcept
    {
        if (fx.wake_responder)
            schedule_drain();
        if (fx.rearm_timer)
            request_timer(timer_rearm);
    }

    // Runs `f` on `strand` soon. On an io_context it is posted to the
    // io_context in `memory` and enters the strand from there: the caller,
    // which may be a client on another thread in a noexcept path, allocates
    // nothing, and the strand is entered from a thread that runs the
    // io_context, whose recycled operation memory Asio then uses (as for its
    // own operations). Any other executor gets a plain post, which Asio's
    // type-erased executors allocate for. `f` must keep the channel alive
    // (it holds `memory`) until it runs or is destroyed.
    template <class Function>
    void post_to(const net::any_io_executor& strand, post_buffer<64>& memory, Function f) noexcept
    {
        if (io_executor_) {
            post_with(memory, *io_executor_, [&strand, f = std::move(f)]() mutable noexcept {
                net::dispatch(strand, std::move(f));
            });
        } else {
            net::post(strand, std::move(f));
        }
    }

    // The timer strand's work, coalesced: whatever was asked for until it
    // runs is done by one post, so that it needs one post's memory.
    static constexpr unsigned timer_posted = 1;
    static constexpr unsigned timer_rearm = 2;
    static constexpr unsigned timer_cancel = 4;

    void request_timer(unsigned what) noexcept
    {
        if (timer_work_.fetch_or(what | timer_posted, std::memory_order_acq_rel) & timer_posted)
            return;  // the post in flight does it
        post_to(timer_strand_, timer_memory_, [self = this->shared_from_this()]() noexcept { self->timer_work(); });
    }

    // Timer strand only.
    void timer_work() noexcept
    {
        const unsigned what = timer_work_.exchange(0, std::memory_order_acq_rel);
        if (what & timer_cancel) {
            // The channel is closed: no deadline is left, and the core
            // answers any later re-arm with none.
            timer_waiting_ = false;
            timer_.cancel();
        } else if (what & timer_rearm) {
            arm_timer();
        }
    }

    // Timer strand only. Sets the timer to what the core says it must wait
    // for: the earliest deadline, or, while a run holds the io_context anyway,
    // a lazy horizon (see channel_core::next_deadline). `fired`: the last
    // wait ended.
    void arm_timer(bool fired = false)
    {
        const time_point next =
            core.next_deadline(clock_type::now(), run_active.load(std::memory_order_relaxed), fired);
        if (next == time_point::max()) {
            if (timer_waiting_) {
                timer_waiting_ = false;
                timer_.cancel();  // nothing left to wait for: do not hold the io_context
            }
            return;
        }
        if (timer_waiting_ && timer_.expiry() == next)
            return;
        timer_waiting_ = true;
        timer_.expires_at(next);
        timer_.async_wait([self = this->weak_from_this()](boost::system::error_code ec) noexcept {
            if (ec)
                return;  // re-armed for an earlier deadline, or the channel is gone
            if (auto p = self.lock()) {
                p->timer_waiting_ = false;
                p->core.expire(clock_type::now());
                p->arm_timer(true);
            }
        });
    }

    const std::optional<net::io_context::executor_type> io_executor_ = as_optional(io_context_executor_of(executor));
    // The memory of the channel's own posts, one for each kind (each has at
    // most one in flight, but for a rare overlap, which goes to the heap).
    post_buffer<64> wake_memory_;
    post_buffer<64> timer_memory_;
    post_buffer<64> shut_down_memory_;
    std::atomic<unsigned> timer_work_{0};  // timer_posted | timer_rearm | timer_cancel
    net::any_io_executor timer_strand_;
    net::steady_timer timer_;
    bool timer_waiting_ = false;  // timer strand only
};

}  // namespace boost::duplex::detail::asio

#endif
