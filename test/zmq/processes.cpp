//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Remote clients against serving processes that the test starts itself
// (zmq_test_server, over tcp://127.0.0.1): round trips, deadlines and
// cancellation honoured in the other process, kill -9 (pending requests
// closed within the bound, a restarted process serves again), two processes
// sharing the load, and frames that are not ours.

#define BOOST_TEST_MODULE zmq_processes
#include <boost/test/unit_test.hpp>

#include "common.hpp"
#include "process.hpp"

#include <map>
#include <set>

using namespace duplex_test;

namespace {

using str = std::string;
using str_outcome = std::optional<dx::result<str>>;

auto keep(str_outcome& o)
{
    return [&o](dx::result<str> r) { o.emplace(std::move(r)); };
}

bool done(const std::vector<str_outcome>& v)
{
    for (auto& o : v)
        if (!o)
            return false;
    return true;
}

std::string value_or_error(const str_outcome& o)
{
    if (!o)
        return "(pending)";
    return o->has_value() ? o->value() : "error: " + o->error().message();
}

// Asks the serving process something, waits for the answer.
std::string ask(net::io_context& io, dx::zmq_client<str, str>& c, const std::string& q)
{
    str_outcome o;
    c.async_request(q, 10s, keep(o));
    if (!run_until(io, [&] { return o.has_value(); }, 15s))
        return "(no answer)";
    return value_or_error(o);
}

}  // namespace

BOOST_AUTO_TEST_CASE(round_trips_between_processes_over_tcp)
{
    server_process server({"--endpoint", "tcp://127.0.0.1:*"});
    net::io_context io;
    auto client = connect<str, str>(io, {server.endpoint()});
    const std::string pid = std::to_string(server.pid());
    std::vector<str_outcome> out(500);
    for (std::size_t i = 0; i < out.size(); ++i)
        client.async_request("echo:" + std::to_string(i), keep(out[i]));
    BOOST_TEST(run_until(io, [&] { return done(out); }, 20s));
    for (std::size_t i = 0; i < out.size(); ++i)
        BOOST_TEST(value_or_error(out[i]) == pid + ":" + std::to_string(i));
}

