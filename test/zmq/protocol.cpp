//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The remote protocol in one process, over inproc:// and ipc://: round trips
// with every kind of completion token, the codecs, error codes across the
// wire, frames that cannot be decoded, priority and flow carried to the
// serving channel, batches, and what happens with no serving process.

#define BOOST_TEST_MODULE zmq_protocol
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/duplex/json_codec.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/describe/class.hpp>
#include <boost/system/errc.hpp>

#include <cstring>
#include <map>
#include <numeric>
#include <set>

using namespace duplex_test;

namespace {

struct point {
    int x;
    double y;
};

}  // namespace

BOOST_AUTO_TEST_CASE(round_trips_over_inproc_and_ipc)
{
    for (const char* transport : {"inproc", "ipc"}) {
        BOOST_TEST_CONTEXT(transport)
        {
            remote_server<int, int> server(endpoint(transport), [](int x) { return x * 2; });
            net::io_context io;
            auto client = connect<int, int>(io, {server.bound()});
            std::vector<outcome> out(200);
            for (int i = 0; i < 200; ++i)
                client.async_request(i, record(out[static_cast<std::size_t>(i)]));
            BOOST_TEST(run_until(io, [&] { return all_done(out); }));
            for (int i = 0; i < 200; ++i) {
                BOOST_TEST(out[static_cast<std::size_t>(i)].holds(2 * i));
                BOOST_TEST(out[static_cast<std::size_t>(i)].completions == 1);
            }
            BOOST_TEST(server.stats().completed == 200u);
        }
    }
}

BOOST_AUTO_TEST_CASE(every_completion_token_works)
{
    remote_server<int, int> server(endpoint("inproc"), [](int x) { return x + 1; });
    net::io_context io;
    auto client = connect<int, int>(io, {server.bound()});

    // use_awaitable, as_tuple, deferred
    int awaited = 0, tupled = 0, deferred = 0;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            awaited = (co_await client.async_request(1, net::use_awaitable)).value();
            auto [r] = co_await client.async_request(2, net::as_tuple(net::use_awaitable));
            tupled = r.value();
            auto op = client.async_request(3, net::deferred);
            deferred = (co_await std::move(op)(net::use_awaitable)).value();
        },
        net::detached);
    BOOST_TEST(run_until(io, [&] { return deferred != 0; }));
    BOOST_TEST(awaited == 2);
    BOOST_TEST(tupled == 3);
    BOOST_TEST(deferred == 4);

    // use_future, with the io_context on another thread
    auto guard = net::make_work_guard(io);
    std::thread t([&] { io.run(); });
    auto f = client.async_request(41, net::use_future);
    BOOST_TEST(f.get().value() == 42);
    guard.reset();
    t.join();
}

BOOST_AUTO_TEST_CASE(completion_runs_on_the_handlers_executor_never_inline)
{
    remote_server<int, int> server(endpoint("inproc"), [](int x) { return x; });
    net::io_context io;
    net::io_context other;
    auto client = connect<int, int>(io, {server.bound()});
    bool inside = true;     // the initiating function is running
    bool ran_inside = false;  // the handler ran while it was
    bool ran_on_other = false;
    bool done = false;
    client.async_request(1, net::bind_executor(other, [&](dx::result<int>) {
                             ran_inside = inside;
                             ran_on_other = other.get_executor().running_in_this_thread();
                             done = true;
                         }));
    inside = false;
    BOOST_TEST(!done);
    // The handler is bound to `other`: running `io` alone never runs it.
    run_until(io, [&] { return done; }, 200ms);
    BOOST_TEST(!done);
    BOOST_TEST(run_until(other, [&] { return done; }));
    BOOST_TEST(!ran_inside);
    BOOST_TEST(ran_on_other);
}

