//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Counts every heap allocation of the process, whichever thread or library
// makes it.
//
// Counting `operator new` alone misses allocations: Asio's recycling
// allocator calls std::aligned_alloc, Boost.Context and C code call malloc.
// So, in exactly one translation unit of the program, define
// BOOST_DUPLEX_BENCH_ALLOC_COUNTER_DEFINE before including this header: that
// unit then replaces every glibc allocation entry point (malloc, calloc,
// realloc, free, aligned_alloc, posix_memalign, memalign, valloc, pvalloc),
// forwarding to glibc's own __libc_* functions, and every global operator new
// and delete (through malloc and free, so that each allocation is counted
// once). Other units include it plainly and read the counter.
//
// Self-contained (no Boost) and glibc-only: the __libc_* functions are
// glibc's. Counting is one relaxed atomic add per allocation.
//
//     auto before = boost::duplex::bench::allocations();
//     ...
//     auto n = boost::duplex::bench::allocations().count - before.count;

#ifndef BOOST_DUPLEX_BENCH_ALLOC_COUNTER_HPP
#define BOOST_DUPLEX_BENCH_ALLOC_COUNTER_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace boost::duplex::bench {

struct allocation_count {
    std::uint64_t count = 0;  // successful allocations (realloc counts as one)
    std::uint64_t bytes = 0;  // bytes requested by them
};

namespace detail {

// Constant-initialised, so usable by allocations made before main() and
// during the dynamic initialisation of other units.
inline std::atomic<std::uint64_t> allocation_counter{0};
inline std::atomic<std::uint64_t> allocation_bytes{0};

inline void count_allocation(std::size_t bytes) noexcept
{
    allocation_counter.fetch_add(1, std::memory_order_relaxed);
    allocation_bytes.fetch_add(bytes, std::memory_order_relaxed);
}

}  // namespace detail

/// The allocations of the whole process so far. Only meaningful in a program
/// with one unit that defines BOOST_DUPLEX_BENCH_ALLOC_COUNTER_DEFINE
/// (otherwise it stays at zero).
inline allocation_count allocations() noexcept
{
    return {detail::allocation_counter.load(std::memory_order_relaxed),
            detail::allocation_bytes.load(std::memory_order_relaxed)};
}

/// True when the replacements are in the program and counting: makes one
/// allocation and checks that it was seen. Defined by the unit that defines
/// BOOST_DUPLEX_BENCH_ALLOC_COUNTER_DEFINE.
bool allocation_counting() noexcept;

}  // namespace boost::duplex::bench

#if defined(BOOST_DUPLEX_BENCH_ALLOC_COUNTER_DEFINE)

#include <cerrno>
#include <new>

extern "C" {
// glibc's own implementations, which the replacements below forward to.
void* __libc_malloc(std::size_t) noexcept;
void* __libc_calloc(std::size_t, std::size_t) noexcept;
void* __libc_realloc(void*, std::size_t) noexcept;
void __libc_free(void*) noexcept;
void* __libc_memalign(std::size_t, std::size_t) noexcept;
void* __libc_valloc(std::size_t) noexcept;
void* __libc_pvalloc(std::size_t) noexcept;
}

namespace boost::duplex::bench::detail {

inline void* counted(void* p, std::size_t bytes) noexcept
{
    if (p)
        count_allocation(bytes);
    return p;
}

inline bool valid_alignment(std::size_t alignment) noexcept
{
    return alignment != 0 && (alignment & (alignment - 1)) == 0 && alignment % sizeof(void*) == 0;
}

// operator new: malloc (counted there), the new-handler loop, std::bad_alloc.
inline void* new_impl(std::size_t size)
{
    if (size == 0)
        size = 1;
    for (;;) {
        if (void* p = ::malloc(size))
            return p;
        std::new_handler h = std::get_new_handler();
        if (!h)
            throw std::bad_alloc();
        h();
    }
}

inline void* aligned_new_impl(std::size_t size, std::align_val_t al)
{
    const auto alignment = static_cast<std::size_t>(al);
    if (size == 0)
        size = 1;
    for (;;) {
        void* p = nullptr;
        if (::posix_memalign(&p, alignment < sizeof(void*) ? sizeof(void*) : alignment, size) == 0)
            return p;
        std::new_handler h = std::get_new_handler();
        if (!h)
            throw std::bad_alloc();
        h();
    }
}

inline void* nothrow_new_impl(std::size_t size) noexcept
{
    try {
        return new_impl(size);
    } catch (...) {
        return nullptr;
    }
}

inline void* nothrow_aligned_new_impl(std::size_t size, std::align_val_t al) noexcept
{
    try {
        return aligned_new_impl(size, al);
    } catch (...) {
        return nullptr;
    }
}

}  // namespace boost::duplex::bench::detail

