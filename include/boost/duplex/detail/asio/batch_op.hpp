//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_ASIO_BATCH_OP_HPP
#define BOOST_DUPLEX_DETAIL_ASIO_BATCH_OP_HPP

#include <boost/duplex/detail/asio/channel.hpp>
#include <boost/duplex/detail/asio/completion.hpp>
#include <boost/duplex/detail/core/batch.hpp>
#include <boost/duplex/detail/core/request_source.hpp>

#include <boost/asio/cancellation_type.hpp>

#include <memory>
#include <optional>
#include <utility>

namespace boost::duplex::detail::asio {

// A pending async_request_batch[_settled]: the core's batch engine, the
// completion handler, and a self-reference that keeps it alive until done
// (the cancellation slot holds only a weak one).
template <class Channel, class Source, bool Settled, class Handler>
class batch_op final
    : public batch_engine<typename Channel::core_type, Source, Settled, batch_op<Channel, Source, Settled, Handler>>,
      public std::enable_shared_from_this<batch_op<Channel, Source, Settled, Handler>> {
    using engine = batch_engine<typename Channel::core_type, Source, Settled, batch_op>;
    friend engine;

public:
    template <class Range>
    batch_op(std::shared_ptr<Channel> ch, Handler&& h, Range&& range, std::size_t concurrency,
             std::optional<duration> timeout, time_point now, request_class cls)
        : engine(ch->core, std::forward<Range>(range), concurrency, timeout, now, cls)
        , ch_(std::move(ch))
        , h_(std::move(h), ch_->executor)
    {
    }

    void start(std::shared_ptr<batch_op> self)
    {
        self_ = std::move(self);
        auto& slot = h_.slot();
        if (slot.is_connected())
            slot.template emplace<canceller>(this->weak_from_this());
        engine::start();
    }

private:
    struct canceller {
        explicit canceller(std::weak_ptr<batch_op> p) noexcept : op(std::move(p)) {}
        std::weak_ptr<batch_op> op;
        void operator()(net::cancellation_type_t type)
        {
            if (auto p = op.lock())
                p->cancel((type & net::cancellation_type::terminal) != net::cancellation_type::none);
        }
    };

    void apply(effects fx) { ch_->apply(fx); }
    void forward(typename Channel::core_type::cancel_outcome out) { ch_->forward_cancel(out); }

    void on_done() noexcept
    {
        auto keep = std::move(self_);
        std::move(h_).post(this->take_value());
    }

    std::shared_ptr<Channel> ch_;
    handler_holder<Handler, net::any_io_executor> h_;
    std::shared_ptr<batch_op> self_;
};

template <class Channel, bool Settled>
struct initiate_batch {
    std::shared_ptr<Channel> ch;
    request_class cls;

    template <class Handler, class RangeRef>
    void operator()(Handler&& handler, RangeRef range, std::size_t concurrency, std::optional<duration> timeout) const
    {
        using handler_type = std::decay_t<Handler>;
        using range_arg = typename RangeRef::type;
        using source_type = request_source<typename Channel::request_type, range_arg>;
        using op_type = batch_op<Channel, source_type, Settled, handler_type>;

        const time_point now = clock_type::now();
        auto alloc = op_allocator<op_type>(handler);
        auto op = std::allocate_shared<op_type>(alloc, ch, std::move(handler), range.forward(), concurrency, timeout, now, cls);
        op->start(op);
    }
};

// Carries the range through async_initiate, which would otherwise copy a
// deferred operation's arguments: an lvalue range travels by reference, an
// rvalue one by value.
template <class Range>
struct range_ref {
    using type = Range&&;
    std::conditional_t<std::is_lvalue_reference_v<Range>, Range, std::remove_cvref_t<Range>> value;
    type forward() { return static_cast<type>(value); }
};

}  // namespace boost::duplex::detail::asio

#endif
