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
#include <boost/duplex/detail/core/invocation.hpp>

#include <boost/asio/cancellation_type.hpp>

#include <cstddef>
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
//
// How it completes, cheapest first, when the handler's executor is an
// io_context's: inline, when the responder delivers the response from its own
// loop on a thread already running that io_context (never from inside an
// initiating function); otherwise posted with memory kept inside this
// operation, so a response crossing threads allocates nothing. Any other
// executor gets a plain post.
template <class Response, class Handler, class IoExecutor>
class request_op final : public waiter<Response> {
    using holder_type = handler_holder<Handler, IoExecutor>;

    // What an io_context runs to complete the request: it owns the operation
    // until then, and frees it unrun if the io_context goes first.
    class posted {
    public:
        explicit posted(request_op* op) noexcept : op_(op) {}
        posted(posted&& other) noexcept : op_(std::exchange(other.op_, nullptr)) {}
        posted& operator=(posted&&) = delete;
        ~posted()
        {
            if (op_) {
                op_->result_.destroy();
                op_->destroy();
            }
        }

        void operator()()
        {
            request_op* op = std::exchange(op_, nullptr);
            result<Response> r = move_or_fail(*op->result_.get());  // a throw here would leak the op
            op->result_.destroy();
            op->consume().invoke(std::move(r));
        }

    private:
        request_op* op_;
    };

    // Room for the io_context's operation around `posted` (a scheduler
    // operation, the function and the allocator: about 48 bytes).
    static constexpr std::size_t post_room = 96;

public:
    request_op(Handler&& h, const IoExecutor& io_ex) : waiter<Response>(hook_to<&request_op::on_complete>), h_(std::move(h), io_ex)
    {
    }

    holder_type& holder() noexcept { return h_; }

    // Frees an operation that never completed.
    void destroy() noexcept { deallocate_op(this, op_allocator<request_op>(h_.handler())); }

private:
    // Moves the handler out and frees the operation, so that the handler may
    // start another request in the same memory.
    holder_type consume() noexcept
    {
        auto alloc = op_allocator<request_op>(h_.handler());
        holder_type h(std::move(h_));
        deallocate_op(this, alloc);
        return h;
    }

    void on_complete(result<Response>&& r, bool may_run_inline) noexcept
    {
        const auto* io = h_.io_executor();
        if (!io) {
            consume().post(std::move(r));
            return;
        }
        if (may_run_inline && io->running_in_this_thread()) {
            const tracked_io_executor ex = *io;
            try {
                consume().invoke(std::move(r));
            } catch (...) {
                rethrow_from(ex, std::current_exception());
            }
            return;
        }
        // Kept until the posted completion runs; a Response whose move
        // throws cannot be kept, and the client hears handler_failed.
        emplace_or_fail(result_, r);
        post_with(post_memory_, *io, posted(this));
    }

    holder_type h_;
    manual<result<Response>> result_;
    post_buffer<post_room> post_memory_;
};

// async_request's initiation: hands the request to the core and the handler
// to a request_op. Every completion, even an immediate one, is posted.
template <class Channel>
struct initiate_request {
    // Moved out when the initiation runs (it runs once): once the request is
    // submitted it may complete on another thread, and the completion may
    // destroy whatever holds this object (a use_awaitable frame, for one)
    // before this function returns, so nothing here may be read after the
    // submission but locals. Found by ThreadSanitizer (test/asio/multithread.cpp).
    mutable std::shared_ptr<Channel> channel;
    request_class cls;

    template <class Handler, class Request>
    void operator()(Handler&& handler, Request&& req, duration timeout) const
    {
        const std::shared_ptr<Channel> ch = std::move(channel);
        const request_class c = cls;
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
            fx = ch->core.submit(s, std::forward<Request>(req), deadline_after(now, timeout), *op, now,
                                 slot.is_connected(), c);
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
