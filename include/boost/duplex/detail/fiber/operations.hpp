//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_FIBER_OPERATIONS_HPP
#define BOOST_DUPLEX_DETAIL_FIBER_OPERATIONS_HPP

#include <boost/duplex/detail/core/batch.hpp>
#include <boost/duplex/detail/core/invocation.hpp>
#include <boost/duplex/detail/core/request_source.hpp>
#include <boost/duplex/detail/fiber/channel.hpp>

#include <optional>
#include <stop_token>
#include <thread>
#include <utility>

namespace boost::duplex::detail::fiber {

// The waiter of one blocking request: the result and the signal its fiber waits on.
template <class Response>
class request_waiter final : public waiter<Response> {
public:
    request_waiter() noexcept : waiter<Response>(hook_to<&request_waiter::on_complete>) {}

    std::optional<result<Response>> value;
    signal done;

private:
    void on_complete(result<Response>&& r, bool) noexcept
    {
        emplace_or_fail(value, r);  // a Response whose move throws: handler_failed
        done.raise();  // the last touch: the waiting fiber may return at once
    }
};

// What a stop request does to one request: a terminal cancellation, as an
// Asio cancellation slot's (one path in the core for both backends). Runs on
// the thread that requested the stop; the stop_callback's destructor waits
// for it, so the channel outlives it.
template <class Channel>
struct request_canceller {
    Channel* ch;
    slot_key key;

    // A fiber handler cannot be interrupted: the core drops its late result
    // (`forward` is for Asio's awaitable handlers).
    void operator()() const noexcept { ch->apply(ch->core.cancel(key, true).fx); }
};

// Sends one request and blocks the calling fiber until it ends, or until
// `stop` is requested (error::cancelled; a stop requested already sends nothing).
template <class Channel, class Request>
result<typename Channel::response_type> request(Channel& ch, request_class cls, Request&& req, duration timeout,
                                                std::stop_token stop = {})
{
    if (stop.stop_requested())
        return make_error_code(error::cancelled);
    const time_point now = clock_type::now();
    const time_point deadline = deadline_after(now, timeout);
    request_waiter<typename Channel::response_type> w;
    auto* s = ch.core.prepare();
    // Hooked up before the request is visible: a stop from now on finds it
    // (before submit(), the core marks the prepared slot and submit() ends it).
    std::optional<std::stop_callback<request_canceller<Channel>>> on_stop;
    if (stop.stop_possible())
        on_stop.emplace(std::move(stop), request_canceller<Channel>{&ch, ch.core.key_of(s)});
    ch.apply(ch.core.submit(s, std::forward<Request>(req), deadline, w, now, on_stop.has_value(), cls));
    // On the thread of a running responder its run loop keeps this deadline
    // (it waits for the channel's earliest one), and were that thread
    // blocked, this fiber could not run either: no timed wait needed. On any
    // other thread, or before the run, the waiting fiber keeps its own.
    const bool kept = ch.run_thread.load(std::memory_order_relaxed) == std::this_thread::get_id();
    wait_driving_deadlines(ch.core, w.done, [deadline, kept] { return kept ? time_point::max() : deadline; });
    return std::move(*w.value);
}

// A blocking batch: the shared batch engine, and a signal for its end.
template <class Channel, class Source, bool Settled>
class batch final : public batch_engine<typename Channel::core_type, Source, Settled, batch<Channel, Source, Settled>> {
    using engine = batch_engine<typename Channel::core_type, Source, Settled, batch>;
    friend engine;

public:
    template <class Range>
    batch(Channel& ch, Range&& range, std::size_t concurrency, std::optional<duration> timeout, time_point now,
          request_class cls)
        : engine(ch.core, std::forward<Range>(range), concurrency, timeout, now, cls), ch_(ch)
    {
    }

    // `stop`: a stop request cancels the batch (terminally), as an Asio
    // cancellation slot does; one requested already sends nothing.
    auto run(std::stop_token stop)
    {
        std::optional<std::stop_callback<canceller>> on_stop;
        if (stop.stop_possible())
            on_stop.emplace(std::move(stop), canceller{this});  // runs cancel() now if requested already
        engine::start();
        // Sub-requests have no fiber of their own waiting on their deadlines:
        // this one keeps them all.
        wait_driving_deadlines(ch_.core, done_, [this] { return ch_.core.earliest_deadline(); });
        return this->take_value();
    }

private:
    struct canceller {
        batch* self;

        void operator()() const noexcept { self->cancel(true); }
    };

    void apply(effects fx) noexcept { ch_.apply(fx); }
    // Fiber handlers are plain functions: a cancellation cannot reach them.
    void forward(typename Channel::core_type::cancel_outcome out) noexcept { ch_.apply(out.fx); }
    void on_done() noexcept { done_.raise(); }

    Channel& ch_;
    signal done_;
};

template <class Channel, bool Settled, class Range>
auto request_batch(Channel& ch, request_class cls, Range&& range, std::size_t concurrency,
                   std::optional<duration> timeout, std::stop_token stop = {})
{
    using source_type = request_source<typename Channel::request_type, Range&&>;
    batch<Channel, source_type, Settled> b(ch, std::forward<Range>(range), concurrency, timeout, clock_type::now(),
                                           cls);
    return b.run(std::move(stop));
}

}  // namespace boost::duplex::detail::fiber

#endif
