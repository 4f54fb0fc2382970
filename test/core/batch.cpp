//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The batch engine shared by the backends (guarantee 8 and the batch rules of
// the API): results in input order, at most `concurrency` outstanding,
// fail-fast (first error wins, the rest is cancelled and never handed out) or
// settled, concurrency 0, empty ranges, one deadline for a timed batch, and
// how ranges are read (rvalue: moved from; lvalue: referred to and copied;
// single-pass: read once).
//
// The responder side is driven by hand with take()/finish(). The engine reads
// the real steady clock when it submits, so these tests use deadlines an hour
// away from the real clock and pass real time to take().

#define BOOST_TEST_MODULE core_batch
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <boost/duplex/detail/core/batch.hpp>
#include <boost/duplex/detail/core/request_source.hpp>

#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <sstream>
#include <string>

using namespace core_test;

namespace {

// The smallest Derived: records what the engine asks of the backend.
template <class Core, class Range, bool Settled>
class test_batch final
    : public dd::batch_engine<Core, dd::request_source<typename Core::request_type, Range&&>, Settled,
                              test_batch<Core, Range, Settled>> {
    using engine = dd::batch_engine<Core, dd::request_source<typename Core::request_type, Range&&>, Settled,
                                    test_batch<Core, Range, Settled>>;
    friend engine;

public:
    template <class R>
    test_batch(Core& core, R&& r, std::size_t concurrency, std::optional<duration> timeout, time_point now)
        : engine(core, std::forward<R>(r), concurrency, timeout, now)
    {
    }

    int done = 0;              // on_done() calls
    int calls_after_done = 0;  // apply()/forward() calls made after on_done()
    std::vector<dd::effects> applied;
    std::vector<std::uint32_t> forwarded_tags;  // run tags of cancellations to pass on to running handlers

private:
    void apply(dd::effects fx)
    {
        if (done)
            ++calls_after_done;
        applied.push_back(fx);
    }
    void forward(typename Core::cancel_outcome out)
    {
        if (done)
            ++calls_after_done;
        if (out.forward)
            forwarded_tags.push_back(out.run_tag);
    }
    void on_done() noexcept { ++done; }
};

template <bool Settled, class Core, class R>
auto make_batch(Core& core, R&& r, std::size_t concurrency, std::optional<duration> timeout = std::nullopt,
                time_point now = dd::clock_type::now())
{
    return std::make_unique<test_batch<Core, R, Settled>>(core, std::forward<R>(r), concurrency, timeout, now);
}

using core_t = dd::channel_core<int, int, dx::sharded_slab>;

dx::channel_options batch_opts(std::size_t capacity = 64, dx::overflow of = dx::overflow::wait)
{
    return opts(capacity, of, std::chrono::hours(1));
}

template <class Core>
std::vector<typename Core::request_type> take_requests(const taken<Core>& t)
{
    std::vector<typename Core::request_type> v;
    for (auto* s : t.slots)
        v.push_back(Core::take_request(s));
    return v;
}

const error_code E1 = error_code(ENOENT, boost::system::generic_category());
const error_code E2 = error_code(EIO, boost::system::generic_category());

}  // namespace

BOOST_AUTO_TEST_CASE(fail_fast_results_come_in_input_order_when_finished_out_of_order)
{
    core_t core(batch_opts());
    core.attach_client();
    const time_point now = dd::clock_type::now();
    std::vector<int> in{10, 11, 12, 13, 14};
    auto b = make_batch<false>(core, in, 5);
    b->start();
    BOOST_TEST(b->done == 0);
    CORE_CHECK_STATS(core, 5, 0, 0, 0, 0, 0);
    BOOST_TEST(b->applied.size() == 5u);  // every submit's effects went to the backend

    auto t = take(core, 8, now);
    const auto reqs = take_requests(t);
    BOOST_TEST(reqs == in, boost::test_tools::per_element());
    for (std::size_t i : {4u, 2u, 0u, 3u}) {
        (void)core.finish(t[i], dx::result<int>(reqs[i] * 2));
        BOOST_TEST(b->done == 0);
    }
    (void)core.finish(t[1], dx::result<int>(reqs[1] * 2));
    BOOST_TEST(b->done == 1);
    auto v = b->take_value();
    BOOST_TEST_REQUIRE(v.has_value());
    const std::vector<int> expected{20, 22, 24, 26, 28};
    BOOST_TEST(v.value() == expected, boost::test_tools::per_element());
    CORE_CHECK_STATS(core, 0, 0, 5, 0, 0, 0);
    core.close();
}

