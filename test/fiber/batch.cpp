//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Batches of the Fiber backend: fail-fast (the first error wins, the rest are
// cancelled, running ones too), settled (every request settles, in order),
// concurrency 0, empty ranges, a whole-batch timeout, the concurrency bound,
// and the ranges accepted: rvalue vectors of move-only requests, lvalue
// vectors (copied from, left intact), lists, ranges and standard views that
// are not sized, input ranges, and elements that only convert to the request
// type.

#define BOOST_TEST_MODULE fiber_batch
#include <boost/test/unit_test.hpp>

#include "common.hpp"
#include "../lazy_range.hpp"

#include <boost/system/errc.hpp>

#include <iterator>
#include <list>
#include <memory>
#include <ranges>
#include <sstream>
#include <string>

using namespace fiber_test;

namespace {

boost::system::error_code err(boost::system::errc::errc_t e)
{
    return boost::system::errc::make_error_code(e);
}

// Negative requests fail with an error naming them; others answer v * 2.
dx::result<int> doubling(int v)
{
    if (v == -3)
        return err(boost::system::errc::io_error);
    if (v == -5)
        return err(boost::system::errc::bad_address);
    return v * 2;
}

std::vector<int> iota_vec(int n, int from = 0)
{
    std::vector<int> v;
    for (int i = 0; i != n; ++i)
        v.push_back(from + i);
    return v;
}

}  // namespace

