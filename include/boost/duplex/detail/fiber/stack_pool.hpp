//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_FIBER_STACK_POOL_HPP
#define BOOST_DUPLEX_DETAIL_FIBER_STACK_POOL_HPP

#include <boost/context/fixedsize_stack.hpp>
#include <boost/context/stack_context.hpp>

#include <memory>
#include <mutex>
#include <vector>

namespace boost::duplex::detail::fiber {

// Keeps the stacks of ended handler fibers for the next ones: a fresh stack
// per request costs an mmap, page faults and an munmap, which dwarfs the rest
// of a request. A stack may come back on another thread than it left (a
// work-sharing scheduler moves fibers), hence the lock; a fiber keeps a
// copy of its allocator, hence the shared pool behind a cheap handle.
class stack_pool {
    struct pool {
        std::mutex mutex;
        std::vector<boost::context::stack_context> free;
        explicit pool(std::size_t size) : fresh(size) {}

        boost::context::fixedsize_stack fresh;

        ~pool()
        {
            for (auto& s : free)
                fresh.deallocate(s);
        }
    };

    // Stacks kept at most; the rest go back to the system.
    static constexpr std::size_t max_kept = 256;

public:
    explicit stack_pool(std::size_t size) : p_(std::make_shared<pool>(size)) {}

    boost::context::stack_context allocate()
    {
        {
            std::lock_guard lock(p_->mutex);
            if (!p_->free.empty()) {
                auto s = p_->free.back();
                p_->free.pop_back();
                return s;
            }
            if (p_->free.capacity() < max_kept)
                p_->free.reserve(max_kept);  // so that deallocate() never allocates
        }
        return p_->fresh.allocate();
    }

    void deallocate(boost::context::stack_context& s) noexcept
    {
        {
            std::lock_guard lock(p_->mutex);
            if (p_->free.size() < p_->free.capacity()) {
                p_->free.push_back(s);
                return;
            }
        }
        p_->fresh.deallocate(s);
    }

private:
    std::shared_ptr<pool> p_;
};

}  // namespace boost::duplex::detail::fiber

#endif