BOOST_AUTO_TEST_CASE(settled_results_come_in_input_order_when_finished_out_of_order)
{
    core_t core(batch_opts());
    core.attach_client();
    const time_point now = dd::clock_type::now();
    std::vector<int> in{0, 1, 2, 3};
    auto b = make_batch<true>(core, in, 4);
    b->start();
    auto t = take(core, 8, now);
    BOOST_TEST_REQUIRE(t.size() == 4u);
    (void)take_requests(t);
    (void)core.finish(t[3], dx::result<int>(E2));
    (void)core.finish(t[0], dx::result<int>(100));
    (void)core.finish(t[2], dx::result<int>(102));
    BOOST_TEST(b->done == 0);  // settled: an error does not end the batch
    (void)core.finish(t[1], dx::result<int>(E1));
    BOOST_TEST(b->done == 1);
    auto v = b->take_value();
    BOOST_TEST_REQUIRE(v.size() == 4u);
    BOOST_TEST(v[0].value() == 100);
    BOOST_TEST(v[1].error() == E1);
    BOOST_TEST(v[2].value() == 102);
    BOOST_TEST(v[3].error() == E2);
    BOOST_TEST(b->forwarded_tags.empty());  // nothing was cancelled
    CORE_CHECK_STATS(core, 0, 0, 2, 2, 0, 0);
    core.close();
}

BOOST_AUTO_TEST_CASE(at_most_concurrency_requests_are_outstanding)
{
    core_t core(batch_opts());
    core.attach_client();
    const time_point now = dd::clock_type::now();
    std::vector<int> in;
    for (int i = 0; i != 10; ++i)
        in.push_back(i);
    auto b = make_batch<false>(core, in, 3);
    b->start();
    CORE_CHECK_STATS(core, 3, 0, 0, 0, 0, 0);

    std::vector<int> handled;
    std::size_t max_outstanding = 0;
    std::vector<core_t::slot_type*> running;
    for (int round = 0; round != 100 && b->done == 0; ++round) {
        auto t = take(core, 10, now);  // the responder would take more: the batch holds back
        for (auto* s : t.slots) {
            handled.push_back(core_t::take_request(s));
            running.push_back(s);
        }
        const auto st = core.stats();
        max_outstanding = std::max(max_outstanding, st.queued + st.in_flight + core.waiting_for_room());
        // Finish the oldest running one.
        BOOST_TEST_REQUIRE(!running.empty());
        auto* s = running.front();
        running.erase(running.begin());
        (void)core.finish(s, dx::result<int>(0));
        const auto st2 = core.stats();
        max_outstanding = std::max(max_outstanding, st2.queued + st2.in_flight + core.waiting_for_room());
    }
    BOOST_TEST(b->done == 1);
    BOOST_TEST(max_outstanding == 3u);
    BOOST_TEST(handled == in, boost::test_tools::per_element());
    BOOST_TEST(b->take_value().has_value());
    core.close();
}

BOOST_AUTO_TEST_CASE(concurrency_one_serialises_the_batch)
{
    core_t core(batch_opts());
    core.attach_client();
    const time_point now = dd::clock_type::now();
    std::vector<int> in{5, 6, 7};
    auto b = make_batch<false>(core, in, 1);
    b->start();
    for (int expected : in) {
        CORE_CHECK_STATS(core, 1, 0, std::size_t(expected - 5), 0, 0, 0);
        auto t = take(core, 8, now);
        BOOST_TEST_REQUIRE(t.size() == 1u);
        BOOST_TEST(core_t::take_request(t[0]) == expected);
        (void)core.finish(t[0], dx::result<int>(expected));
    }
    BOOST_TEST(b->done == 1);
    BOOST_TEST(b->take_value().value() == in, boost::test_tools::per_element());
    core.close();
}

