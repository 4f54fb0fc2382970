//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Shared helpers of the sans-io core tests (test/core/*.cpp). Not a test
// module itself: each test includes <boost/test/unit_test.hpp> first.
//
// The core is driven by hand: time is a plain time_point the test advances
// (`t0 + 5s`), completions are recorded by `recorder`, which counts every
// call so that a test can assert "exactly once".

#ifndef BOOST_DUPLEX_TEST_CORE_SUPPORT_HPP
#define BOOST_DUPLEX_TEST_CORE_SUPPORT_HPP

#include <boost/duplex/detail/core/channel_core.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/options.hpp>
#include <boost/duplex/priority.hpp>
#include <boost/duplex/stats.hpp>
#include <boost/duplex/storage.hpp>

#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <utility>
#include <vector>

namespace core_test {

namespace dx = boost::duplex;
namespace dd = boost::duplex::detail;
using namespace std::chrono_literals;
using dd::duration;
using dd::time_point;
using boost::system::error_code;

// The virtual clock's origin, far from the epoch so that `t0 - 1s` is valid.
inline const time_point t0 = time_point{} + std::chrono::hours(24 * 365);

using storage_policies = boost::mpl::list<dx::sharded_slab, dx::locked_slab>;

inline dx::channel_options opts(std::size_t capacity, dx::overflow on_full = dx::overflow::wait,
                                duration timeout = std::chrono::seconds(2))
{
    dx::channel_options o;
    o.capacity = capacity;
    o.on_full = on_full;
    o.timeout = timeout;
    return o;
}

// A global completion counter, so that tests can check the order in which
// waiters were completed.
inline std::size_t& completion_sequence()
{
    static std::size_t n = 0;
    return n;
}

// The test waiter: records every completion. `calls` must end at exactly 1
// for every submitted request.
template <class Response>
class recorder final : public dd::waiter<Response> {
public:
    recorder() noexcept : dd::waiter<Response>(dd::hook_to<&recorder::fire>) {}
    recorder(const recorder&) = delete;
    recorder& operator=(const recorder&) = delete;

    std::size_t calls = 0;
    std::size_t seq = 0;  // completion_sequence() at the (last) completion
    std::optional<dx::result<Response>> res;
    std::function<void(recorder&)> hook;  // run inside the completion, if set

    bool has_value() const { return res && res->has_value(); }
    error_code error() const { return res && res->has_error() ? res->error() : error_code(); }
    const Response& value() const { return res->value(); }
    Response& value() { return res->value(); }

private:
    void fire(dx::result<Response>&& r, bool) noexcept
    {
        ++calls;
        seq = ++completion_sequence();
        res.emplace(std::move(r));
        if (hook)
            hook(*this);
    }
};

using rec = recorder<int>;

// prepare() + submit() in one go.
template <class Core, class Req>
dd::effects submit(Core& core, Req&& req, time_point deadline, dd::waiter<typename Core::response_type>& w,
                   time_point now)
{
    return core.submit(core.prepare(), std::forward<Req>(req), deadline, w, now);
}

// The same, for a request of priority `p` in flow `flow`.
template <class Core, class Req>
dd::effects submit(Core& core, Req&& req, time_point deadline, dd::waiter<typename Core::response_type>& w,
                   time_point now, dx::priority p, std::uint64_t flow = 0)
{
    return core.submit(core.prepare(), std::forward<Req>(req), deadline, w, now, true, dd::request_class{p, flow});
}

// The same, returning the key the request had (for cancel()).
template <class Core, class Req>
dd::slot_key submit_k(Core& core, Req&& req, time_point deadline, dd::waiter<typename Core::response_type>& w,
                      time_point now, dd::effects* fx = nullptr)
{
    auto* s = core.prepare();
    const dd::slot_key k = core.key_of(s);
    const dd::effects e = core.submit(s, std::forward<Req>(req), deadline, w, now);
    if (fx)
        *fx = e;
    return k;
}

// take() and its chain of slots, as a vector.
template <class Core>
struct taken {
    typename Core::take_result tr;
    std::vector<typename Core::slot_type*> slots;

    std::size_t size() const { return slots.size(); }
    typename Core::slot_type* operator[](std::size_t i) const { return slots.at(i); }
};

template <class Core>
taken<Core> take(Core& core, std::size_t limit, time_point now)
{
    taken<Core> t;
    t.tr = core.take(limit, now);
    auto* s = t.tr.first;
    for (std::size_t i = 0; i != t.tr.count; ++i) {
        BOOST_TEST_REQUIRE(s != nullptr);
        t.slots.push_back(s);
        s = s->chain;
    }
    BOOST_TEST(s == nullptr);  // the chain holds exactly `count` slots
    return t;
}

// Ends the handler invocation of a taken slot with a value (moving its request out first).
template <class Core, class Resp>
dd::run_outcome finish_value(Core& core, typename Core::slot_type* s, Resp&& v)
{
    (void)Core::take_request(s);
    return core.finish(s, dx::result<typename Core::response_type>(std::forward<Resp>(v)));
}

template <class Core>
dd::run_outcome finish_error(Core& core, typename Core::slot_type* s, error_code ec)
{
    (void)Core::take_request(s);
    return core.finish(s, dx::result<typename Core::response_type>(ec));
}

// A type that counts its live objects, copies and moves.
struct tracked {
    static inline int live = 0;
    static inline int copies = 0;
    static inline int moves = 0;
    static void reset() { live = copies = moves = 0; }

    int v = 0;
    explicit tracked(int x) noexcept : v(x) { ++live; }
    tracked(const tracked& o) noexcept : v(o.v) { ++live; ++copies; }
    tracked(tracked&& o) noexcept : v(o.v)
    {
        ++live;
        ++moves;
        o.v = -1;
    }
    tracked& operator=(const tracked&) = delete;
    tracked& operator=(tracked&&) = delete;
    ~tracked() { --live; }
};

}  // namespace core_test

// Time points print as an offset from t0 (or "max") in failure messages.
namespace boost::test_tools::tt_detail {
template <>
struct print_log_value<core_test::time_point> {
    void operator()(std::ostream& os, const core_test::time_point& t) const
    {
        if (t == core_test::time_point::max())
            os << "time_point::max()";
        else
            os << "t0" << (t >= core_test::t0 ? "+" : "-")
               << std::chrono::duration_cast<std::chrono::nanoseconds>(t >= core_test::t0 ? t - core_test::t0
                                                                                         : core_test::t0 - t)
                      .count()
               << "ns";
    }
};
}  // namespace boost::test_tools::tt_detail

// Checks the six responder_stats fields at once (concurrency_limit aside).
#define CORE_CHECK_STATS(core, q, inf, comp, fail, tout, canc)       \
    do {                                                             \
        const ::boost::duplex::responder_stats st_ = (core).stats(); \
        BOOST_TEST(st_.queued == std::size_t(q));                    \
        BOOST_TEST(st_.in_flight == std::size_t(inf));               \
        BOOST_TEST(st_.completed == std::uint64_t(comp));            \
        BOOST_TEST(st_.failed == std::uint64_t(fail));               \
        BOOST_TEST(st_.timed_out == std::uint64_t(tout));            \
        BOOST_TEST(st_.cancelled == std::uint64_t(canc));            \
    } while (false)

// Error-code comparisons print well in Boost.Test.
#define CORE_CHECK_ERR(w, e) BOOST_TEST((w).error() == ::boost::duplex::make_error_code(e))

#endif
