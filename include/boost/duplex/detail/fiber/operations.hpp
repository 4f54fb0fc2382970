//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_FIBER_OPERATIONS_HPP
#define BOOST_DUPLEX_DETAIL_FIBER_OPERATIONS_HPP

#include <boost/duplex/detail/core/batch.hpp>
#include <boost/duplex/detail/core/request_source.hpp>
#include <boost/duplex/detail/fiber/channel.hpp>

#include <optional>
#include <thread>
#include <utility>

namespace boost::duplex::detail::fiber {

// The waiter of one blocking request: the result and the signal its fiber waits on.
template <class Response>
class request_waiter final : public waiter<Response> {
public:
    request_waiter() noexcept : waiter<Response>(&request_waiter::on_complete) {}

    std::optional<result<Response>> value;
    signal done;

private:
    static void on_complete(waiter<Response>* w, result<Response>&& r, bool) noexcept
    {
        auto* self = static_cast<request_waiter*>(w);
        self->value.emplace(std::move(r));
        self->done.raise();  // the last touch: the waiting fiber may return at once
    }
};

// Sends one request and blocks the calling fiber until it ends.
template <class Channel, class Request>
result<typename Channel::response_type> request(Channel& ch, Request&& req, duration timeout)
{
    const time_point now = clock_type::now();
    const time_point deadline = deadline_after(now, timeout);
    request_waiter<typename Channel::response_type> w;
    auto* s = ch.core.prepare();
    ch.apply(ch.core.submit(s, std::forward<Request>(req), deadline, w, now));
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
    batch(Channel& ch, Range&& range, std::size_t concurrency, std::optional<duration> timeout, time_point now)
        : engine(ch.core, std::forward<Range>(range), concurrency, timeout, now), ch_(ch)
    {
    }

    auto run()
    {
        engine::start();
        // Sub-requests have no fiber of their own waiting on their deadlines:
        // this one keeps them all.
        wait_driving_deadlines(ch_.core, done_, [this] { return ch_.core.earliest_deadline(); });
        return this->take_value();
    }

private:
    void apply(effects fx) noexcept { ch_.apply(fx); }
    // Fiber handlers are plain functions: a cancellation cannot reach them.
    void forward(typename Channel::core_type::cancel_outcome out) noexcept { ch_.apply(out.fx); }
    void on_done() noexcept { done_.raise(); }

    Channel& ch_;
    signal done_;
};

template <class Channel, bool Settled, class Range>
auto request_batch(Channel& ch, Range&& range, std::size_t concurrency, std::optional<duration> timeout)
{
    using source_type = request_source<typename Channel::request_type, Range&&>;
    batch<Channel, source_type, Settled> b(ch, std::forward<Range>(range), concurrency, timeout, clock_type::now());
    return b.run();
}

}  // namespace boost::duplex::detail::fiber

#endif