BOOST_AUTO_TEST_CASE(fail_fast_first_error_wins_and_the_others_are_cancelled_and_never_taken)
{
    core_t core(batch_opts());
    core.attach_client();
    const time_point now = dd::clock_type::now();
    std::vector<int> in{0, 1, 2, 3};
    auto b = make_batch<false>(core, in, 4);
    b->start();
    auto t = take(core, 2, now);  // 0 and 1 run; 2 and 3 queued
    BOOST_TEST_REQUIRE(t.size() == 2u);
    (void)take_requests(t);
    const std::uint32_t tag0 = t[0]->run_tag;

    (void)core.finish(t[1], dx::result<int>(E1));
    BOOST_TEST(b->done == 1);  // the running one was cancelled terminally: nothing is outstanding
    // The running request's cancellation was handed to the backend to forward.
    BOOST_TEST(b->forwarded_tags == std::vector<std::uint32_t>{tag0}, boost::test_tools::per_element());
    CORE_CHECK_STATS(core, 0, 1, 0, 1, 0, 3);
    BOOST_TEST(take(core, 8, now).size() == 0u);  // 2 and 3 never reach the handler

    auto v = b->take_value();
    BOOST_TEST_REQUIRE(v.has_error());
    BOOST_TEST(v.error() == E1);

    // The cancelled run's late result is dropped.
    BOOST_TEST((core.finish(t[0], dx::result<int>(0)) == dd::run_outcome::cancelled));
    BOOST_TEST(b->done == 1);
    CORE_CHECK_STATS(core, 0, 0, 0, 1, 0, 3);
    core.close();
}

// on_done() is the last thing the engine does to its Derived: the Asio
// backend's batch_op releases its last reference to itself in on_done(), so
// anything after it (apply, forward, touching the engine's members) would
// run on a destroyed object.
BOOST_AUTO_TEST_CASE(fail_fast_calls_nothing_on_the_derived_after_on_done)
{
    core_t core(batch_opts());
    core.attach_client();
    const time_point now = dd::clock_type::now();
    std::vector<int> in{0, 1, 2, 3};
    auto b = make_batch<false>(core, in, 4);
    b->start();
    auto t = take(core, 1, now);  // 0 runs; 1, 2, 3 queued
    BOOST_TEST_REQUIRE(t.size() == 1u);
    (void)take_requests(t);
    (void)core.finish(t[0], dx::result<int>(E1));
    BOOST_TEST(b->done == 1);
    BOOST_TEST(b->calls_after_done == 0);
    BOOST_TEST(b->take_value().error() == E1);
    core.close();
}

// The same rule on the cancel() path (the Asio backend's canceller holds a
// strong reference while it calls cancel(), so there it is latent).
BOOST_AUTO_TEST_CASE(cancel_calls_nothing_on_the_derived_after_on_done)
{
    core_t core(batch_opts());
    core.attach_client();
    std::vector<int> in{0, 1, 2};
    auto b = make_batch<false>(core, in, 3);
    b->start();
    b->cancel(true);
    BOOST_TEST(b->done == 1);
    BOOST_TEST(b->calls_after_done == 0);
    BOOST_TEST(b->take_value().error() == dx::make_error_code(dx::error::cancelled));
    core.close();
}

BOOST_AUTO_TEST_CASE(fail_fast_never_submits_the_rest_after_an_error)
{
    core_t core(batch_opts());
    core.attach_client();
    const time_point now = dd::clock_type::now();
    std::vector<int> in{0, 1, 2};
    auto b = make_batch<false>(core, in, 1);
    b->start();
    auto t = take(core, 4, now);
    BOOST_TEST_REQUIRE(t.size() == 1u);
    (void)take_requests(t);
    (void)core.finish(t[0], dx::result<int>(E2));
    BOOST_TEST(b->done == 1);
    BOOST_TEST(b->calls_after_done == 0);
    BOOST_TEST(take(core, 4, now).size() == 0u);
    CORE_CHECK_STATS(core, 0, 0, 0, 1, 0, 0);
    BOOST_TEST(b->take_value().error() == E2);
    core.close();
}

BOOST_AUTO_TEST_CASE(fail_fast_with_a_channel_error)
{
    // The second request is refused (queue_full): the batch fails with that,
    // and the first (queued) is cancelled.
    core_t core(batch_opts(1, dx::overflow::reject));
    core.attach_client();
    std::vector<int> in{0, 1, 2};
    auto b = make_batch<false>(core, in, 3);
    b->start();
    BOOST_TEST(b->done == 1);
    CORE_CHECK_STATS(core, 0, 0, 0, 0, 0, 1);
    BOOST_TEST(b->take_value().error() == dx::make_error_code(dx::error::queue_full));
    core.close();
}