BOOST_AUTO_TEST_CASE(a_slow_remote_handler_the_deadline_and_the_remote_queue)
{
    server_process server({"--endpoint", "tcp://127.0.0.1:*", "--concurrency", "1"});
    net::io_context io;
    auto client = connect<str, str>(io, {server.endpoint()});
    str_outcome slow, queued;
    client.async_request("sleep:800:slow", 10s, keep(slow));
    const auto t0 = clock_type::now();
    client.async_request("echo:queued", 200ms, keep(queued));
    BOOST_TEST(run_until(io, [&] { return queued.has_value(); }));
    const auto waited = clock_type::now() - t0;
    BOOST_TEST(code_of(*queued) == code(dx::error::timeout));
    BOOST_TEST((waited >= 190ms));
    BOOST_TEST((waited < 700ms));  // at its deadline, not when the slow one ends
    BOOST_TEST(run_until(io, [&] { return slow.has_value(); }));
    BOOST_TEST(value_or_error(slow) == std::to_string(server.pid()) + ":slow");
    // Its deadline passed in the serving process's queue: never started there.
    BOOST_TEST(ask(io, client, "seen:queued") == "no");
    BOOST_TEST(ask(io, client, "stats").find("timed_out=1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(cancellation_reaches_the_remote_queue)
{
    server_process server({"--endpoint", "tcp://127.0.0.1:*", "--concurrency", "1"});
    net::io_context io;
    auto client = connect<str, str>(io, {server.endpoint()});
    str_outcome slow, cancelled;
    net::cancellation_signal sig;
    client.async_request("sleep:500:slow", 10s, keep(slow));
    client.async_request("echo:cancelled", 10s, net::bind_cancellation_slot(sig.slot(), keep(cancelled)));
    // Once sent (the request reaches the serving process before its cancel:
    // one connection keeps their order).
    run_until(io, [] { return false; }, 20ms);
    sig.emit(net::cancellation_type::terminal);
    BOOST_TEST(run_until(io, [&] { return cancelled.has_value(); }));
    BOOST_TEST(code_of(*cancelled) == code(dx::error::cancelled));
    BOOST_TEST(run_until(io, [&] { return slow.has_value(); }));
    BOOST_TEST(ask(io, client, "seen:cancelled") == "no");
    BOOST_TEST(ask(io, client, "stats").find("cancelled=1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(kill_9_closes_what_is_pending_within_the_bound_and_a_restart_serves_again)
{
    auto server = std::make_unique<server_process>(std::vector<std::string>{"--endpoint", "tcp://127.0.0.1:*",
                                                                            "--concurrency", "32"});
    const std::string ep = server->endpoint();  // the port the restarted process binds again
    net::io_context io;
    dx::zmq_client_options opts;
    opts.peer_timeout = 500ms;
    auto client = connect<str, str>(io, {ep}, opts);
    std::vector<str_outcome> pending(10);
    for (std::size_t i = 0; i < pending.size(); ++i)
        client.async_request("sleep:20000:p" + std::to_string(i), 30s, keep(pending[i]));
    // Answered after those were received (one connection keeps the order).
    BOOST_TEST(ask(io, client, "echo:ready").find(":ready") != std::string::npos);

    server->kill(SIGKILL);
    const auto killed_at = clock_type::now();
    BOOST_TEST(run_until(io, [&] { return done(pending); }, 10s));
    const auto took = clock_type::now() - killed_at;
    for (auto& o : pending)
        BOOST_TEST(code_of(*o) == code(dx::error::closed));
    const double ms = std::chrono::duration<double, std::milli>(took).count();
    BOOST_TEST_MESSAGE("kill -9: pending requests closed after " << ms << " ms (bound 500 ms)");
    BOOST_TEST((took < 500ms + 500ms));  // the bound, and slack for a loaded machine

    server = std::make_unique<server_process>(std::vector<std::string>{"--endpoint", ep});
    const std::string answer = ask(io, client, "echo:back");
    BOOST_TEST(answer == std::to_string(server->pid()) + ":back");
}

BOOST_AUTO_TEST_CASE(two_serving_processes_share_the_load)
{
    server_process a({"--endpoint", "tcp://127.0.0.1:*"});
    server_process b({"--endpoint", "tcp://127.0.0.1:*"});
    net::io_context io;
    auto client = connect<str, str>(io, {a.endpoint(), b.endpoint()});
    // Both connections up first (a request goes only to a connected
    // process), so that the spread is not about who came first.
    std::set<std::string> answered_by;
    for (int i = 0; i < 200 && answered_by.size() < 2; ++i) {
        const std::string v = ask(io, client, "echo:warm");
        answered_by.insert(v.substr(0, v.find(':')));
        if (answered_by.size() < 2)
            run_until(io, [] { return false; }, 10ms);
    }
    BOOST_TEST(answered_by.size() == 2u);
    std::vector<str_outcome> out(400);
    for (std::size_t i = 0; i < out.size(); ++i)
        client.async_request("sleep:2:" + std::to_string(i), 20s, keep(out[i]));
    BOOST_TEST(run_until(io, [&] { return done(out); }, 30s));
    std::map<std::string, int> by_pid;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const std::string v = value_or_error(out[i]);
        const auto colon = v.find(':');
        BOOST_TEST(v.substr(colon + 1) == std::to_string(i));
        ++by_pid[v.substr(0, colon)];
    }
    BOOST_TEST(by_pid.size() == 2u);
    BOOST_TEST(by_pid[std::to_string(a.pid())] >= 100);
    BOOST_TEST(by_pid[std::to_string(b.pid())] >= 100);
}

BOOST_AUTO_TEST_CASE(frames_that_are_not_ours_leave_the_connection_usable)
{
    server_process server({"--endpoint", "tcp://127.0.0.1:*"});
    zmq::context_t ctx;
    zmq::socket_t raw(ctx, zmq::socket_type::dealer);
    raw.set(zmq::sockopt::linger, 0);
    raw.set(zmq::sockopt::rcvtimeo, 10000);
    raw.connect(server.endpoint());
    namespace wire = dx::detail::zmq_wire;
    raw.send(zmq::str_buffer("not an envelope"), zmq::send_flags::none);
    unsigned char other_version[wire::request_header + 4] = {9, 1};
    raw.send(zmq::buffer(other_version), zmq::send_flags::none);
    unsigned char cut[6] = {wire::version, 1, 0, 0, 0, 0};
    raw.send(zmq::buffer(cut), zmq::send_flags::none);
    raw.send(zmq::str_buffer("two"), zmq::send_flags::sndmore);
    raw.send(zmq::str_buffer("frames"), zmq::send_flags::none);

    // Then a well-formed request on the same connection is answered.
    std::vector<unsigned char> req(wire::request_header);
    wire::write_request(req.data(), {42, wire::encode_remaining(5s), dx::priority::normal, 0});
    const std::string body = "echo:raw";
    req.insert(req.end(), body.begin(), body.end());
    raw.send(zmq::buffer(req), zmq::send_flags::none);
    zmq::message_t reply;
    BOOST_REQUIRE(raw.recv(reply).has_value());
    const auto* p = static_cast<const unsigned char*>(reply.data());
    BOOST_REQUIRE(reply.size() >= wire::reply_header);
    BOOST_TEST((wire::kind_of({p, reply.size()}) == wire::kind::reply));
    BOOST_TEST(wire::get_u64(p + 2) == 42u);
    BOOST_TEST(p[10] == 0);
    BOOST_TEST(std::string(reinterpret_cast<const char*>(p) + wire::reply_header, reply.size() - wire::reply_header) ==
               std::to_string(server.pid()) + ":raw");
}
