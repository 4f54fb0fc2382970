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
#include <boost/asio/io_context.hpp>
#include <boost/asio/require.hpp>
#include <boost/asio/execution/allocator.hpp>
#include <boost/asio/execution/blocking.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace boost::duplex::detail::asio {

namespace net = boost::asio;

// A per-thread cache of operation memory. Asio's recycling allocator keeps
// two blocks per thread, shared with the strand's and the scheduler's own
// operations; blocks of our size were evicted by theirs every few requests.
// This one keeps a few blocks of any size for the channel's operations only.
// An operation is freed on the thread that runs its completion, which is the
// thread that started the next one, so a warm thread allocates nothing.
//
// Operations of several sizes share it (a request, a batch, a run). Blocks
// are therefore made as large as the largest operation the thread has asked
// for, and smaller ones are not kept: otherwise the cache can fill with blocks
// that fit one kind of operation and never the other, which then allocates
// every time (it did, once a request's operation grew past a size class).
class op_memory_cache {
    static constexpr std::size_t slots = 4;
    static constexpr std::size_t header = alignof(std::max_align_t);  // holds the block's capacity

    enum class state : unsigned char { fresh, kept, gone };

    // The thread's cache. Trivial and constant-initialised, so that each
    // access is a plain thread-local read with no initialisation guard; the
    // blocks are freed at thread exit by a second object (`release_at_exit`)
    // that is touched once, when the first block is kept.
    struct blocks {
        void* block[slots];
        std::size_t largest;  // the capacity new blocks get: the largest asked for on this thread
        state st;
    };

    struct release_at_exit {
        ~release_at_exit()
        {
            blocks& c = local_;
            c.st = state::gone;  // memory freed later goes straight back to the heap
            for (void*& b : c.block)
                ::operator delete(std::exchange(b, nullptr));
        }
    };

public:
    static void* allocate(std::size_t size)
    {
        std::size_t cap = (size + 63) & ~std::size_t(63);
        blocks& c = local_;
        if (c.st != state::gone) {
            for (auto& b : c.block)
                if (b && capacity(b) >= size)
                    return user(std::exchange(b, nullptr));
            if (cap > c.largest) {
                c.largest = cap;
                for (auto& b : c.block)  // too small from now on: make room for blocks that fit
                    if (b && capacity(b) < cap)
                        ::operator delete(std::exchange(b, nullptr));
            }
            cap = c.largest;
        }
        void* raw = ::operator new(cap + header);
        *static_cast<std::size_t*>(raw) = cap;
        return user(raw);
    }

    static void deallocate(void* p) noexcept
    {
        void* raw = static_cast<unsigned char*>(p) - header;
        blocks& c = local_;
        if (c.st != state::gone && capacity(raw) >= c.largest)
            for (auto& b : c.block)
                if (!b) {
                    if (c.st == state::fresh) [[unlikely]]
                        keep_until_exit(c);
                    b = raw;
                    return;
                }
        ::operator delete(raw);
    }

private:
    static void keep_until_exit(blocks& c) noexcept
    {
        thread_local release_at_exit releaser;  // registered for thread exit on first use
        (void)releaser;
        c.st = state::kept;
    }

    static std::size_t capacity(void* raw) noexcept { return *static_cast<std::size_t*>(raw); }
    static void* user(void* raw) noexcept { return static_cast<unsigned char*>(raw) + header; }

    static constinit inline thread_local blocks local_{};
};

// The allocator of operation state whose handler has no allocator of its own.
template <class T>
class op_recycling_allocator {
public:
    using value_type = T;

    op_recycling_allocator() noexcept = default;
    template <class U>
    op_recycling_allocator(const op_recycling_allocator<U>&) noexcept
    {
    }

    T* allocate(std::size_t n)
    {
        if constexpr (alignof(T) > alignof(std::max_align_t))
            return std::allocator<T>().allocate(n);
        else
            return static_cast<T*>(op_memory_cache::allocate(n * sizeof(T)));
    }

    void deallocate(T* p, std::size_t n) noexcept
    {
        if constexpr (alignof(T) > alignof(std::max_align_t))
            std::allocator<T>().deallocate(p, n);
        else
            op_memory_cache::deallocate(p);
    }

    template <class U>
    bool operator==(const op_recycling_allocator<U>&) const noexcept
    {
        return true;
    }
};