BOOST_AUTO_TEST_CASE(settled_keeps_every_result_on_a_stopped_channel_without_deep_recursion)
{
    core_t core(batch_opts());
    core.attach_client();
    (void)core.stop();
    std::vector<int> in(20000, 1);
    auto b = make_batch<true>(core, in, 1);
    b->start();  // every submit completes inline with closed
    BOOST_TEST(b->done == 1);
    auto v = b->take_value();
    BOOST_TEST_REQUIRE(v.size() == in.size());
    std::size_t closed = 0;
    for (auto& r : v)
        closed += r.has_error() && r.error() == dx::make_error_code(dx::error::closed);
    BOOST_TEST(closed == in.size());

    auto f = make_batch<false>(core, in, 8);
    f->start();
    BOOST_TEST(f->done == 1);
    BOOST_TEST(f->take_value().error() == dx::make_error_code(dx::error::closed));
}

BOOST_AUTO_TEST_CASE(concurrency_zero_is_invalid_argument)
{
    core_t core(batch_opts());
    core.attach_client();
    std::vector<int> in{1, 2, 3};
    {
        auto b = make_batch<false>(core, in, 0);
        b->start();
        BOOST_TEST(b->done == 1);
        BOOST_TEST(b->take_value().error() == dx::make_error_code(dx::error::invalid_argument));
    }
    {
        auto b = make_batch<true>(core, in, 0);
        b->start();
        BOOST_TEST(b->done == 1);
        auto v = b->take_value();
        BOOST_TEST_REQUIRE(v.size() == 3u);
        for (auto& r : v)
            BOOST_TEST(r.error() == dx::make_error_code(dx::error::invalid_argument));
    }
    CORE_CHECK_STATS(core, 0, 0, 0, 0, 0, 0);  // nothing was submitted
    core.close();
}

BOOST_AUTO_TEST_CASE(an_empty_range_succeeds_at_once)
{
    core_t core(batch_opts());
    core.attach_client();
    std::vector<int> in;
    for (std::size_t conc : {std::size_t(1), std::size_t(4)}) {
        auto b = make_batch<false>(core, in, conc);
        b->start();
        BOOST_TEST(b->done == 1);
        auto v = b->take_value();
        BOOST_TEST_REQUIRE(v.has_value());
        BOOST_TEST(v.value().empty());

        auto s = make_batch<true>(core, in, conc);
        s->start();
        BOOST_TEST(s->done == 1);
        BOOST_TEST(s->take_value().empty());
    }
    CORE_CHECK_STATS(core, 0, 0, 0, 0, 0, 0);
    core.close();
}

BOOST_AUTO_TEST_CASE(a_batch_timeout_is_one_deadline_for_every_request)
{
    core_t core(batch_opts());
    core.attach_client();
    const time_point start = dd::clock_type::now();
    std::vector<int> in{0, 1, 2, 3};
    auto b = make_batch<false>(core, in, 2, duration(std::chrono::hours(2)), start);
    b->start();
    const time_point deadline = start + std::chrono::hours(2);
    BOOST_TEST((core.next_deadline() == deadline));
    std::size_t seen = 0;
    for (int round = 0; round != 10 && b->done == 0; ++round) {
        auto t = take(core, 8, dd::clock_type::now());
        for (auto* s : t.slots) {
            BOOST_TEST((s->deadline == deadline));  // not counted from each submit
            ++seen;
            (void)core_t::take_request(s);
            (void)core.finish(s, dx::result<int>(1));
        }
    }
    BOOST_TEST(seen == 4u);
    BOOST_TEST(b->done == 1);

    // Without a batch timeout each request has the channel's default, from its own submit.
    auto c = make_batch<false>(core, in, 4, std::nullopt, start);
    c->start();
    auto t = take(core, 8, dd::clock_type::now());
    BOOST_TEST_REQUIRE(t.size() == 4u);
    for (auto* s : t.slots) {
        BOOST_TEST((s->deadline >= start + core.options().timeout));
        BOOST_TEST((s->deadline <= dd::clock_type::now() + core.options().timeout));
        (void)core_t::take_request(s);
        (void)core.finish(s, dx::result<int>(1));
    }
    BOOST_TEST(c->done == 1);
    core.close();
}

