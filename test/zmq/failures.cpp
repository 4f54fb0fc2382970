//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The remote failure model in one process (doc/zmq.md, "Failure model"):
// deadlines honoured at both ends, cancellation reaching the serving queue,
// a serving process that stops answering (peer loss and recovery), a client
// that goes away (its requests withdrawn), and stopping the serving side.

#define BOOST_TEST_MODULE zmq_failures
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <mutex>
#include <set>

#include <sys/resource.h>

using namespace duplex_test;

namespace {

// A handler that records what it starts, and holds request 0 (and those
// marked as slow, >= 1000) until `g` opens or the request is withdrawn.
struct holding_handler {
    gate* g;
    std::mutex* m;
    std::vector<int>* started;
    std::atomic<int>* withdrawn;

    net::awaitable<int> operator()(int x) const
    {
        {
            std::lock_guard lock(*m);
            started->push_back(x);
        }
        if (x == 0 || x >= 1000) {
            const bool open = co_await g->wait();
            if (!open)
                ++*withdrawn;
        }
        co_return x;
    }
};

struct held_server {
    gate g;
    std::mutex m;
    std::vector<int> started;
    std::atomic<int> withdrawn{0};
    remote_server<int, int> server;

    explicit held_server(std::size_t concurrency = 1, dx::zmq_serve_options sopts = {}, std::string transport = "inproc")
        : server(endpoint(transport), holding_handler{&g, &m, &started, &withdrawn}, concurrency, {}, sopts)
    {
    }

    held_server(const held_server&) = delete;
    held_server& operator=(const held_server&) = delete;

    // The gate's timers belong to the server's io_context: they go while it lives.
    ~held_server() { g.open(); }

    bool saw(int x)
    {
        std::lock_guard lock(m);
        return std::find(started.begin(), started.end(), x) != started.end();
    }

    std::size_t count()
    {
        std::lock_guard lock(m);
        return started.size();
    }
};

// One remote request running (1000, held) and one queued behind it (5) in
// a serving channel of limit 1, each with a cancellation signal.
struct running_and_queued {
    held_server s;
    net::io_context io;
    dx::zmq_client<int, int> client = connect<int, int>(io, {s.server.bound()});
    net::cancellation_signal running_sig, queued_sig;
    outcome running, queued;

