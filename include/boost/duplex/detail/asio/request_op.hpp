//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_ASIO_REQUEST_OP_HPP
#define BOOST_DUPLEX_DETAIL_ASIO_REQUEST_OP_HPP

#include <boost/duplex/detail/asio/channel.hpp>
#include <boost/duplex/detail/asio/completion.hpp>

#include <boost/asio/cancellation_type.hpp>

#include <memory>
#include <utility>

namespace boost::duplex::detail::asio {

// Installed in a request's cancellation slot. It names the request by key,
// never by address: a signal emitted after the request ended finds a stale
// generation and does nothing.
template <class Channel>
class cancel_request {
public:
    cancel_request(std::weak_ptr<Channel> ch, slot_key key) noexcept : ch_(std::move(ch)), key_(key) {}

    void operator()(net::cancellation_type_t type)
    {
        if (auto ch = ch_.lock()) {
            const bool terminal = (type & net::cancellation_type::terminal) != net::cancellation_type::none;
            ch->forward_cancel(ch->core.cancel(key_, terminal));
        }
    }

private:
    std::weak_ptr<Channel> ch_;
    slot_key key_;
};

// The state of one async_request while it is pending: the core's waiter for
// it, holding the completion handler.
template <class Response, class Handler, class IoExecutor>
class request_op final : public waiter<Response> {
public:
    request_op(Handler&& h, const IoExecutor& io_ex) : waiter<Response>(&request_op::on_complete), h_(std::move(h), io_ex)
    {
    }

    handler_holder<Handler, IoExecutor>& holder() noexcept { return h_; }

private:
    static void on_complete(waiter<Response>* w, result<Response>&& r) noexcept
    {
        auto* self = static_cast<request_op*>(w);
        auto alloc = op_allocator<request_op>(self->h_.handler());
        auto h = std::move(self->h_);
        deallocate_op(self, alloc);
        std::move(h).post(std::move(r));
    }

    handler_holder<Handler, IoExecutor> h_;
};

// async_request's initiation: hands the request to the core and the handler
// to a request_op. Every completion, even an immediate one, is posted.
template <class Channel>
struct initiate_request {
    std::shared_ptr<Channel> ch;

    template <class Handler, class Request>
    void operator()(Handler&& handler, Request&& req, duration timeout) const
    {
        using handler_type = std::decay_t<Handler>;
        using response_type = typename Channel::response_type;
        using op_type = request_op<response_type, handler_type, net::any_io_executor>;

        const time_point now = clock_type::now();
        op_type* op = allocate_op<op_type>(handler, std::move(handler), ch->executor);
        auto* s = [&] {
            try {
                return ch->core.prepare();
            } catch (...) {
                deallocate_op(op, op_allocator<op_type>(op->holder().handler()));
                throw;
            }
        }();
        auto& slot = op->holder().slot();
        if (slot.is_connected())
            slot.template emplace<cancel_request<Channel>>(ch, ch->core.key_of(s));
        effects fx;
        try {
            fx = ch->core.submit(s, std::move(req), deadline_after(now, timeout), *op, now);
        } catch (...) {
            // Nothing was admitted (std::bad_alloc): the op is still ours.
            if (slot.is_connected())
                slot.clear();
            deallocate_op(op, op_allocator<op_type>(op->holder().handler()));
            throw;
        }
        // From here on the op belongs to the core; it may already be gone.
        ch->apply(fx);
    }
};

}  // namespace boost::duplex::detail::asio

#endif