BOOST_AUTO_TEST_CASE(a_batch_timeout_ends_every_request_at_that_deadline)
{
    core_t core(batch_opts());
    core.attach_client();
    const time_point start = dd::clock_type::now();
    std::vector<int> in{0, 1, 2, 3};
    {
        auto b = make_batch<true>(core, in, 4, duration(std::chrono::minutes(30)), start);
        b->start();
        (void)core.expire(start + std::chrono::minutes(30));
        BOOST_TEST(b->done == 1);
        auto v = b->take_value();
        BOOST_TEST_REQUIRE(v.size() == 4u);
        for (auto& r : v)
            BOOST_TEST(r.error() == dx::make_error_code(dx::error::timeout));
    }
    {
        auto b = make_batch<false>(core, in, 2, duration(std::chrono::minutes(30)), start);
        b->start();
        (void)core.expire(start + std::chrono::minutes(30));
        BOOST_TEST(b->done == 1);
        BOOST_TEST(b->calls_after_done == 0);
        BOOST_TEST(b->take_value().error() == dx::make_error_code(dx::error::timeout));
        CORE_CHECK_STATS(core, 0, 0, 0, 0, 6, 0);  // the last two were never submitted
    }
    core.close();
}

BOOST_AUTO_TEST_CASE(cancel_of_a_batch_partial_and_terminal)
{
    core_t core(batch_opts());
    core.attach_client();
    const time_point now = dd::clock_type::now();
    std::vector<int> in{0, 1, 2, 3, 4};
    {
        // Partial: what was not handed out ends; running ones go on and are kept.
        auto b = make_batch<true>(core, in, 4);
        b->start();
        auto t = take(core, 2, now);
        BOOST_TEST_REQUIRE(t.size() == 2u);
        (void)take_requests(t);
        b->cancel(false);
        BOOST_TEST(b->done == 0);
        BOOST_TEST(b->forwarded_tags.empty());
        CORE_CHECK_STATS(core, 0, 2, 0, 0, 0, 2);
        (void)core.finish(t[0], dx::result<int>(10));
        (void)core.finish(t[1], dx::result<int>(11));
        BOOST_TEST(b->done == 1);
        BOOST_TEST(take(core, 8, now).size() == 0u);
        auto v = b->take_value();
        BOOST_TEST_REQUIRE(v.size() == 5u);
        BOOST_TEST(v[0].value() == 10);
        BOOST_TEST(v[1].value() == 11);
        for (std::size_t i = 2; i != 5; ++i)  // 2, 3 cancelled while queued; 4 never sent
            BOOST_TEST(v[i].error() == dx::make_error_code(dx::error::cancelled));
    }
    {
        // Terminal: everything ends now; running ones are forwarded.
        auto b = make_batch<false>(core, in, 4);
        b->start();
        auto t = take(core, 2, now);
        BOOST_TEST_REQUIRE(t.size() == 2u);
        (void)take_requests(t);
        b->cancel(true);
        BOOST_TEST(b->done == 1);
        BOOST_TEST(b->forwarded_tags.size() == 2u);
        BOOST_TEST(b->take_value().error() == dx::make_error_code(dx::error::cancelled));
        BOOST_TEST((core.finish(t[0], dx::result<int>(0)) == dd::run_outcome::cancelled));
        BOOST_TEST((core.finish(t[1], dx::result<int>(0)) == dd::run_outcome::cancelled));
        b->cancel(true);  // after the end: nothing
        BOOST_TEST(b->done == 1);
    }
    CORE_CHECK_STATS(core, 0, 0, 2, 0, 0, 6);
    core.close();
}

// ---- how ranges are read --------------------------------------------------

BOOST_AUTO_TEST_CASE(an_lvalue_range_is_referred_to_and_copied_from)
{
    using tcore = dd::channel_core<tracked, int, dx::sharded_slab>;
    tracked::reset();
    {
        tcore core(batch_opts());
        core.attach_client();
        const time_point now = dd::clock_type::now();
        std::vector<tracked> in;
        in.reserve(3);
        for (int i = 1; i <= 3; ++i)
            in.emplace_back(i);
        auto b = make_batch<false>(core, in, 1);
        b->start();
        BOOST_TEST(tracked::copies == 1);  // one read so far: the range is not copied up front
        in[2].v = 30;  // referred to: the batch sees this when it gets there
        std::vector<int> got;
        for (int round = 0; round != 10 && b->done == 0; ++round) {
            auto t = take(core, 4, now);
            for (auto* s : t.slots) {
                got.push_back(tcore::take_request(s).v);
                (void)core.finish(s, dx::result<int>(0));
            }
        }
        BOOST_TEST(got == (std::vector<int>{1, 2, 30}), boost::test_tools::per_element());
        BOOST_TEST(tracked::copies == 3);  // each element copied once
        for (std::size_t i = 0; i != 3; ++i)
            BOOST_TEST(in[i].v == (i == 2 ? 30 : int(i) + 1));  // not moved from
        core.close();
    }
    BOOST_TEST(tracked::live == 0);
}