    running_and_queued()
    {
        client.async_request(1000, 10s, net::bind_cancellation_slot(running_sig.slot(), record(running)));
        BOOST_TEST(run_until(io, [&] { return s.saw(1000); }));
        client.async_request(5, 10s, net::bind_cancellation_slot(queued_sig.slot(), record(queued)));
        BOOST_TEST(run_until(io, [&] { return s.server.stats().queued == 1u; }));
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(the_client_times_out_at_its_deadline_whatever_the_server_does)
{
    held_server s;
    net::io_context io;
    auto client = connect<int, int>(io, {s.server.bound()});
    outcome held;
    client.async_request(0, 200ms, record(held));
    BOOST_TEST(run_until(io, [&] { return held.done(); }));
    BOOST_TEST(held.is(dx::error::timeout));
    BOOST_TEST((held.elapsed() >= 190ms));
    BOOST_TEST((held.elapsed() < 1500ms));
    // The serving side's deadline (the time that remained) ended it there
    // too, as it ends a local request whose handler runs late.
    BOOST_TEST(run_until(io, [&] { return s.server.stats().timed_out == 1u; }));
    s.g.open();
}

BOOST_AUTO_TEST_CASE(a_deadline_that_passes_in_the_remote_queue_never_reaches_the_handler)
{
    held_server s;
    net::io_context io;
    auto client = connect<int, int>(io, {s.server.bound()});
    outcome blocker, queued;
    client.async_request(0, 10s, record(blocker));
    BOOST_TEST(run_until(io, [&] { return s.saw(0); }));
    client.async_request(7, 150ms, record(queued));
    BOOST_TEST(run_until(io, [&] { return queued.done(); }));
    BOOST_TEST(queued.is(dx::error::timeout));
    // The serving side's own deadline (the time that remained) ended it
    // there too: it counts as timed out and never starts.
    BOOST_TEST(run_until(io, [&] { return s.server.stats().timed_out == 1u; }));
    s.g.open();
    BOOST_TEST(run_until(io, [&] { return blocker.done(); }));
    BOOST_TEST(blocker.holds(0));
    BOOST_TEST(!s.saw(7));
}

BOOST_AUTO_TEST_CASE(the_serving_side_sees_the_time_that_remains)
{
    // A request that already spent its time waiting here (no serving
    // process yet) arrives with what remains, not with its full timeout.
    const std::string ep = endpoint("ipc");
    net::io_context io;
    auto client = connect<int, int>(io, {ep});
    outcome o;
    client.async_request(3, 400ms, record(o));
    run_until(io, [] { return false; }, 250ms);
    std::atomic<long long> remaining_ms{-1};
    remote_server<int, int> server(ep, [&](int x) -> net::awaitable<int> {
        // Sleep past what remains: the serving channel's deadline must end it.
        net::steady_timer t(co_await net::this_coro::executor, 300ms);
        co_await t.async_wait(net::as_tuple(net::use_awaitable));
        remaining_ms = 0;
        co_return x;
    });
    BOOST_TEST(run_until(io, [&] { return o.done(); }));
    BOOST_TEST(o.is(dx::error::timeout));
    BOOST_TEST((o.elapsed() < 1000ms));
    BOOST_TEST(run_until(io, [&] { return server.stats().timed_out == 1u; }));
}

BOOST_AUTO_TEST_CASE(terminal_cancellation_withdraws_the_remote_request_queued_or_running)
{
    running_and_queued f;
    auto& s = f.s;
    auto& io = f.io;
    auto& running = f.running;
    auto& queued = f.queued;

    f.queued_sig.emit(net::cancellation_type::terminal);
    BOOST_TEST(run_until(io, [&] { return queued.done(); }));
    BOOST_TEST(queued.is(dx::error::cancelled));
    BOOST_TEST(run_until(io, [&] { return s.server.stats().cancelled == 1u; }));

    f.running_sig.emit(net::cancellation_type::terminal);
    BOOST_TEST(run_until(io, [&] { return running.done(); }));
    BOOST_TEST(running.is(dx::error::cancelled));
    // The running handler got the terminal cancellation through its slot.
    BOOST_TEST(run_until(io, [&] { return s.withdrawn == 1; }));
    BOOST_TEST(!s.saw(5));
    BOOST_TEST(running.completions == 1);
    BOOST_TEST(queued.completions == 1);
}

BOOST_AUTO_TEST_CASE(partial_cancellation_works_while_queued_remotely_and_not_once_running)
{
    running_and_queued f;
    auto& s = f.s;
    auto& io = f.io;
    auto& running = f.running;
    auto& queued = f.queued;

    f.queued_sig.emit(net::cancellation_type::partial);
    BOOST_TEST(run_until(io, [&] { return queued.done(); }));
    BOOST_TEST(queued.is(dx::error::cancelled));

    // Running already: `total` has no effect; the response comes.
    f.running_sig.emit(net::cancellation_type::total);
    run_until(io, [&] { return running.done(); }, 200ms);
    BOOST_TEST(!running.done());
    s.g.open();
    BOOST_TEST(run_until(io, [&] { return running.done(); }));
    BOOST_TEST(running.holds(1000));
    BOOST_TEST(!s.saw(5));
}

BOOST_AUTO_TEST_CASE(cancelling_a_request_that_waits_for_a_serving_process_withdraws_it_here)
{
    net::io_context io;
    auto client = connect<int, int>(io, {endpoint("ipc")});
    net::cancellation_signal sig;
    outcome o;
    client.async_request(1, 10s, net::bind_cancellation_slot(sig.slot(), record(o)));
    run_until(io, [] { return false; }, 50ms);
    sig.emit(net::cancellation_type::partial);
    BOOST_TEST(run_until(io, [&] { return o.done(); }));
    BOOST_TEST(o.is(dx::error::cancelled));
}

BOOST_AUTO_TEST_CASE(a_hung_serving_process_is_lost_within_the_bound_and_found_again)
{
    held_server s(4);
    net::io_context io;
    dx::zmq_client_options opts;
    opts.peer_timeout = 400ms;
    auto client = connect<int, int>(io, {s.server.bound()}, opts);
    // A long request is fine while the server answers heartbeats.
    outcome slow;
    client.async_request(1000, 10s, record(slow));
    run_until(io, [] { return false; }, 1000ms);
    BOOST_TEST(!slow.done());

    // Now the serving thread hangs: no pong, no reply.
    s.server.stall();
    const auto hung_at = clock_type::now();
    std::vector<outcome> pending(5);
    for (auto& o : pending)
        client.async_request(1001, 10s, record(o));
    BOOST_TEST(run_until(io, [&] { return slow.done() && all_done(pending); }));
    const auto closed_after = clock_type::now() - hung_at;
    BOOST_TEST(slow.is(dx::error::closed));
    for (auto& o : pending)
        BOOST_TEST(o.is(dx::error::closed));
    const double closed_ms = std::chrono::duration<double, std::milli>(closed_after).count();
    BOOST_TEST_MESSAGE("pending requests closed " << closed_ms << " ms after the serving thread hung (bound 400 ms)");
    // The bound counts from the last time the server was heard from, which
    // is before it hung: generous slack for a loaded machine only.
    BOOST_TEST((closed_after < 400ms + 600ms));

    // It comes back: new requests go through (late replies to the closed
    // ones are dropped, never delivered to anyone).
    s.g.open();
    s.server.unstall();
    outcome after;
    client.async_request(1, 5s, record(after));
    BOOST_TEST(run_until(io, [&] { return after.done(); }));
    BOOST_TEST(after.holds(1));
    BOOST_TEST(slow.completions == 1);
}

BOOST_AUTO_TEST_CASE(a_lost_client_has_its_requests_withdrawn_by_the_serving_side)
{
    dx::zmq_serve_options sopts;
    sopts.peer_timeout = 300ms;
    held_server s(4, sopts);
    {
        net::io_context io;
        auto client = connect<int, int>(io, {s.server.bound()});
        outcome o;
        client.async_request(1000, 30s, record(o));
        BOOST_TEST(run_until(io, [&] { return s.saw(1000); }));
        // The client's io_context stops running: no more pings.
    }
    // Within the bound, the serving side withdraws the request (a terminal
    // cancellation reaches the handler).
    const auto t0 = clock_type::now();
    while (s.withdrawn == 0 && clock_type::now() - t0 < 5s)
        std::this_thread::sleep_for(5ms);
    BOOST_TEST(s.withdrawn == 1);
    BOOST_TEST((clock_type::now() - t0 < 300ms + 1000ms));
}

BOOST_AUTO_TEST_CASE(a_graceful_stop_answers_what_is_in_flight_and_refuses_the_rest)
{
    held_server s(1);
    net::io_context io;
    auto client = connect<int, int>(io, {s.server.bound()});
    outcome in_flight, later;
    client.async_request(0, 10s, record(in_flight));
    BOOST_TEST(run_until(io, [&] { return s.saw(0); }));
    s.server.stop(net::cancellation_type::total);
    run_until(io, [] { return false; }, 50ms);
    client.async_request(2, 10s, record(later));
    BOOST_TEST(run_until(io, [&] { return later.done(); }));
    BOOST_TEST(later.is(dx::error::closed));
    BOOST_TEST(!in_flight.done());
    s.g.open();
    BOOST_TEST(run_until(io, [&] { return in_flight.done(); }));
    BOOST_TEST(in_flight.holds(0));
    BOOST_TEST(s.server.wait_served(5s));
    BOOST_TEST(!s.server.served());
}

BOOST_AUTO_TEST_CASE(a_terminal_stop_withdraws_what_is_in_flight_and_answers_closed)
{
    held_server s(1);
    net::io_context io;
    auto client = connect<int, int>(io, {s.server.bound()});
    outcome in_flight;
    client.async_request(0, 10s, record(in_flight));
    BOOST_TEST(run_until(io, [&] { return s.saw(0); }));
    s.server.stop(net::cancellation_type::terminal);
    BOOST_TEST(run_until(io, [&] { return in_flight.done(); }));
    BOOST_TEST(in_flight.is(dx::error::closed));
    BOOST_TEST(s.server.wait_served(5s));
    BOOST_TEST(s.server.served() == code(dx::error::cancelled));
    BOOST_TEST(run_until(io, [&] { return s.withdrawn == 1; }));
}

BOOST_AUTO_TEST_CASE(a_full_send_queue_is_never_a_silent_drop)
{
    // Small high-water marks, 2 KB requests (more than the kernel's socket
    // buffers hold) and a serving side that does not read for a while:
    // requests either wait for room (and go through) or, with
    // overflow::reject, fail with queue_full. None is lost.
    dx::zmq_serve_options sopts;
    sopts.receive_high_water_mark = 4;
    remote_server<std::string, std::string> server(endpoint("ipc"), [](std::string x) { return x; }, 8, {}, sopts);
    net::io_context io;
    dx::zmq_client_options wait_opts, reject_opts;
    wait_opts.send_high_water_mark = 4;
    reject_opts.send_high_water_mark = 4;
    reject_opts.on_full = dx::overflow::reject;
    // The stall is no peer loss here, however slow this build is.
    wait_opts.peer_timeout = reject_opts.peer_timeout = 60s;
    auto waiting = connect<std::string, std::string>(io, {server.bound()}, wait_opts);
    auto rejecting = connect<std::string, std::string>(io, {server.bound()}, reject_opts);
    // The connections come up before the server stalls.
    std::optional<dx::result<std::string>> w0, r0;
    waiting.async_request("x", [&](auto r) { w0.emplace(std::move(r)); });
    rejecting.async_request("x", [&](auto r) { r0.emplace(std::move(r)); });
    BOOST_TEST(run_until(io, [&] { return w0 && r0; }));
    server.stall();
    constexpr std::size_t n = 1500;
    auto payload = [](std::size_t i) { return std::to_string(i) + std::string(2048, 'p'); };
    std::vector<std::optional<dx::result<std::string>>> w(n), r(n);
    for (std::size_t i = 0; i < n; ++i) {
        waiting.async_request(payload(i), 30s, [&w, i](auto x) { w[i].emplace(std::move(x)); });
        rejecting.async_request(payload(i), 30s, [&r, i](auto x) { r[i].emplace(std::move(x)); });
    }
    run_until(io, [] { return false; }, 300ms);
    std::size_t rejected = 0;
    for (auto& o : r)
        rejected += o && code_of(*o) == code(dx::error::queue_full);
    BOOST_TEST(rejected > 0u);
    server.unstall();
    auto all = [](const auto& v) {
        for (auto& o : v)
            if (!o)
                return false;
        return true;
    };
    BOOST_TEST(run_until(io, [&] { return all(w) && all(r); }, 30s));
    std::size_t answered = 0, wrong = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const bool right = w[i] && w[i]->has_value() && w[i]->value() == payload(i);
        if (!right && wrong++ == 0)
            BOOST_TEST_MESSAGE("waiting request " << i << ": "
                                                  << (!w[i] ? "pending" : w[i]->has_value() ? "wrong value" : w[i]->error().message()));
        BOOST_TEST(right);
        const bool ok = r[i] && r[i]->has_value() && r[i]->value() == payload(i);
        answered += ok;
        BOOST_TEST((ok || (r[i] && code_of(*r[i]) == code(dx::error::queue_full))));
    }
    BOOST_TEST_MESSAGE("reject: " << rejected << " queue_full, " << answered << " answered, of " << n);
}

namespace {

double process_cpu_seconds()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

}  // namespace

BOOST_AUTO_TEST_CASE(idle_clients_and_servers_use_no_cpu_beyond_heartbeats)
{
    held_server s(4);
    net::io_context io;
    auto client = connect<int, int>(io, {s.server.bound()});
    outcome first;
    client.async_request(1, record(first));
    BOOST_TEST(run_until(io, [&] { return first.done(); }));

    // Idle: nothing pending. The whole process (client, serving side, both
    // ZeroMQ I/O threads) sleeps.
    double cpu0 = process_cpu_seconds();
    std::this_thread::sleep_for(1s);
    const double idle = process_cpu_seconds() - cpu0;
    BOOST_TEST(idle < 0.05, idle << " s of CPU in 1 s of idleness");

    // Waiting on a request the handler holds: heartbeats only (4 a second).
    outcome held;
    client.async_request(1000, 10s, record(held));
    BOOST_TEST(run_until(io, [&] { return s.saw(1000); }));
    cpu0 = process_cpu_seconds();
    io.run_for(1s);
    const double waiting = process_cpu_seconds() - cpu0;
    BOOST_TEST(waiting < 0.05, waiting << " s of CPU in 1 s of waiting");
    BOOST_TEST(!held.done());
    s.g.open();
    BOOST_TEST(run_until(io, [&] { return held.done(); }));
    BOOST_TEST(held.holds(1000));
}