// The allocator for a handler's operation state: its associated allocator, or
// the per-thread cache above where it has none of its own (as Asio's own
// operations use Asio's recycling allocator), so that a warm thread
// allocates nothing.
template <class Handler>
auto handler_allocator(const Handler& h) noexcept
{
    auto a = net::get_associated_allocator(h);
    if constexpr (std::is_same_v<decltype(a), std::allocator<void>>)
        return op_recycling_allocator<void>();
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

// The io_context executor behind `ex`, if that is what it is (directly or
// inside an any_io_executor). Completions to such an executor take the fast
// paths below: cheap work counting, inline completion when already on its
// thread, and posting with memory the operation brought along.
template <class Executor>
const net::io_context::executor_type* io_context_executor_of(const Executor& ex) noexcept
{
    if constexpr (std::is_same_v<Executor, net::io_context::executor_type>)
        return &ex;
    else if constexpr (std::is_same_v<Executor, net::any_io_executor>)
        return ex.template target<net::io_context::executor_type>();
    else
        return nullptr;
}

template <class T>
std::optional<T> as_optional(const T* p)
{
    return p ? std::optional<T>(*p) : std::nullopt;
}

using tracked_io_executor = std::decay_t<decltype(net::prefer(std::declval<net::io_context::executor_type>(),
                                                              net::execution::outstanding_work.tracked))>;

// Everything an operation keeps of its completion handler while it is
// pending: the handler, outstanding work on its executor (so that run() does
// not return under a pending request), and its cancellation slot.
template <class Handler, class IoExecutor>
class handler_holder {
public:
    handler_holder(Handler h, const IoExecutor& io_ex)
        : slot_(net::get_associated_cancellation_slot(h))
        , handler_(std::move(h))
    {
        auto ex = net::get_associated_executor(handler_, io_ex);
        if (const auto* io = io_context_executor_of(ex))
            io_.emplace(net::prefer(*io, net::execution::outstanding_work.tracked));
        else
            work_.emplace(net::prefer(std::move(ex), net::execution::outstanding_work.tracked));
    }

    net::associated_cancellation_slot_t<Handler>& slot() noexcept { return slot_; }
    const Handler& handler() const noexcept { return handler_; }

    // The handler's executor when it is an io_context's, or null.
    const tracked_io_executor* io_executor() const noexcept { return io_ ? &*io_ : nullptr; }

    // Calls the handler here and now, for a caller that already is on its
    // executor. The cancellation slot is cleared first; the work is released
    // after, so that the executor does not run out of work in between.
    template <class... Args>
    void invoke(Args&&... args) &&
    {
        if (slot_.is_connected())
            slot_.clear();
        auto io = std::move(io_);
        auto work = std::move(work_);
        std::move(handler_)(std::forward<Args>(args)...);
    }

    // Submits the handler with `args` to its executor. Never runs it inline,
    // so it may be called from inside an initiating function.
    template <class... Args>
    void post(Args&&... args) &&
    {
        auto alloc = net::get_associated_allocator(handler_, net::recycling_allocator<void>());
        if (io_) {
            const auto ex = *io_;
            net::post(ex, net::bind_allocator(alloc, [self = std::move(*this), ... a = std::forward<Args>(args)]() mutable {
                          std::move(self).invoke(std::move(a)...);
                      }));
        } else {
            const auto ex = *work_;
            net::post(ex, net::bind_allocator(alloc, [self = std::move(*this), ... a = std::forward<Args>(args)]() mutable {
                          std::move(self).invoke(std::move(a)...);
                      }));
        }
    }

private:
    std::optional<tracked_io_executor> io_;
    std::optional<handler_work_t<Handler, IoExecutor>> work_;
    net::associated_cancellation_slot_t<Handler> slot_;
    Handler handler_;
};

// An exception thrown by a completion handler that ran inline propagates from
// the io_context's run(), as it would have from a posted one, instead of
// escaping the responder's loop.
inline void rethrow_from(const tracked_io_executor& ex, std::exception_ptr e) noexcept
{
    net::post(net::require(ex, net::execution::outstanding_work.untracked), [e] { std::rethrow_exception(e); });
}

// Memory for the one operation an io_context executor allocates to post a
// completion, kept inside the object that posts it so that the post costs no
// allocation. Larger requests (not expected) go to the heap.
template <std::size_t Size>
struct post_buffer {
    alignas(std::max_align_t) unsigned char data[Size];
    std::atomic<bool> busy{false};
};

template <class T, std::size_t Size>
class post_buffer_allocator {
public:
    using value_type = T;
    template <class U>
    struct rebind {
        using other = post_buffer_allocator<U, Size>;
    };

    explicit post_buffer_allocator(post_buffer<Size>* b) noexcept : b_(b) {}
    template <class U>
    post_buffer_allocator(const post_buffer_allocator<U, Size>& other) noexcept : b_(other.b_)
    {
    }

    T* allocate(std::size_t n)
    {
        if (n * sizeof(T) <= Size && alignof(T) <= alignof(std::max_align_t) &&
            !b_->busy.exchange(true, std::memory_order_acquire))
            return reinterpret_cast<T*>(b_->data);
        return std::allocator<T>().allocate(n);
    }

    // Called by the executor before the posted function runs (or is
    // destroyed), while the function still keeps the buffer's owner alive.
    void deallocate(T* p, std::size_t n) noexcept
    {
        if (reinterpret_cast<unsigned char*>(p) == b_->data)
            b_->busy.store(false, std::memory_order_release);
        else
            std::allocator<T>().deallocate(p, n);
    }

    template <class U>
    bool operator==(const post_buffer_allocator<U, Size>& other) const noexcept
    {
        return b_ == other.b_;
    }

private:
    template <class, std::size_t>
    friend class post_buffer_allocator;
    post_buffer<Size>* b_;
};

// Posts `f` to an io_context executor with the memory of `b`.
template <std::size_t Size, class Executor, class Function>
void post_with(post_buffer<Size>& b, const Executor& ex, Function&& f)
{
    net::require(ex, net::execution::blocking.never,
                 net::execution::allocator(post_buffer_allocator<void, Size>(&b)))
        .execute(std::forward<Function>(f));
}

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