BOOST_AUTO_TEST_CASE(an_rvalue_range_is_moved_from)
{
    using tcore = dd::channel_core<tracked, int, dx::sharded_slab>;
    tracked::reset();
    {
        tcore core(batch_opts());
        core.attach_client();
        const time_point now = dd::clock_type::now();
        std::vector<tracked> in;
        in.reserve(3);
        for (int i = 1; i <= 3; ++i)
            in.emplace_back(i);
        auto b = make_batch<true>(core, std::move(in), 2);
        b->start();
        std::vector<int> got;
        for (int round = 0; round != 10 && b->done == 0; ++round) {
            auto t = take(core, 4, now);
            for (auto* s : t.slots) {
                got.push_back(tcore::take_request(s).v);
                (void)core.finish(s, dx::result<int>(0));
            }
        }
        BOOST_TEST(got == (std::vector<int>{1, 2, 3}), boost::test_tools::per_element());
        BOOST_TEST(tracked::copies == 0);
        core.close();
    }
    BOOST_TEST(tracked::live == 0);
}

BOOST_AUTO_TEST_CASE(an_rvalue_range_of_move_only_requests)
{
    using ucore = dd::channel_core<std::unique_ptr<int>, std::unique_ptr<int>, dx::sharded_slab>;
    ucore core(batch_opts());
    core.attach_client();
    const time_point now = dd::clock_type::now();
    std::vector<std::unique_ptr<int>> in;
    std::vector<int*> raw;
    for (int i = 0; i != 4; ++i) {
        in.push_back(std::make_unique<int>(i));
        raw.push_back(in.back().get());
    }
    auto b = make_batch<false>(core, std::move(in), 2);
    b->start();
    std::vector<int*> got;
    for (int round = 0; round != 10 && b->done == 0; ++round) {
        auto t = take(core, 4, now);
        for (auto* s : t.slots) {
            auto p = ucore::take_request(s);
            got.push_back(p.get());  // the very objects of the range, moved along
            *p += 100;
            (void)core.finish(s, dx::result<std::unique_ptr<int>>(std::move(p)));
        }
    }
    BOOST_TEST(got == raw, boost::test_tools::per_element());
    auto v = b->take_value();
    BOOST_TEST_REQUIRE(v.has_value());
    BOOST_TEST_REQUIRE(v.value().size() == 4u);
    for (int i = 0; i != 4; ++i)
        BOOST_TEST(*v.value()[std::size_t(i)] == 100 + i);
    core.close();
}

namespace {

// A single-pass range (input iterators only, no size), of move-only values.
class counting_input_range {
public:
    explicit counting_input_range(int n) : n_(n) {}

    class iterator {
    public:
        using value_type = std::unique_ptr<int>;
        using difference_type = std::ptrdiff_t;
        using iterator_concept = std::input_iterator_tag;

        iterator() = default;
        explicit iterator(counting_input_range* r) : r_(r) {}
        std::unique_ptr<int> operator*() const { return std::make_unique<int>(r_->i_); }
        iterator& operator++()
        {
            ++r_->i_;
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.r_->i_ == it.r_->n_; }

    private:
        counting_input_range* r_ = nullptr;
    };

    iterator begin() { return iterator(this); }
    std::default_sentinel_t end() { return {}; }

    int n_;
    int i_ = 0;
};

// The same, of ints, read by reference (as an lvalue).
class int_input_range {
public:
    int_input_range(int first, int n) : i_(first), end_(first + n) {}

    class iterator {
    public:
        using value_type = int;
        using difference_type = std::ptrdiff_t;
        using iterator_concept = std::input_iterator_tag;

        iterator() = default;
        explicit iterator(int_input_range* r) : r_(r) {}
        int operator*() const { return r_->i_; }
        iterator& operator++()
        {
            ++r_->i_;
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.r_->i_ == it.r_->end_; }