BOOST_AUTO_TEST_CASE(strings_bytes_and_trivially_copyable_types_travel)
{
    {
        remote_server<std::string, std::string> server(endpoint("inproc"),
                                                       [](std::string s) { return s + "!"; });
        net::io_context io;
        auto client = connect<std::string, std::string>(io, {server.bound()});
        std::optional<dx::result<std::string>> a, b;
        client.async_request(std::string(), [&](dx::result<std::string> r) { a.emplace(std::move(r)); });
        client.async_request(std::string(100000, 'x'), [&](dx::result<std::string> r) { b.emplace(std::move(r)); });
        BOOST_TEST(run_until(io, [&] { return a && b; }));
        BOOST_TEST(a->value() == "!");
        BOOST_TEST(b->value() == std::string(100000, 'x') + "!");
    }
    {
        using bytes = std::vector<std::byte>;
        remote_server<bytes, bytes> server(endpoint("inproc"), [](bytes v) {
            std::reverse(v.begin(), v.end());
            return v;
        });
        net::io_context io;
        auto client = connect<bytes, bytes>(io, {server.bound()});
        std::optional<dx::result<bytes>> r;
        client.async_request(bytes{std::byte{1}, std::byte{2}, std::byte{0}},
                             [&](dx::result<bytes> x) { r.emplace(std::move(x)); });
        BOOST_TEST(run_until(io, [&] { return r.has_value(); }));
        BOOST_TEST((r->value() == bytes{std::byte{0}, std::byte{2}, std::byte{1}}));
    }
    {
        remote_server<point, point> server(endpoint("inproc"), [](point p) { return point{p.x + 1, p.y * 2}; });
        net::io_context io;
        auto client = connect<point, point>(io, {server.bound()});
        std::optional<dx::result<point>> r;
        client.async_request(point{1, 1.5}, [&](dx::result<point> x) { r.emplace(std::move(x)); });
        BOOST_TEST(run_until(io, [&] { return r.has_value(); }));
        BOOST_TEST(r->value().x == 2);
        BOOST_TEST(r->value().y == 3.0);
    }
}

namespace json_types {

struct order {
    std::string item;
    int quantity;
    std::vector<double> prices;
};
BOOST_DESCRIBE_STRUCT(order, (), (item, quantity, prices))

struct receipt {
    std::string text;
    double total;
};
BOOST_DESCRIBE_STRUCT(receipt, (), (text, total))

}  // namespace json_types

BOOST_AUTO_TEST_CASE(json_codec_carries_described_types)
{
    using json_types::order;
    using json_types::receipt;
    remote_server<order, receipt, dx::json_codec> server(endpoint("inproc"), [](order o) {
        return receipt{std::to_string(o.quantity) + " " + o.item,
                       std::accumulate(o.prices.begin(), o.prices.end(), 0.0) * o.quantity};
    });
    net::io_context io;
    auto client = connect<order, receipt, dx::json_codec>(io, {server.bound()});
    std::optional<dx::result<receipt>> r;
    client.async_request(order{"tea", 3, {1.5, 0.5}}, [&](dx::result<receipt> x) { r.emplace(std::move(x)); });
    BOOST_TEST(run_until(io, [&] { return r.has_value(); }));
    BOOST_TEST(r->value().text == "3 tea");
    BOOST_TEST(r->value().total == 6.0);
}

namespace {

class custom_category : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "test.custom"; }
    std::string message(int) const override { return "custom"; }
};

const custom_category custom;

}  // namespace

BOOST_AUTO_TEST_CASE(error_codes_travel_by_category_name)
{
    remote_server<int, int> server(endpoint("inproc"), [](int x) -> dx::result<int> {
        switch (x) {
        case 0:
            return dx::make_error_code(dx::error::invalid_argument);
        case 1:
            return boost::system::error_code(ECONNRESET, boost::system::system_category());
        case 2:
            return boost::system::errc::make_error_code(boost::system::errc::permission_denied);
        case 3:
            return boost::system::error_code(7, custom);
        default:
            throw std::runtime_error("handler failure");
        }
    });
    net::io_context io;
    auto client = connect<int, int>(io, {server.bound()});
    std::vector<outcome> out(5);
    for (int i = 0; i < 5; ++i)
        client.async_request(i, record(out[static_cast<std::size_t>(i)]));
    BOOST_TEST(run_until(io, [&] { return all_done(out); }));
    BOOST_TEST(code_of(*out[0].r) == code(dx::error::invalid_argument));
    BOOST_TEST(code_of(*out[1].r) == boost::system::error_code(ECONNRESET, boost::system::system_category()));
    BOOST_TEST(code_of(*out[2].r) == boost::system::errc::make_error_code(boost::system::errc::permission_denied));
    // A category this end cannot name: documented as handler_failed.
    BOOST_TEST(code_of(*out[3].r) == code(dx::error::handler_failed));
    BOOST_TEST(code_of(*out[4].r) == code(dx::error::handler_failed));
}

