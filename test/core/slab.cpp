//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The storage policies (sharded_slab, locked_slab): acquire/release/find,
// stable indices and addresses, chunk growth, reuse without allocation, and
// a channel_core that allocates nothing per request once warm.

#define BOOST_TEST_MODULE core_slab
#include <boost/test/unit_test.hpp>

#include "support.hpp"
#include "../sanitized.hpp"

#include <boost/duplex/storage.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <thread>
#include <type_traits>
#include <vector>

// Every allocation of the process is counted, so that a test can assert that
// a stretch of code allocates nothing.
namespace {
std::atomic<std::size_t> g_allocations{0};
}

// ThreadSanitizer's runtime defines operator new and delete itself, as
// strong symbols, so the replacement cannot be linked under it: there the
// counter is left out, and the cases that count allocations say so and check
// nothing of them (the other builds do).
#if !defined(DUPLEX_TEST_UNDER_TSAN)
// noinline: g++ would otherwise see free() of operator new's pointer and warn (-Wmismatched-new-delete).
[[gnu::noinline]] void* operator new(std::size_t n)
{
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1))
        return p;
    throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
// The array forms too (the slab's chunks are `new Slot[n]`): the standard
// library's default operator new[] calls operator new, but a sanitizer's
// runtime (ASan, TSan) replaces new[] with its own, which does not.
[[gnu::noinline]] void* operator new[](std::size_t n) { return ::operator new(n); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { ::operator delete(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { ::operator delete(p); }
#endif

namespace {

using namespace core_test;

std::size_t allocations() { return g_allocations.load(std::memory_order_relaxed); }

// False, with a message, where allocations are not counted.
bool counting()
{
#if defined(DUPLEX_TEST_UNDER_TSAN)
    BOOST_TEST_MESSAGE("allocation counting is off in this build (ThreadSanitizer owns operator new): "
                       << boost::unit_test::framework::current_test_case().p_name.get()
                       << " does not check allocations");
    return false;
#else
    return true;
#endif
}

struct test_slot : dd::slab_hook {
    std::atomic<int> holder{0};  // who holds the slot now (0: nobody)
    int payload = 0;
};

template <class Storage>
using table_of = typename Storage::template table<test_slot>;

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(acquire_gives_distinct_slots_that_find_returns, Storage, storage_policies)
{
    table_of<Storage> t;
    std::vector<test_slot*> got;
    for (int i = 0; i != 100; ++i)
        got.push_back(t.acquire());

    std::vector<std::uint32_t> idx;
    for (auto* s : got) {
        BOOST_TEST(t.find(s->slab_index) == s);
        idx.push_back(s->slab_index);
    }
    std::sort(idx.begin(), idx.end());
    BOOST_TEST((std::adjacent_find(idx.begin(), idx.end()) == idx.end()));  // all indices distinct

    std::vector<test_slot*> sorted = got;
    std::sort(sorted.begin(), sorted.end());
    BOOST_TEST((std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end()));  // all addresses distinct

    for (auto* s : got)
        t.release(s);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(indices_and_addresses_stay_stable_while_the_table_grows, Storage, storage_policies)
{
    table_of<Storage> t;
    std::vector<test_slot*> first;
    std::vector<std::uint32_t> first_idx;
    for (int i = 0; i != 20; ++i) {
        first.push_back(t.acquire());
        first.back()->payload = 1000 + i;
        first_idx.push_back(first.back()->slab_index);
    }
    // Grow through several chunks (16, 32, 64, 128, ... slots).
    std::vector<test_slot*> more;
    for (int i = 0; i != 2000; ++i)
        more.push_back(t.acquire());

    for (std::size_t i = 0; i != first.size(); ++i) {
        BOOST_TEST(first[i]->slab_index == first_idx[i]);
        BOOST_TEST(t.find(first_idx[i]) == first[i]);
        BOOST_TEST(first[i]->payload == int(1000 + i));
    }
    for (auto* s : more)
        BOOST_TEST_REQUIRE(t.find(s->slab_index) == s);

    // Released slots keep their index and stay findable (find never dangles).
    for (auto* s : first)
        t.release(s);
    for (std::size_t i = 0; i != first.size(); ++i)
        BOOST_TEST(t.find(first_idx[i]) == first[i]);
    for (auto* s : more)
        t.release(s);
}

// sharded_slab: within one thread every slot comes from the same shard, whose
// chunks grow geometrically (16, 32, 64 slots). locked_slab: chunks of 64
// slots. Either allocates only when every slot it has is in use.
BOOST_AUTO_TEST_CASE_TEMPLATE(chunks_grow_only_when_full, Storage, storage_policies)
{
    table_of<Storage> t;
    std::vector<test_slot*> got;
    std::vector<std::size_t> new_chunk_at;  // acquisition numbers that allocated
    got.reserve(200);
    new_chunk_at.reserve(200);
    for (std::size_t i = 0; i != 16 + 32 + 64 + 1; ++i) {
        const std::size_t before = allocations();
        got.push_back(t.acquire());
        if (allocations() != before)
            new_chunk_at.push_back(i);
    }
    const std::vector<std::size_t> expected = std::is_same_v<Storage, dx::locked_slab>
                                                  ? std::vector<std::size_t>{0, 64}
                                                  : std::vector<std::size_t>{0, 16, 48, 112};
    if (counting())
        BOOST_TEST(new_chunk_at == expected, boost::test_tools::per_element());
    for (auto* s : got)
        t.release(s);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(reuse_after_release_allocates_nothing_in_steady_state, Storage, storage_policies)
{
    table_of<Storage> t;
    constexpr std::size_t batch = 8;
    std::vector<test_slot*> warm;
    for (std::size_t i = 0; i != batch; ++i)
        warm.push_back(t.acquire());
    for (auto* s : warm)
        t.release(s);
    std::sort(warm.begin(), warm.end());

    test_slot* held[batch] = {};
    std::size_t outside_warm_set = 0;
    const std::size_t before = allocations();
    for (int round = 0; round != 10000; ++round) {
        const std::size_t n = 1 + std::size_t(round) % batch;
        for (std::size_t i = 0; i != n; ++i) {
            held[i] = t.acquire();
            if (!std::binary_search(warm.begin(), warm.end(), held[i]))
                ++outside_warm_set;
        }
        for (std::size_t i = 0; i != n; ++i)
            t.release(held[n - 1 - i]);
    }
    const std::size_t after = allocations();
    if (counting())
        BOOST_TEST(after - before == 0u);
    BOOST_TEST(outside_warm_set == 0u);  // always the same small set of slots
}

BOOST_AUTO_TEST_CASE_TEMPLATE(released_slot_is_handed_out_again, Storage, storage_policies)
{
    table_of<Storage> t;
    test_slot* a = t.acquire();
    test_slot* b = t.acquire();
    const auto ia = a->slab_index;
    t.release(a);
    test_slot* c = t.acquire();
    BOOST_TEST(c == a);  // the only free slot of this thread's shard
    BOOST_TEST(c->slab_index == ia);
    t.release(b);
    t.release(c);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(find_of_an_index_beyond_every_chunk_is_null, Storage, storage_policies)
{
    table_of<Storage> t;
    BOOST_TEST(t.find(0) == nullptr);  // nothing handed out yet
    BOOST_TEST(t.find(12345) == nullptr);
    test_slot* a = t.acquire();
    BOOST_TEST(t.find(UINT32_MAX) == nullptr);
    BOOST_TEST(t.find(UINT32_MAX - 1) == nullptr);
    BOOST_TEST(t.find(1u << 30) == nullptr);
    t.release(a);
}

// storage.hpp: "find(index) ... null for an unknown index"; slab.hpp: "The
// slot with this index, or null for an index never handed out."
BOOST_AUTO_TEST_CASE_TEMPLATE(find_of_a_never_handed_out_index_is_null, Storage, storage_policies)
{
    table_of<Storage> t;
    test_slot* a = t.acquire();
    // The next index of the same shard, in the chunk that was just allocated
    // but never handed out.
    const std::uint32_t next_in_shard = a->slab_index + t.shard_count();
    BOOST_TEST(t.find(next_in_shard) == nullptr);
    t.release(a);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(two_threads_never_hold_the_same_slot, Storage, storage_policies)
{
    table_of<Storage> t;
    std::atomic<int> double_holds{0};
    std::atomic<int> bad_find{0};
    std::mutex pool_mutex;
    std::vector<test_slot*> pool;  // slots handed from one thread to the other (released by the other)
    pool.reserve(64);

    auto worker = [&](int id) {
        test_slot* mine[4] = {};
        for (int round = 0; round != 20000; ++round) {
            const int n = 1 + round % 4;
            for (int i = 0; i != n; ++i) {
                test_slot* s = t.acquire();
                int expected = 0;
                if (!s->holder.compare_exchange_strong(expected, id))
                    double_holds.fetch_add(1);
                if (t.find(s->slab_index) != s)
                    bad_find.fetch_add(1);
                mine[i] = s;
            }
            // Give one slot away every few rounds; release one given by the other thread.
            test_slot* foreign = nullptr;
            {
                std::lock_guard lock(pool_mutex);
                if (round % 3 == 0 && pool.size() < 32) {
                    mine[n - 1]->holder.store(-1);
                    pool.push_back(mine[n - 1]);
                    mine[n - 1] = nullptr;
                }
                if (!pool.empty() && round % 2 == 1) {
                    foreign = pool.back();
                    pool.pop_back();
                }
            }
            if (foreign) {
                foreign->holder.store(0);
                t.release(foreign);
            }
            for (int i = 0; i != n; ++i)
                if (mine[i]) {
                    mine[i]->holder.store(0);
                    t.release(mine[i]);
                    mine[i] = nullptr;
                }
        }
    };
    std::thread a(worker, 1), b(worker, 2);
    a.join();
    b.join();
    for (auto* s : pool)
        t.release(s);
    BOOST_TEST(double_holds.load() == 0);
    BOOST_TEST(bad_find.load() == 0);
}

// The whole core in steady state: prepare/submit/take/finish, and the other
// ways out (expire, cancel), allocate nothing once warm.
BOOST_AUTO_TEST_CASE_TEMPLATE(core_allocates_nothing_per_request_once_warm, Storage, storage_policies)
{
    rec w[8];
    dd::channel_core<int, int, Storage> core(opts(4));
    core.attach_client();
    time_point now = t0;

    auto cycle = [&] {
        // Four delivered, two expired while queued, one cancelled, one waiting for room then cancelled.
        auto* sa = core.prepare();
        core.submit(sa, 1, now + 10s, w[0], now);
        submit(core, 2, now + 10s, w[1], now);
        submit(core, 3, now + 1s, w[2], now);
        submit(core, 4, now + 1s, w[3], now);
        const dd::slot_key k4 = submit_k(core, 5, now + 10s, w[4], now);  // waits for room
        (void)core.cancel(k4, false);
        now += 1s;
        (void)core.expire(now);  // 3 and 4 time out
        auto tr = core.take(8, now);
        for (auto* s = tr.first; s;) {
            auto* next = s->chain;
            (void)finish_value(core, s, 7);
            s = next;
        }
        const dd::slot_key k5 = submit_k(core, 6, now + 10s, w[5], now);
        (void)core.cancel(k5, true);
        submit(core, 7, now + 10s, w[6], now);
        submit(core, 8, dd::deadline_after(now, duration::max()), w[7], now);
        tr = core.take(8, now);
        for (auto* s = tr.first; s;) {
            auto* next = s->chain;
            (void)finish_value(core, s, 9);
            s = next;
        }
        (void)core.next_deadline();
        (void)core.stats();
    };
    for (int i = 0; i != 50; ++i)
        cycle();
    const std::size_t before = allocations();
    for (int i = 0; i != 10000; ++i)
        cycle();
    const std::size_t after = allocations();
    if (counting())
        BOOST_TEST(after - before == 0u);
    const auto st = core.stats();
    BOOST_TEST(st.completed == 4u * 10050u);
    BOOST_TEST(st.timed_out == 2u * 10050u);
    BOOST_TEST(st.cancelled == 2u * 10050u);
    BOOST_TEST(st.queued == 0u);
    BOOST_TEST(st.in_flight == 0u);
    core.close();
}