    private:
        int_input_range* r_ = nullptr;
    };

    iterator begin() { return iterator(this); }
    std::default_sentinel_t end() { return {}; }

    int i_;
    int end_;
};

static_assert(std::ranges::input_range<int_input_range>);
static_assert(!std::ranges::forward_range<int_input_range>);
static_assert(std::ranges::input_range<counting_input_range>);
static_assert(!std::ranges::forward_range<counting_input_range>);
static_assert(!std::ranges::sized_range<counting_input_range>);

}  // namespace

BOOST_AUTO_TEST_CASE(a_single_pass_range_works)
{
    core_t core(batch_opts());
    core.attach_client();
    const time_point now = dd::clock_type::now();
    auto serve = [&](auto& b) {
        std::vector<int> got;
        for (int round = 0; round != 20 && b.done == 0; ++round) {
            auto t = take(core, 4, now);
            for (auto* s : t.slots) {
                const int r = core_t::take_request(s);
                got.push_back(r);
                (void)core.finish(s, dx::result<int>(r * 10));
            }
        }
        return got;
    };

    // A hand-written input range, as an lvalue.
    int_input_range ints(20, 3);
    auto b0 = make_batch<false>(core, ints, 2);
    b0->start();
    BOOST_TEST(serve(*b0) == (std::vector<int>{20, 21, 22}), boost::test_tools::per_element());
    BOOST_TEST(b0->take_value().value() == (std::vector<int>{200, 210, 220}), boost::test_tools::per_element());

#if !defined(__clang__)  // clang 14 cannot compile std::views::istream of libstdc++ 12 (toolchain issue)
    // An rvalue istream view.
    std::istringstream in1("5 6 7 8");
    auto b1 = make_batch<false>(core, std::views::istream<int>(in1), 2);
    b1->start();
    BOOST_TEST(serve(*b1) == (std::vector<int>{5, 6, 7, 8}), boost::test_tools::per_element());
    BOOST_TEST(b1->take_value().value() == (std::vector<int>{50, 60, 70, 80}), boost::test_tools::per_element());

    // An lvalue one.
    std::istringstream in2("1 2 3");
    auto view = std::views::istream<int>(in2);
    auto b2 = make_batch<true>(core, view, 1);
    b2->start();
    BOOST_TEST(serve(*b2) == (std::vector<int>{1, 2, 3}), boost::test_tools::per_element());
    auto v2 = b2->take_value();
    BOOST_TEST_REQUIRE(v2.size() == 3u);
    BOOST_TEST(v2[2].value() == 30);
#endif
    core.close();

    // A hand-written input range of move-only elements.
    using ucore = dd::channel_core<std::unique_ptr<int>, int, dx::sharded_slab>;
    ucore ucore_(batch_opts());
    ucore_.attach_client();
    auto b3 = make_batch<false>(ucore_, counting_input_range(5), 3);
    b3->start();
    std::vector<int> got;
    for (int round = 0; round != 20 && b3->done == 0; ++round) {
        auto t = take(ucore_, 4, now);
        for (auto* s : t.slots) {
            const int r = *ucore::take_request(s);
            got.push_back(r);
            (void)ucore_.finish(s, dx::result<int>(r));
        }
    }
    BOOST_TEST(got == (std::vector<int>{0, 1, 2, 3, 4}), boost::test_tools::per_element());
    BOOST_TEST(b3->take_value().value() == got, boost::test_tools::per_element());
    ucore_.close();
}

BOOST_AUTO_TEST_CASE(elements_that_convert_to_the_request_type)
{
    using score = dd::channel_core<std::string, std::size_t, dx::sharded_slab>;
    score core(batch_opts());
    core.attach_client();
    const time_point now = dd::clock_type::now();
    const char* words[] = {"a", "bb", "ccc"};
    auto b = make_batch<false>(core, words, 3);
    b->start();
    auto t = take(core, 4, now);
    BOOST_TEST_REQUIRE(t.size() == 3u);
    for (auto* s : t.slots) {
        const std::string r = score::take_request(s);
        (void)core.finish(s, dx::result<std::size_t>(r.size()));
    }
    BOOST_TEST(b->take_value().value() == (std::vector<std::size_t>{1, 2, 3}), boost::test_tools::per_element());
    core.close();
}