BOOST_AUTO_TEST_CASE(a_frame_that_cannot_be_decoded_fails_that_request_only)
{
    // The serving side expects a point (16 bytes); a client that sends an
    // int gets bad_message for it, and the connection goes on working.
    const std::string ep = endpoint("inproc");
    remote_server<point, point> server(ep, [](point p) { return p; });
    net::io_context io;
    auto wrong = connect<int, point>(io, {server.bound()});
    auto right = connect<point, point>(io, {server.bound()});
    std::optional<dx::result<point>> bad, good, again;
    wrong.async_request(5, [&](dx::result<point> r) { bad.emplace(std::move(r)); });
    BOOST_TEST(run_until(io, [&] { return bad.has_value(); }));
    BOOST_TEST(code_of(*bad) == boost::system::errc::make_error_code(boost::system::errc::bad_message));

    // Garbage from a raw socket: not ours, dropped without an answer.
    zmq::socket_t raw(*dx::detail::zmq_io::shared_context(), zmq::socket_type::dealer);
    raw.connect(server.bound());
    raw.send(zmq::str_buffer("garbage"), zmq::send_flags::none);
    raw.send(zmq::str_buffer("\x01"), zmq::send_flags::none);
    unsigned char short_request[5] = {1, 1, 0, 0, 0};  // a request envelope cut short
    raw.send(zmq::buffer(short_request), zmq::send_flags::none);

    right.async_request(point{1, 2}, [&](dx::result<point> r) { good.emplace(std::move(r)); });
    wrong.async_request(6, [&](dx::result<point> r) { again.emplace(std::move(r)); });
    BOOST_TEST(run_until(io, [&] { return good && again; }));
    BOOST_TEST(good->value().x == 1);
    BOOST_TEST(code_of(*again) == boost::system::errc::make_error_code(boost::system::errc::bad_message));

    // A response the client cannot decode: bad_message too.
    remote_server<int, int> server2(endpoint("inproc"), [](int x) { return x; });
    auto mismatched = connect<int, point>(io, {server2.bound()});
    std::optional<dx::result<point>> undecodable;
    mismatched.async_request(1, [&](dx::result<point> r) { undecodable.emplace(std::move(r)); });
    BOOST_TEST(run_until(io, [&] { return undecodable.has_value(); }));
    BOOST_TEST(code_of(*undecodable) == boost::system::errc::make_error_code(boost::system::errc::bad_message));
}

