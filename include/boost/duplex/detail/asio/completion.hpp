//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_ASIO_COMPLETION_HPP
#define BOOST_DUPLEX_DETAIL_ASIO_COMPLETION_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace boost::duplex::detail::asio {

namespace net = boost::asio;

// The allocator for a handler's operation state: its associated allocator, or
// Asio's per-thread recycling allocator where it has none of its own (as
// Asio's own operations do), so that a warm thread allocates nothing.
template <class Handler>
auto handler_allocator(const Handler& h) noexcept
{
    auto a = net::get_associated_allocator(h);
    if constexpr (std::is_same_v<decltype(a), std::allocator<void>>)
        return net::recycling_allocator<void>();
    else
        return a;
}

template <class Handler, class T>
using rebound_allocator_t =
    typename std::allocator_traits<decltype(handler_allocator(std::declval<const Handler&>()))>::template rebind_alloc<T>;

template <class Handler, class IoExecutor>
using handler_executor_t = net::associated_executor_t<Handler, IoExecutor>;

template <class Handler, class IoExecutor>
using handler_work_t = std::decay_t<decltype(net::prefer(std::declval<handler_executor_t<Handler, IoExecutor>>(),
                                                         net::execution::outstanding_work.tracked))>;

// Everything an operation keeps of its completion handler while it is
// pending: the handler, outstanding work on its executor (so that run() does
// not return under a pending request), and its cancellation slot.
template <class Handler, class IoExecutor>
class handler_holder {
public:
    handler_holder(Handler h, const IoExecutor& io_ex)
        : work_(net::prefer(net::get_associated_executor(h, io_ex), net::execution::outstanding_work.tracked))
        , slot_(net::get_associated_cancellation_slot(h))
        , handler_(std::move(h))
    {
    }

    net::associated_cancellation_slot_t<Handler>& slot() noexcept { return slot_; }
    const Handler& handler() const noexcept { return handler_; }

    // Submits the handler with `args` to its executor. Never runs it inline,
    // so it may be called from inside an initiating function. The
    // cancellation slot is cleared there, just before the handler runs, on the
    // executor where the caller emits its signals.
    template <class... Args>
    void post(Args&&... args) &&
    {
        auto alloc = net::get_associated_allocator(handler_, net::recycling_allocator<void>());
        auto ex = work_;
        net::post(std::move(ex),
                  net::bind_allocator(alloc, [work = std::move(work_), slot = slot_, h = std::move(handler_),
                                              ... a = std::forward<Args>(args)]() mutable {
                      if (slot.is_connected())
                          slot.clear();
                      std::move(h)(std::move(a)...);
                      (void)work;
                  }));
    }

private:
    handler_work_t<Handler, IoExecutor> work_;
    net::associated_cancellation_slot_t<Handler> slot_;
    Handler handler_;
};

// Allocates and frees operation state of type Op with the handler's allocator.
template <class Op, class Handler, class... Args>
Op* allocate_op(const Handler& h, Args&&... args)
{
    rebound_allocator_t<Handler, Op> alloc(handler_allocator(h));
    Op* p = std::allocator_traits<decltype(alloc)>::allocate(alloc, 1);
    try {
        std::allocator_traits<decltype(alloc)>::construct(alloc, p, std::forward<Args>(args)...);
    } catch (...) {
        std::allocator_traits<decltype(alloc)>::deallocate(alloc, p, 1);
        throw;
    }
    return p;
}

template <class Op, class Handler>
rebound_allocator_t<Handler, Op> op_allocator(const Handler& h) noexcept
{
    return rebound_allocator_t<Handler, Op>(handler_allocator(h));
}

// Frees what allocate_op made, with an allocator taken from its handler
// before the handler was moved out.
template <class Op, class Alloc>
void deallocate_op(Op* p, Alloc alloc) noexcept
{
    std::allocator_traits<Alloc>::destroy(alloc, p);
    std::allocator_traits<Alloc>::deallocate(alloc, p, 1);
}

}  // namespace boost::duplex::detail::asio

#endif