// Fail-fast with concurrency 1: the first failure in order wins; the requests
// after it are never made.
BOOST_AUTO_TEST_CASE(fail_fast_first_error_wins_and_the_rest_are_not_made)
{
    watchdog wd;
    std::vector<int> seen;
    channel<int, int> ch;
    runner run(
        *ch.responder,
        [&](int v) {
            seen.push_back(v);
            return doubling(v);
        },
        dx::fixed_concurrency{4});
    auto r = ch.client->request_batch(std::vector<int>{1, 2, -3, 4, -5, 6}, 1);
    BOOST_TEST(code_of(r) == err(boost::system::errc::io_error));
    BOOST_TEST((seen == std::vector<int>{1, 2, -3}));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Fail-fast while other requests of the batch are running (held): the batch
// ends at the failure, without waiting for them (they are cancelled
// terminally; their late results are dropped).
BOOST_AUTO_TEST_CASE(fail_fast_does_not_wait_for_running_requests)
{
    watchdog wd;
    gate g;
    counter held, ended;
    channel<int, int> ch;
    auto& responder = *ch.responder;
    runner run(
        responder,
        [&](int v) -> dx::result<int> {
            if (v != -3) {
                held.add();
                g.wait();
                ended.add();
            }
            return doubling(v);
        },
        dx::fixed_concurrency{4});
    std::optional<dx::result<std::vector<int>>> r;
    scoped_fiber b([&] { r.emplace(ch.client->request_batch(std::vector<int>{1, 2, -3, 4, 5}, 3)); });
    // 1 and 2 are held, -3 fails: the batch ends with 1 and 2 still running.
    BOOST_TEST_REQUIRE(poll_until([&] { return r.has_value(); }));
    BOOST_TEST(code_of(*r) == err(boost::system::errc::io_error));
    BOOST_TEST(ended.get() == 0u);
    BOOST_TEST(held.get() == 2u);
    g.open();
    BOOST_TEST_REQUIRE(ended.wait_at_least(2));
    BOOST_TEST_REQUIRE(poll_until([&] { return responder.stats().in_flight == 0; }));
    const auto s = responder.stats();
    BOOST_TEST(s.cancelled == 2u);
    BOOST_TEST(s.failed == 1u);
    BOOST_TEST(s.completed == 0u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Settled: every request settles, in input order, values and errors alike.
BOOST_AUTO_TEST_CASE(settled_batch_settles_every_request_in_order)
{
    watchdog wd;
    channel<int, int> ch;
    runner run(
        *ch.responder,
        [](int v) {
            if (v % 2)
                this_fiber::yield();
            return doubling(v);
        },
        dx::fixed_concurrency{4});
    auto out = ch.client->request_batch_settled(std::vector<int>{1, -3, 2, -5, 3}, 2);
    BOOST_TEST_REQUIRE(out.size() == 5u);
    BOOST_TEST((out[0].has_value() && out[0].value() == 2));
    BOOST_TEST(code_of(out[1]) == err(boost::system::errc::io_error));
    BOOST_TEST((out[2].has_value() && out[2].value() == 4));
    BOOST_TEST(code_of(out[3]) == err(boost::system::errc::bad_address));
    BOOST_TEST((out[4].has_value() && out[4].value() == 6));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Concurrency 0: fail-fast gives invalid_argument, settled gives
// invalid_argument for every element; nothing reaches the handler.
BOOST_AUTO_TEST_CASE(concurrency_zero_is_invalid)
{
    watchdog wd;
    std::vector<int> seen;
    channel<int, int> ch;
    runner run(
        *ch.responder,
        [&](int v) {
            seen.push_back(v);
            return v;
        },
        dx::fixed_concurrency{4});
    auto r = ch.client->request_batch(std::vector<int>{1, 2, 3}, 0);
    BOOST_TEST(code_of(r) == code(dx::error::invalid_argument));
    auto rt = ch.client->request_batch(std::vector<int>{1, 2, 3}, 0, 1s);
    BOOST_TEST(code_of(rt) == code(dx::error::invalid_argument));
    auto s = ch.client->request_batch_settled(std::vector<int>{1, 2, 3}, 0);
    BOOST_TEST_REQUIRE(s.size() == 3u);
    for (auto& e : s)
        BOOST_TEST(code_of(e) == code(dx::error::invalid_argument));
    BOOST_TEST(seen.empty());
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// An empty range gives an empty vector (fail-fast) or no results (settled).
BOOST_AUTO_TEST_CASE(empty_batch)
{
    watchdog wd;
    channel<int, int> ch;
    runner run(*ch.responder, [](int v) { return v; }, dx::fixed_concurrency{4});
    auto r = ch.client->request_batch(std::vector<int>{}, 4);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r.value().empty());
    auto rt = ch.client->request_batch(std::vector<int>{}, 4, 10ms);
    BOOST_TEST((rt.has_value() && rt.value().empty()));
    auto s = ch.client->request_batch_settled(std::list<int>{}, 4);
    BOOST_TEST(s.empty());
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// A whole-batch timeout bounds the whole batch (not each request): five
// requests of 100 ms one after another against 250 ms time out, no earlier
// than 250 ms; requests not yet made by then are never made.
BOOST_AUTO_TEST_CASE(whole_batch_timeout)
{
    watchdog wd;
    std::vector<int> seen;
    channel<int, int> ch;
    runner run(
        *ch.responder,
        [&](int v) {
            seen.push_back(v);
            this_fiber::sleep_for(100ms);
            return v;
        },
        dx::fixed_concurrency{4});
    const auto t0 = clock_type::now();
    auto r = ch.client->request_batch(iota_vec(5), 1, 250ms);
    const auto took = clock_type::now() - t0;
    BOOST_TEST(code_of(r) == code(dx::error::timeout));
    BOOST_TEST(took >= 250ms);
    BOOST_TEST(took < 5s);
    BOOST_TEST(seen.size() <= 3u);

    // The same batch with room enough succeeds.
    auto ok = ch.client->request_batch(iota_vec(3), 3, 5s);
    BOOST_TEST((ok.has_value() && ok.value() == iota_vec(3)));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// At most `concurrency` of a batch's requests are outstanding at once, even
// with a responder limit far above it.
BOOST_AUTO_TEST_CASE(batch_concurrency_bounds_outstanding_requests)
{
    watchdog wd;
    counter running;
    channel<int, int> ch;
    runner run(
        *ch.responder,
        [&](int v) {
            running.add();
            this_fiber::sleep_for(2ms);
            running.sub();
            return v;
        },
        dx::fixed_concurrency{16});
    auto r = ch.client->request_batch(iota_vec(30), 3);
    BOOST_TEST((r.has_value() && r.value() == iota_vec(30)));
    BOOST_TEST(running.max() == 3u);
    auto s = ch.client->request_batch_settled(iota_vec(30), 5);
    BOOST_TEST(s.size() == 30u);
    BOOST_TEST(running.max() == 5u);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Move-only requests through an rvalue vector (moved from); also settled.
BOOST_AUTO_TEST_CASE(move_only_requests_from_an_rvalue_vector)
{
    watchdog wd;
    channel<std::unique_ptr<int>, int> ch;
    runner run(*ch.responder, [](std::unique_ptr<int> p) { return *p * 3; }, dx::fixed_concurrency{4});
    auto make = [] {
        std::vector<std::unique_ptr<int>> v;
        for (int i = 0; i != 6; ++i)
            v.push_back(std::make_unique<int>(i));
        return v;
    };
    auto r = ch.client->request_batch(make(), 2);
    BOOST_TEST((r.has_value() && r.value() == std::vector<int>({0, 3, 6, 9, 12, 15})));
    auto v = make();
    auto s = ch.client->request_batch_settled(std::move(v), 4);
    BOOST_TEST_REQUIRE(s.size() == 6u);
    for (int i = 0; i != 6; ++i)
        BOOST_TEST((s[std::size_t(i)].has_value() && s[std::size_t(i)].value() == 3 * i));
    auto t = ch.client->request_batch(make(), 3, 5s);
    BOOST_TEST(t.has_value());
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// An lvalue vector is read (copied from), not moved from: it is intact after.
BOOST_AUTO_TEST_CASE(lvalue_vector_is_copied_from_and_left_intact)
{
    watchdog wd;
    channel<std::string, std::size_t> ch;
    runner run(*ch.responder, [](std::string s) { return s.size(); }, dx::fixed_concurrency{4});
    const std::vector<std::string> original{"a", "bb", "ccc", "dddd"};
    std::vector<std::string> reqs = original;
    auto r = ch.client->request_batch(reqs, 2);
    BOOST_TEST((r.has_value() && r.value() == std::vector<std::size_t>({1, 2, 3, 4})));
    BOOST_TEST(reqs == original);
    auto s = ch.client->request_batch_settled(reqs, 2);
    BOOST_TEST(s.size() == 4u);
    BOOST_TEST(reqs == original);
    const auto& cref = reqs;
    auto c = ch.client->request_batch(cref, 4, 5s);
    BOOST_TEST(c.has_value());
    BOOST_TEST(reqs == original);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// std::list, as an lvalue and as an rvalue.
BOOST_AUTO_TEST_CASE(list_ranges)
{
    watchdog wd;
    channel<int, int> ch;
    runner run(*ch.responder, doubling, dx::fixed_concurrency{4});
    std::list<int> l{1, 2, 3};
    auto a = ch.client->request_batch(l, 2);
    BOOST_TEST((a.has_value() && a.value() == std::vector<int>({2, 4, 6})));
    BOOST_TEST(l.size() == 3u);
    auto b = ch.client->request_batch(std::list<int>{4, 5}, 2);
    BOOST_TEST((b.has_value() && b.value() == std::vector<int>({8, 10})));
    auto c = ch.client->request_batch_settled(std::list<int>{6}, 1);
    BOOST_TEST((c.size() == 1u && c[0].has_value() && c[0].value() == 12));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

namespace {

// A forward range without size(): the odd elements of a vector.
class odd_elements {
public:
    class iterator {
    public:
        using value_type = int;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        iterator(const std::vector<int>* v, std::size_t i) : v_(v), i_(i) { skip(); }
        const int& operator*() const { return (*v_)[i_]; }
        iterator& operator++()
        {
            ++i_;
            skip();
            return *this;
        }
        iterator operator++(int)
        {
            auto old = *this;
            ++*this;
            return old;
        }
        bool operator==(const iterator& o) const { return i_ == o.i_; }

    private:
        void skip()
        {
            while (i_ < v_->size() && (*v_)[i_] % 2 == 0)
                ++i_;
        }
        const std::vector<int>* v_ = nullptr;
        std::size_t i_ = 0;
    };

    explicit odd_elements(const std::vector<int>& v) : v_(&v) {}
    iterator begin() const { return iterator(v_, 0); }
    iterator end() const { return iterator(v_, v_->size()); }

private:
    const std::vector<int>* v_;
};

// A single-pass input range: the numbers first, first + 1, ..., last - 1,
// each readable once.
class countdown_input {
public:
    class iterator {
    public:
        using iterator_concept = std::input_iterator_tag;
        using value_type = int;
        using difference_type = std::ptrdiff_t;
        explicit iterator(countdown_input* r) : r_(r) {}
        iterator(iterator&&) = default;
        iterator& operator=(iterator&&) = default;
        int operator*() const { return r_->next_; }
        iterator& operator++()
        {
            ++r_->next_;
            return *this;
        }
        void operator++(int) { ++*this; }
        bool operator==(std::default_sentinel_t) const { return r_->next_ == r_->last_; }

    private:
        countdown_input* r_;
    };

    countdown_input(int first, int last) : next_(first), last_(last) {}
    iterator begin() { return iterator(this); }
    std::default_sentinel_t end() { return {}; }

private:
    int next_, last_;
};

static_assert(std::ranges::forward_range<odd_elements> && !std::ranges::sized_range<odd_elements>);
static_assert(std::ranges::input_range<countdown_input> && !std::ranges::forward_range<countdown_input>);

}  // namespace

// Ranges that are not sized: a forward range without size() (as an lvalue and
// an rvalue), and a single-pass input range.
BOOST_AUTO_TEST_CASE(ranges_that_are_not_sized_and_input_ranges)
{
    watchdog wd;
    channel<int, int> ch;
    runner run(*ch.responder, doubling, dx::fixed_concurrency{4});
    const std::vector<int> v = iota_vec(10);
    odd_elements odd(v);
    auto a = ch.client->request_batch(odd, 2);
    BOOST_TEST((a.has_value() && a.value() == std::vector<int>({2, 6, 10, 14, 18})));
    auto b = ch.client->request_batch(odd_elements(v), 5, 5s);
    BOOST_TEST((b.has_value() && b.value() == std::vector<int>({2, 6, 10, 14, 18})));
    auto c = ch.client->request_batch_settled(odd, 3);
    BOOST_TEST(c.size() == 5u);

    countdown_input in(7, 10);
    auto d = ch.client->request_batch(in, 2);
    BOOST_TEST((d.has_value() && d.value() == std::vector<int>({14, 16, 18})));
    auto e = ch.client->request_batch_settled(countdown_input(1, 3), 2);
    BOOST_TEST_REQUIRE(e.size() == 2u);
    BOOST_TEST((e[0].has_value() && e[0].value() == 2 && e[1].has_value() && e[1].value() == 4));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// clang before 15 cannot compile libstdc++'s <ranges> views at all.
#if !(defined(__clang__) && __clang_major__ < 15 && defined(__GLIBCXX__))

// Standard views that are not sized: a filter view (forward), as an lvalue
// and an rvalue, and a single-pass input range (istream_view); and a
// transform view whose elements only convert to the request type.
BOOST_AUTO_TEST_CASE(standard_views_that_are_not_sized_and_input_ranges)
{
    watchdog wd;
    channel<int, int> ch;
    runner run(*ch.responder, doubling, dx::fixed_concurrency{4});
    const std::vector<int> v = iota_vec(10);
    auto odd = v | std::views::filter([](int x) { return x % 2 == 1; });
    static_assert(!std::ranges::sized_range<decltype(odd)>);
    auto a = ch.client->request_batch(odd, 2);
    BOOST_TEST((a.has_value() && a.value() == std::vector<int>({2, 6, 10, 14, 18})));
    auto b = ch.client->request_batch(v | std::views::filter([](int x) { return x < 3; }), 3);
    BOOST_TEST((b.has_value() && b.value() == std::vector<int>({0, 2, 4})));
    auto c = ch.client->request_batch_settled(odd, 5);
    BOOST_TEST(c.size() == 5u);

    std::istringstream in("7 8 9");
    auto numbers = std::ranges::istream_view<int>(in);
    static_assert(!std::ranges::forward_range<decltype(numbers)>);
    auto d = ch.client->request_batch(numbers, 2);
    BOOST_TEST((d.has_value() && d.value() == std::vector<int>({14, 16, 18})));

    auto shorts = v | std::views::take(3) | std::views::transform([](int x) { return short(x + 1); });
    auto e = ch.client->request_batch(shorts, 3);
    BOOST_TEST((e.has_value() && e.value() == std::vector<int>({2, 4, 6})));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

#endif

// Elements that only convert to the request type (const char* to std::string).
BOOST_AUTO_TEST_CASE(elements_convertible_to_the_request)
{
    watchdog wd;
    channel<std::string, std::string> ch;
    runner run(*ch.responder, [](std::string s) { return s + "!"; }, dx::fixed_concurrency{4});
    std::vector<const char*> words{"hi", "there"};
    auto r = ch.client->request_batch(words, 2);
    BOOST_TEST((r.has_value() && r.value() == std::vector<std::string>({"hi!", "there!"})));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// Several fibers run batches at once on the same channel; each gets its own
// responses in its own order.
BOOST_AUTO_TEST_CASE(concurrent_batches_from_several_fibers)
{
    watchdog wd;
    channel<int, int> ch(dx::channel_options{8, 30s, dx::overflow::wait});
    runner run(
        *ch.responder,
        [](int v) {
            if (v % 3 == 0)
                this_fiber::yield();
            return v * 2;
        },
        dx::fixed_concurrency{4});
    int ok = 0;
    {
        std::vector<scoped_fiber> fs;
        for (int f = 0; f != 6; ++f)
            fs.emplace_back([&, f] {
                for (int round = 0; round != 5; ++round) {
                    auto reqs = iota_vec(20, f * 1000 + round * 100);
                    auto r = ch.client->request_batch(reqs, std::size_t(1 + f));
                    std::vector<int> expected;
                    for (int x : reqs)
                        expected.push_back(x * 2);
                    ok += r.has_value() && r.value() == expected;
                }
            });
    }
    BOOST_TEST(ok == 30);
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// An input range whose iteration throws agrees with an element that cannot
// be converted: the requests read before it are sent, the one that could not
// be read fails with invalid_argument (fail-fast: the batch does), nothing
// escapes to the caller.
BOOST_AUTO_TEST_CASE(an_input_range_whose_iteration_throws_gives_invalid_argument)
{
    watchdog wd;
    channel<int, int> ch;
    runner run(*ch.responder, [](int v) { return v + 100; });
    const duplex_test_support::breaking_input_range broken{10, 2};  // yields 0 and 1, then breaks
    auto whole = ch.client->request_batch(broken, 4);
    BOOST_TEST(code_of(whole) == code(dx::error::invalid_argument));
    auto each = ch.client->request_batch_settled(broken, 4);
    BOOST_TEST_REQUIRE(each.size() == 3u);
    BOOST_TEST(each[0].value() == 100);
    BOOST_TEST(each[1].value() == 101);
    BOOST_TEST(code_of(each[2]) == code(dx::error::invalid_argument));
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}