BOOST_AUTO_TEST_CASE(priority_and_flow_reach_the_serving_channel)
{
    // The serving channel's one handler invocation is held; the requests
    // queued behind it must be taken highest priority first.
    gate g;
    std::vector<int> seen;
    std::mutex m;
    remote_server<int, int> server(endpoint("inproc"),
                                   [&](int x) -> net::awaitable<int> {
                                       {
                                           std::lock_guard lock(m);
                                           seen.push_back(x);
                                       }
                                       if (x == 0)
                                           co_await g.wait_ignoring_cancellation();
                                       co_return x;
                                   },
                                   1);
    net::io_context io;
    auto client = connect<int, int>(io, {server.bound()});
    std::vector<outcome> out(4);
    client.async_request(0, record(out[0]));
    BOOST_TEST(run_until(io, [&] {
        std::lock_guard lock(m);
        return !seen.empty();
    }));
    client.with_priority(dx::priority::low).async_request(1, record(out[1]));
    client.with_flow(7).async_request(2, record(out[2]));
    client.with_priority(dx::priority::critical).async_request(3, record(out[3]));
    BOOST_TEST(client.with_priority(dx::priority::high).with_flow(9).get_flow() == 9u);
    BOOST_TEST((client.with_flow(9).with_priority(dx::priority::high).get_priority() == dx::priority::high));
    BOOST_TEST(run_until(io, [&] { return server.stats().queued == 3u; }));
    g.open();
    BOOST_TEST(run_until(io, [&] { return all_done(out); }));
    std::lock_guard lock(m);
    BOOST_TEST(seen == (std::vector<int>{0, 3, 2, 1}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(batches_keep_input_order_fail_fast_and_settle)
{
    remote_server<int, int> server(endpoint("inproc"), [](int x) -> dx::result<int> {
        if (x < 0)
            return dx::make_error_code(dx::error::invalid_argument);
        return x * 10;
    });
    net::io_context io;
    auto client = connect<int, int>(io, {server.bound()});
    std::vector<int> in(100);
    std::iota(in.begin(), in.end(), 0);

    std::optional<dx::result<std::vector<int>>> all, failed, zero, empty, timed;
    std::optional<std::vector<dx::result<int>>> settled, settled_zero;
    client.async_request_batch(in, 7, [&](dx::result<std::vector<int>> r) { all.emplace(std::move(r)); });
    client.async_request_batch(std::vector<int>{1, -1, 2}, 1, [&](auto r) { failed.emplace(std::move(r)); });
    client.async_request_batch(in, 0, [&](auto r) { zero.emplace(std::move(r)); });
    client.async_request_batch(std::vector<int>{}, 3, [&](auto r) { empty.emplace(std::move(r)); });
    client.async_request_batch(in, 3, 10s, [&](auto r) { timed.emplace(std::move(r)); });
    client.async_request_batch_settled(std::vector<int>{1, -1, 2}, 2, [&](auto r) { settled.emplace(std::move(r)); });
    client.async_request_batch_settled(std::vector<int>{1, 2}, 0, [&](auto r) { settled_zero.emplace(std::move(r)); });
    BOOST_TEST(run_until(io, [&] { return all && failed && zero && empty && timed && settled && settled_zero; }));
    BOOST_REQUIRE(all->has_value());
    for (int i = 0; i < 100; ++i)
        BOOST_TEST(all->value()[static_cast<std::size_t>(i)] == i * 10);
    BOOST_TEST(timed->value() == all->value(), boost::test_tools::per_element());
    BOOST_TEST(code_of(*failed) == code(dx::error::invalid_argument));
    BOOST_TEST(code_of(*zero) == code(dx::error::invalid_argument));
    BOOST_TEST(empty->value().empty());
    BOOST_REQUIRE(settled->size() == 3u);
    BOOST_TEST((*settled)[0].value() == 10);
    BOOST_TEST(code_of((*settled)[1]) == code(dx::error::invalid_argument));
    BOOST_TEST((*settled)[2].value() == 20);
    BOOST_REQUIRE(settled_zero->size() == 2u);
    BOOST_TEST(code_of((*settled_zero)[0]) == code(dx::error::invalid_argument));
}

BOOST_AUTO_TEST_CASE(a_batch_with_a_deadline_times_out_as_a_whole)
{
    remote_server<int, int> server(endpoint("inproc"), [](int x) -> net::awaitable<int> {
        net::steady_timer t(co_await net::this_coro::executor, 50ms);
        co_await t.async_wait(net::use_awaitable);
        co_return x;
    }, 1);
    net::io_context io;
    auto client = connect<int, int>(io, {server.bound()});
    std::optional<dx::result<std::vector<int>>> r;
    const auto t0 = clock_type::now();
    client.async_request_batch(std::vector<int>(100, 1), 1, 300ms, [&](auto x) { r.emplace(std::move(x)); });
    BOOST_TEST(run_until(io, [&] { return r.has_value(); }));
    BOOST_TEST(code_of(*r) == code(dx::error::timeout));
    BOOST_TEST(seconds_since(t0) < 2.0);
}

BOOST_AUTO_TEST_CASE(with_no_serving_process_requests_wait_or_are_rejected)
{
    const std::string ep = endpoint("ipc");
    net::io_context io;
    dx::zmq_client_options reject;
    reject.on_full = dx::overflow::reject;
    auto rejecting = connect<int, int>(io, {ep}, reject);
    auto waiting = connect<int, int>(io, {ep});
    outcome rejected, waited, expired;
    rejecting.async_request(1, record(rejected));
    waiting.async_request(2, 150ms, record(expired));
    BOOST_TEST(run_until(io, [&] { return rejected.done() && expired.done(); }));
    BOOST_TEST(rejected.is(dx::error::queue_full));
    BOOST_TEST(expired.is(dx::error::timeout));
    BOOST_TEST((expired.elapsed() >= 140ms));

    // A request waiting for a serving process goes through once one binds.
    waiting.async_request(3, 10s, record(waited));
    run_until(io, [] { return false; }, 100ms);
    BOOST_TEST(!waited.done());
    remote_server<int, int> server(ep, [](int x) { return x * 3; });
    BOOST_TEST(run_until(io, [&] { return waited.done(); }));
    BOOST_TEST(waited.holds(9));
}

BOOST_AUTO_TEST_CASE(bad_endpoints_and_empty_lists_are_errors_not_exceptions)
{
    net::io_context io;
    auto none = dx::make_zmq_client<int, int>(io.get_executor(), {});
    BOOST_TEST(code_of(none) == code(dx::error::invalid_argument));
    auto bad = dx::make_zmq_client<int, int>(io.get_executor(), {"nonsense://x"});
    BOOST_TEST(!bad.has_value());

    auto [local, responder] = dx::make_asio_channel<int, int>(io.get_executor());
    std::optional<boost::system::error_code> served;
    dx::async_serve_zmq("tcp://256.0.0.1:1", local, [&](dx::result<void> r) { served = code_of(r); });
    BOOST_TEST(!served.has_value());  // never inside the initiating function
    BOOST_TEST(run_until(io, [&] { return served.has_value(); }));
    BOOST_TEST(static_cast<bool>(*served));
}

BOOST_AUTO_TEST_CASE(an_idle_client_keeps_no_io_context_running)
{
    remote_server<int, int> server(endpoint("inproc"), [](int x) { return x; });
    net::io_context io;
    auto client = connect<int, int>(io, {server.bound()});
    outcome o;
    client.async_request(1, record(o));
    // run() returns by itself once the one request is answered: nothing
    // (timer, socket wait) is left pending while the client is idle.
    std::thread watchdog_thread;
    std::atomic<bool> returned{false};
    watchdog_thread = std::thread([&] {
        for (int i = 0; i < 500 && !returned; ++i)
            std::this_thread::sleep_for(10ms);
        if (!returned)
            io.stop();
    });
    io.run();
    returned = true;
    watchdog_thread.join();
    BOOST_TEST(o.holds(1));
    BOOST_TEST(io.stopped());
    // And it serves again afterwards.
    outcome again;
    client.async_request(2, record(again));
    BOOST_TEST(run_until(io, [&] { return again.done(); }));
    BOOST_TEST(again.holds(2));
}

BOOST_AUTO_TEST_CASE(many_threads_share_one_client)
{
    remote_server<int, int> server(endpoint("inproc"), [](int x) { return x + 1; });
    net::io_context io;
    auto client = connect<int, int>(io, {server.bound()});
    constexpr int threads = 4, per_thread = 500;
    std::atomic<int> ok{0}, wrong{0};
    event ev;
    std::vector<std::thread> senders;
    for (int t = 0; t < threads; ++t)
        senders.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                const int v = t * per_thread + i;
                client.async_request(v, [&, v](dx::result<int> r) {
                    (r && r.value() == v + 1 ? ok : wrong)++;
                    ev.notify();
                });
            }
        });
    for (auto& s : senders)
        s.join();
    BOOST_TEST(run_threads_until(io, 2, ev, [&] { return ok + wrong == threads * per_thread; }, 20s));
    BOOST_TEST(ok == threads * per_thread);
    BOOST_TEST(wrong == 0);
}

BOOST_AUTO_TEST_CASE(two_serving_sides_share_the_load)
{
    std::atomic<int> a{0}, b{0};
    remote_server<int, int> s1(endpoint("inproc"), [&](int x) -> net::awaitable<int> {
        ++a;
        net::steady_timer t(co_await net::this_coro::executor, 2ms);
        co_await t.async_wait(net::use_awaitable);
        co_return x;
    });
    remote_server<int, int> s2(endpoint("inproc"), [&](int x) -> net::awaitable<int> {
        ++b;
        net::steady_timer t(co_await net::this_coro::executor, 2ms);
        co_await t.async_wait(net::use_awaitable);
        co_return x;
    });
    net::io_context io;
    auto client = connect<int, int>(io, {s1.bound(), s2.bound()});
    std::vector<outcome> out(200);
    for (int i = 0; i < 200; ++i)
        client.async_request(i, record(out[static_cast<std::size_t>(i)]));
    BOOST_TEST(run_until(io, [&] { return all_done(out); }));
    for (int i = 0; i < 200; ++i)
        BOOST_TEST(out[static_cast<std::size_t>(i)].holds(i));
    BOOST_TEST(a + b == 200);
    BOOST_TEST(a >= 50);
    BOOST_TEST(b >= 50);
}