// ---- the C allocation functions -------------------------------------------

extern "C" {

void* malloc(std::size_t size) noexcept
{
    return boost::duplex::bench::detail::counted(__libc_malloc(size), size);
}

void* calloc(std::size_t n, std::size_t size) noexcept
{
    return boost::duplex::bench::detail::counted(__libc_calloc(n, size), n * size);
}

void* realloc(void* p, std::size_t size) noexcept
{
    void* q = __libc_realloc(p, size);
    return size == 0 ? q : boost::duplex::bench::detail::counted(q, size);
}

void free(void* p) noexcept
{
    __libc_free(p);
}

void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept
{
    return boost::duplex::bench::detail::counted(__libc_memalign(alignment, size), size);
}

int posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept
{
    if (!boost::duplex::bench::detail::valid_alignment(alignment))
        return EINVAL;
    void* p = boost::duplex::bench::detail::counted(__libc_memalign(alignment, size), size);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void* memalign(std::size_t alignment, std::size_t size) noexcept
{
    return boost::duplex::bench::detail::counted(__libc_memalign(alignment, size), size);
}

void* valloc(std::size_t size) noexcept
{
    return boost::duplex::bench::detail::counted(__libc_valloc(size), size);
}

void* pvalloc(std::size_t size) noexcept
{
    return boost::duplex::bench::detail::counted(__libc_pvalloc(size), size);
}

}  // extern "C"

// ---- the global operators new and delete ----------------------------------

void* operator new(std::size_t size)
{
    return boost::duplex::bench::detail::new_impl(size);
}

void* operator new[](std::size_t size)
{
    return boost::duplex::bench::detail::new_impl(size);
}

void* operator new(std::size_t size, const std::nothrow_t&) noexcept
{
    return boost::duplex::bench::detail::nothrow_new_impl(size);
}

void* operator new[](std::size_t size, const std::nothrow_t&) noexcept
{
    return boost::duplex::bench::detail::nothrow_new_impl(size);
}

void* operator new(std::size_t size, std::align_val_t al)
{
    return boost::duplex::bench::detail::aligned_new_impl(size, al);
}

void* operator new[](std::size_t size, std::align_val_t al)
{
    return boost::duplex::bench::detail::aligned_new_impl(size, al);
}

void* operator new(std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept
{
    return boost::duplex::bench::detail::nothrow_aligned_new_impl(size, al);
}

void* operator new[](std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept
{
    return boost::duplex::bench::detail::nothrow_aligned_new_impl(size, al);
}

void operator delete(void* p) noexcept { ::free(p); }
void operator delete[](void* p) noexcept { ::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { ::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { ::free(p); }
void operator delete(void* p, std::size_t) noexcept { ::free(p); }
void operator delete[](void* p, std::size_t) noexcept { ::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { ::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { ::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { ::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { ::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { ::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { ::free(p); }

bool boost::duplex::bench::allocation_counting() noexcept
{
    const auto before = allocations().count;
    // volatile: the compiler may not elide the pair (it may for new/delete).
    void* volatile p = ::malloc(1);
    ::free(p);
    return allocations().count != before;
}

#endif  // BOOST_DUPLEX_BENCH_ALLOC_COUNTER_DEFINE

#endif
