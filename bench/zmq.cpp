//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// duplex_zmq_bench: the remote part (issue #14) against plain cppzmq, with
// the serving side in other processes.
//
// Contenders:
//   duplex  zmq_client (use_awaitable coroutines) -> async_serve_zmq -> a local
//           asio channel (default channel_options, fixed_concurrency{64}) -> an
//           echo handler; binary_codec, std::uint64_t request and response.
//   raw     cppzmq written plainly: a ROUTER that receives each frame (routing
//           id, body) and sends it straight back, in a blocking loop; a DEALER
//           client with blocking send/recv. A request is one 16-byte frame: an
//           8-byte id and an 8-byte payload (derived from the id), both checked
//           on the way back. W2 keeps 64 requests outstanding on that one
//           DEALER and matches each reply to its slot by the id.
//
// Workloads:
//   W1  one client, sequential round trips (after a warm-up): mean over the
//       window, p50/p99 of the requests timed one by one.
//   W2  64 clients with one request outstanding each (64 coroutines on one
//       io_context, each looping co_await async_request; raw: the one DEALER
//       above): requests per second.
// Each over ipc:// and tcp://127.0.0.1, with one serving process and with
// two (the client connects to both).
//
// The serving processes are this program re-executed (posix_spawn of
// /proc/self/exe with --serve KIND ENDPOINT; the environment variable
// DUPLEX_ZMQ_BENCH_SERVER names another program to start instead, e.g. a
// script running this one under a profiler): nothing of the client's ZeroMQ
// context or threads is inherited. A server prints the endpoint it is bound
// to on stdout, answers "s" on stdin with its CPU time and allocation count
// (so that the window's server cost is measured too), ends on SIGTERM, and
// on end of file on stdin (the benchmark went away).
//
// Per run, measured over a window that opens after the warm-up: wall time,
// the client process's CPU time (getrusage RUSAGE_SELF, every thread,
// libzmq's I/O thread included) and its heap allocations (alloc_counter.hpp,
// every thread), and the same two figures for the serving processes (summed),
// and the CPU time of the machine's other processes (/proc/stat), which on a
// small virtual machine changes how fast a thread wakes up another (see
// bench/README.md). Every answer is checked; a wrong or missing one is an
// error (exit code 1). Every configuration runs both contenders, in an order
// that alternates, --reps times (default 5); the tables give medians and the
// ratios ours/raw against the targets (W2 throughput >= 0.8x, W1 mean
// round trip <= 1.25x), informative only.
//
//   duplex_zmq_bench [--quick] [--reps N] [--scale X] [--only W1,W2]
//                    [--transport ipc,tcp] [--servers 1,2] [--out DIR]
//                    [--run-limit SECONDS] [--contender duplex,raw]
//
// Exit code: 0; 1 if an answer was wrong or missing, or a server failed;
// 2 for a bad command line; 3 if a run hung (took more than --run-limit,
// default 120 s: the watchdog names it, kills the servers and ends the program).

// DUPLEX_ZMQ_BENCH_NO_ALLOC_COUNTER: no allocation counter (the figures
// read 0), for a build run under valgrind's dhat or massif, which must see
// the program's allocations go through glibc's malloc.
#if !defined(DUPLEX_ZMQ_BENCH_NO_ALLOC_COUNTER)
#define BOOST_DUPLEX_BENCH_ALLOC_COUNTER_DEFINE
#endif
#include "alloc_counter.hpp"

#include <boost/duplex/asio.hpp>
#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/zmq.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <zmq.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

#if defined(DUPLEX_ZMQ_BENCH_NO_ALLOC_COUNTER)
bool boost::duplex::bench::allocation_counting() noexcept { return false; }
#endif

namespace {

namespace net = boost::asio;
namespace dx = boost::duplex;
namespace ab = boost::duplex::bench;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t w2_clients = 64;
constexpr std::uint64_t raw_mix = 0x9e3779b97f4a7c15ull;  // raw payload = id * raw_mix

double process_cpu_seconds()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

// ---------------------------------------------------------------------------
// The serving processes (--serve KIND ENDPOINT)
// ---------------------------------------------------------------------------

// Answers "s" on stdin with "<cpu ns> <allocations>\n" on stdout; ends the
// process at end of file (the benchmark is gone). Allocates nothing.
void start_stats_thread()
{
    std::thread([] {
        char in[64];
        for (;;) {
            const ssize_t n = ::read(0, in, sizeof in);
            if (n == 0 || (n < 0 && errno != EINTR))
                ::_exit(0);
            for (ssize_t i = 0; i < n; ++i) {
                if (in[i] != 's')
                    continue;
                char out[80];
                const auto ns = static_cast<unsigned long long>(process_cpu_seconds() * 1e9);
                const int len = std::snprintf(out, sizeof out, "%llu %llu\n", ns,
                                              static_cast<unsigned long long>(ab::allocations().count));
                if (::write(1, out, static_cast<std::size_t>(len)) < 0)
                    ::_exit(0);
            }
        }
    }).detach();
}

void announce(const std::string& endpoint)
{
    std::printf("%s\n", endpoint.c_str());
    std::fflush(stdout);
}

int serve_duplex(const std::string& endpoint)
{
    net::io_context io(1);
    auto channel = dx::make_asio_channel<std::uint64_t, std::uint64_t>(io.get_executor(), dx::channel_options{});
    auto& local = channel.first;
    auto& responder = channel.second;  // not a structured binding: the handler below captures it
    responder.async_run([](std::uint64_t x) { return x; }, dx::fixed_concurrency{64}, [](dx::result<void> r) {
        if (!r)
            std::fprintf(stderr, "duplex_zmq_bench server: async_run: %s\n", r.error().message().c_str());
    });
    dx::zmq_serve_options opts;
    opts.on_listening = announce;
    int status = 0;
    dx::async_serve_zmq(endpoint, local, opts, [&](dx::result<void> r) {
        if (!r) {
            std::fprintf(stderr, "duplex_zmq_bench server: async_serve_zmq(%s): %s\n", endpoint.c_str(),
                         r.error().message().c_str());
            status = 1;
        }
        responder.stop();
    });
    start_stats_thread();
    io.run();
    return status;
}

// The plain echo: every frame (the routing id, then the body) goes straight
// back as it comes, with its `more` flag.
int serve_raw(const std::string& endpoint)
{
    try {
        zmq::context_t ctx(1);
        zmq::socket_t s(ctx, zmq::socket_type::router);
        s.set(zmq::sockopt::linger, 0);
        s.bind(endpoint);
        announce(s.get(zmq::sockopt::last_endpoint));
        start_stats_thread();
        zmq::message_t m;
        for (;;) {
            if (!s.recv(m, zmq::recv_flags::none))
                continue;
            const bool more = m.more();
            s.send(m, more ? zmq::send_flags::sndmore : zmq::send_flags::none);
        }
    } catch (const zmq::error_t& e) {
        std::fprintf(stderr, "duplex_zmq_bench server: %s: %s\n", endpoint.c_str(), e.what());
        return 1;
    }
}

// ---------------------------------------------------------------------------
// The serving processes, seen from the benchmark
// ---------------------------------------------------------------------------

struct server_proc {
    pid_t pid = -1;
    int to_child = -1;    // its stdin
    int from_child = -1;  // its stdout
    std::string buffered;
    std::string endpoint;  // as bound
    std::string ipc_path;  // to remove at the end (ipc://)
};

// The watchdog's view: the running servers, to kill if a run hangs, and
// their ipc:// files, to remove then (a server killed leaves its file).
std::array<std::atomic<pid_t>, 8> g_pids{};
std::array<std::array<char, 128>, 8> g_ipc_paths{};  // written before the pid is registered
std::atomic<std::int64_t> g_deadline{INT64_MAX};  // steady_clock ns
std::mutex g_run_mutex;
std::string g_run_name;

void register_pid(pid_t p, const std::string& ipc_path)
{
    for (std::size_t i = 0; i != g_pids.size(); ++i) {
        if (g_pids[i].load() != 0)
            continue;
        std::snprintf(g_ipc_paths[i].data(), g_ipc_paths[i].size(), "%s", ipc_path.c_str());
        pid_t none = 0;
        if (g_pids[i].compare_exchange_strong(none, p))
            return;
    }
}

void unregister_pid(pid_t p)
{
    for (auto& slot : g_pids) {
        pid_t expected = p;
        if (slot.compare_exchange_strong(expected, 0))
            return;
    }
}

// One line from fd, within timeout; false at end of file, error or timeout.
bool read_line(server_proc& s, std::string& line, int timeout_ms)
{
    const auto end = clock_type::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        const auto nl = s.buffered.find('\n');
        if (nl != std::string::npos) {
            line = s.buffered.substr(0, nl);
            s.buffered.erase(0, nl + 1);
            return true;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock_type::now()).count();
        if (left <= 0)
            return false;
        pollfd p{s.from_child, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        char buf[256];
        const ssize_t n = ::read(s.from_child, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        s.buffered.append(buf, static_cast<std::size_t>(n));
    }
}

void stop_server(server_proc& s)
{
    if (s.pid > 0) {
        ::kill(s.pid, SIGTERM);
        int status = 0;
        const auto end = clock_type::now() + 5s;
        pid_t r = 0;
        while ((r = ::waitpid(s.pid, &status, WNOHANG)) == 0 && clock_type::now() < end)
            std::this_thread::sleep_for(1ms);
        if (r == 0) {
            ::kill(s.pid, SIGKILL);
            ::waitpid(s.pid, &status, 0);
        }
        unregister_pid(s.pid);
        s.pid = -1;
    }
    if (s.to_child >= 0)
        ::close(s.to_child);
    if (s.from_child >= 0)
        ::close(s.from_child);
    s.to_child = s.from_child = -1;
    if (!s.ipc_path.empty())
        ::unlink(s.ipc_path.c_str());
}

// Starts this program as a server of `kind` ("duplex" or "raw") bound to
// `endpoint`; nullopt (and a message) if it does not say where it listens.
std::optional<server_proc> spawn_server(const char* kind, const std::string& endpoint)
{
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0)
        return std::nullopt;
    if (::pipe2(out, O_CLOEXEC) != 0) {
        ::close(in[0]);
        ::close(in[1]);
        return std::nullopt;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::string a0 = "duplex_zmq_bench", a1 = "--serve", a2 = kind, a3 = endpoint;
    char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(), nullptr};
    server_proc s;
    // DUPLEX_ZMQ_BENCH_SERVER: another program to start as the server, given
    // the same arguments (this one, when this one runs under valgrind, whose
    // /proc/self/exe is valgrind's; or a script that runs it under a profiler).
    const char* exe = std::getenv("DUPLEX_ZMQ_BENCH_SERVER");
    const int err = ::posix_spawn(&s.pid, exe && *exe ? exe : "/proc/self/exe", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(in[0]);
    ::close(out[1]);
    s.to_child = in[1];
    s.from_child = out[0];
    if (err != 0) {
        std::fprintf(stderr, "duplex_zmq_bench: posix_spawn: %s\n", std::strerror(err));
        s.pid = -1;
        stop_server(s);
        return std::nullopt;
    }
    if (endpoint.rfind("ipc://", 0) == 0)
        s.ipc_path = endpoint.substr(6);
    register_pid(s.pid, s.ipc_path);
    if (!read_line(s, s.endpoint, 10000) || s.endpoint.empty()) {
        std::fprintf(stderr, "duplex_zmq_bench: the %s server for %s did not say where it listens\n", kind,
                     endpoint.c_str());
        stop_server(s);
        return std::nullopt;
    }
    return s;
}

struct server_totals {
    double cpu_seconds = 0;
    std::uint64_t allocations = 0;
    bool ok = true;
};

server_totals query_servers(std::vector<server_proc>& servers)
{
    server_totals t;
    for (auto& s : servers) {
        std::string line;
        if (::write(s.to_child, "s", 1) != 1 || !read_line(s, line, 5000)) {
            t.ok = false;
            continue;
        }
        unsigned long long ns = 0, allocs = 0;
        if (std::sscanf(line.c_str(), "%llu %llu", &ns, &allocs) != 2) {
            t.ok = false;
            continue;
        }
        t.cpu_seconds += static_cast<double>(ns) * 1e-9;
        t.allocations += allocs;
    }
    return t;
}

// ---------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------

enum class contender { duplex, raw };
enum class workload { w1, w2 };

const char* name(contender c) { return c == contender::duplex ? "duplex" : "raw"; }
const char* label(contender c) { return c == contender::duplex ? "Boost.Duplex" : "raw cppzmq"; }
const char* name(workload w) { return w == workload::w1 ? "W1" : "W2"; }

struct counts {
    std::size_t w1 = 20000;
    std::size_t w1_warm = 1000;
    std::size_t w2 = 200000;
    std::size_t w2_warm = 20000;
};

struct run_result {
    std::uint64_t requests = 0;  // in the window
    double seconds = 0;
    double cpu_seconds = 0;
    std::uint64_t allocations = 0;
    std::uint64_t allocated_bytes = 0;
    double server_cpu_seconds = 0;
    std::uint64_t server_allocations = 0;
    std::vector<std::int64_t> latencies_ns;  // W1
    double other_cores = 0;                  // other processes' CPU over the window, in cores
    std::uint64_t expected = 0;              // answers the run must get
    std::uint64_t answered = 0;              // answers it got (right or wrong)
    std::uint64_t errors = 0;                // wrong answers, failed requests, missing answers
};

// The machine's busy and total CPU time so far (/proc/stat, in ticks, every
// CPU), read with plain system calls (no allocation).
struct machine_ticks {
    std::uint64_t busy = 0, total = 0;
    bool ok = false;
};

machine_ticks read_machine_ticks()
{
    machine_ticks m;
    const int fd = ::open("/proc/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return m;
    char buf[512];
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0)
        return m;
    buf[n] = 0;
    unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;
    if (std::sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle, &iowait, &irq,
                    &softirq, &steal) != 8)
        return m;
    m.busy = user + nice + system + irq + softirq + steal;
    m.total = m.busy + idle + iowait;
    m.ok = true;
    return m;
}

// The measured window: the client's time, CPU and allocations, and the
// servers' CPU and allocations. The servers are asked before the client's
// figures are read at the start and after they are read at the end, so that
// the queries' own cost falls outside the client's window.
class window {
public:
    explicit window(std::vector<server_proc>& servers) : servers_(servers) {}

    void open()
    {
        m0_ = read_machine_ticks();
        s0_ = query_servers(servers_);
        a0_ = ab::allocations();
        cpu0_ = process_cpu_seconds();
        t0_ = clock_type::now();
    }

    void close(run_result& out, std::uint64_t requests)
    {
        const auto t1 = clock_type::now();
        const double cpu1 = process_cpu_seconds();
        const auto a1 = ab::allocations();
        const auto s1 = query_servers(servers_);
        const auto m1 = read_machine_ticks();
        out.requests = requests;
        out.seconds = std::chrono::duration<double>(t1 - t0_).count();
        out.cpu_seconds = cpu1 - cpu0_;
        out.allocations = a1.count - a0_.count;
        out.allocated_bytes = a1.bytes - a0_.bytes;
        out.server_cpu_seconds = s1.cpu_seconds - s0_.cpu_seconds;
        out.server_allocations = s1.allocations - s0_.allocations;
        if (!s0_.ok || !s1.ok) {
            std::fprintf(stderr, "duplex_zmq_bench: a server did not answer the stats query\n");
            ++out.errors;
        }
        // What the machine was busy with beyond this run's processes: the
        // other processes' load, which slows a run down on a small machine.
        if (m0_.ok && m1.ok && m1.total > m0_.total && out.seconds > 0) {
            const double busy_cores = static_cast<double>(m1.busy - m0_.busy) /
                                      static_cast<double>(m1.total - m0_.total) *
                                      static_cast<double>(std::max(1u, std::thread::hardware_concurrency()));
            out.other_cores = std::max(0.0, busy_cores - (out.cpu_seconds + out.server_cpu_seconds) / out.seconds);
        }
    }

private:
    std::vector<server_proc>& servers_;
    machine_ticks m0_;
    server_totals s0_;
    ab::allocation_count a0_;
    double cpu0_ = 0;
    clock_type::time_point t0_;
};

// Lets ZeroMQ connect (in the background) before the warm-up.
void settle() { std::this_thread::sleep_for(50ms); }

std::uint64_t g_error_reports = 0;

void report_error(const char* what)
{
    if (g_error_reports++ < 10)
        std::fprintf(stderr, "duplex_zmq_bench: %s\n", what);
}

template <class R>
bool check(const R& r, std::uint64_t v)
{
    if (!r) {
        report_error(("request failed: " + r.error().message()).c_str());
        return false;
    }
    if (r.value() != v) {
        report_error("wrong answer");
        return false;
    }
    return true;
}

void rethrow(std::exception_ptr e)
{
    if (e)
        std::rethrow_exception(e);
}

using duplex_client = dx::zmq_client<std::uint64_t, std::uint64_t>;

std::optional<duplex_client> make_duplex_client(net::io_context& io, const std::vector<std::string>& eps)
{
    auto c = dx::make_zmq_client<std::uint64_t, std::uint64_t>(io.get_executor(), eps, dx::zmq_client_options{});
    if (!c) {
        std::fprintf(stderr, "duplex_zmq_bench: make_zmq_client: %s\n", c.error().message().c_str());
        return std::nullopt;
    }
    return std::move(c).value();
}

run_result duplex_w1(const std::vector<std::string>& eps, std::vector<server_proc>& servers, const counts& n)
{
    run_result out;
    out.expected = n.w1_warm + n.w1;
    net::io_context io(1);
    auto client = make_duplex_client(io, eps);
    if (!client) {
        out.errors = out.expected;
        return out;
    }
    settle();
    out.latencies_ns.resize(n.w1);
    window w(servers);
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            // The first wrong answer or failed request ends the run (the
            // answers not received count as errors too).
            std::uint64_t v = 0;
            for (std::size_t i = 0; i != n.w1_warm; ++i) {
                ++v;
                auto r = co_await client->async_request(v, net::use_awaitable);
                ++out.answered;
                if (!check(r, v))
                    co_return;
            }
            w.open();
            for (std::size_t i = 0; i != n.w1; ++i) {
                ++v;
                const auto t = clock_type::now();
                auto r = co_await client->async_request(v, net::use_awaitable);
                out.latencies_ns[i] = (clock_type::now() - t).count();
                ++out.answered;
                if (!check(r, v))
                    co_return;
            }
            w.close(out, n.w1);
        },
        rethrow);
    io.run();
    out.errors += out.expected - out.answered + (out.requests == 0);
    return out;
}

run_result duplex_w2(const std::vector<std::string>& eps, std::vector<server_proc>& servers, const counts& n)
{
    run_result out;
    const std::uint64_t warm = n.w2_warm, end = warm + n.w2, total = end + w2_clients;
    out.expected = total;
    net::io_context io(1);
    auto client = make_duplex_client(io, eps);
    if (!client) {
        out.errors = out.expected;
        return out;
    }
    settle();
    window w(servers);
    // The first wrong answer or failed request stops every client (the
    // answers not received count as errors too).
    std::uint64_t issued = 0, done = 0;
    bool failed = false;
    for (std::size_t c = 0; c != w2_clients; ++c)
        net::co_spawn(
            io,
            [&, c]() -> net::awaitable<void> {
                std::uint64_t k = 0;
                while (!failed && issued < total) {
                    ++issued;
                    const std::uint64_t v = std::uint64_t(c) << 48 | k++;
                    auto r = co_await client->async_request(v, net::use_awaitable);
                    ++out.answered;
                    if (!check(r, v)) {
                        failed = true;
                        co_return;
                    }
                    if (++done == warm)
                        w.open();
                    else if (done == end)
                        w.close(out, end - warm);
                }
            },
            rethrow);
    io.run();
    out.errors += out.expected - out.answered + failed;
    return out;
}

// A plain DEALER client connected to every endpoint; a reply that does not
// come within 5 s is taken as missing.
struct raw_client {
    explicit raw_client(const std::vector<std::string>& eps) : ctx(1), sock(ctx, zmq::socket_type::dealer)
    {
        sock.set(zmq::sockopt::linger, 0);
        sock.set(zmq::sockopt::rcvtimeo, 5000);
        for (const auto& e : eps)
            sock.connect(e);
    }
    zmq::context_t ctx;
    zmq::socket_t sock;
};

void raw_send(zmq::socket_t& s, std::uint64_t id)
{
    std::uint64_t buf[2] = {id, id * raw_mix};
    s.send(zmq::buffer(buf, sizeof buf), zmq::send_flags::none);
}

// The id of a reply that is right (16 bytes, payload matching the id), or nullopt.
std::optional<std::uint64_t> raw_reply(const zmq::message_t& m)
{
    if (m.size() != 2 * sizeof(std::uint64_t))
        return std::nullopt;
    std::uint64_t buf[2];
    std::memcpy(buf, m.data(), sizeof buf);
    if (buf[1] != buf[0] * raw_mix)
        return std::nullopt;
    return buf[0];
}

run_result raw_w1(const std::vector<std::string>& eps, std::vector<server_proc>& servers, const counts& n)
{
    run_result out;
    out.expected = n.w1_warm + n.w1;
    out.latencies_ns.resize(n.w1);
    try {
        raw_client c(eps);
        settle();
        window w(servers);
        zmq::message_t m;
        std::uint64_t id = 0;
        auto round_trip = [&]() -> bool {
            ++id;
            raw_send(c.sock, id);
            if (!c.sock.recv(m, zmq::recv_flags::none)) {
                report_error("raw W1: no answer within 5 s");
                return false;
            }
            ++out.answered;
            const auto got = raw_reply(m);
            if (!got || *got != id) {
                report_error("raw W1: wrong answer");
                ++out.errors;
            }
            return true;
        };
        bool alive = true;
        for (std::size_t i = 0; alive && i != n.w1_warm; ++i)
            alive = round_trip();
        if (alive) {
            w.open();
            for (std::size_t i = 0; alive && i != n.w1; ++i) {
                const auto t = clock_type::now();
                alive = round_trip();
                out.latencies_ns[i] = (clock_type::now() - t).count();
            }
            if (alive)
                w.close(out, n.w1);
        }
    } catch (const zmq::error_t& e) {
        std::fprintf(stderr, "duplex_zmq_bench: raw W1: %s\n", e.what());
    }
    if (out.answered < out.expected)
        out.errors += out.expected - out.answered;
    return out;
}

// One DEALER, 64 requests outstanding: each reply's id names its slot, which
// sends its next request.
run_result raw_w2(const std::vector<std::string>& eps, std::vector<server_proc>& servers, const counts& n)
{
    run_result out;
    const std::uint64_t warm = n.w2_warm, end = warm + n.w2, total = end + w2_clients;
    out.expected = total;
    try {
        raw_client c(eps);
        settle();
        window w(servers);
        std::array<std::uint64_t, w2_clients> expected{}, next{};
        std::uint64_t issued = 0, done = 0;
        auto send_next = [&](std::size_t slot) {
            const std::uint64_t id = std::uint64_t(slot) << 48 | next[slot]++;
            expected[slot] = id;
            ++issued;
            raw_send(c.sock, id);
        };
        for (std::size_t slot = 0; slot != w2_clients; ++slot)
            send_next(slot);
        zmq::message_t m;
        while (done < total) {
            if (!c.sock.recv(m, zmq::recv_flags::none)) {
                report_error("raw W2: no answer within 5 s");
                break;
            }
            ++out.answered;
            const auto got = raw_reply(m);
            const std::size_t slot = got ? static_cast<std::size_t>(*got >> 48) : w2_clients;
            if (slot >= w2_clients || expected[slot] != *got) {
                report_error("raw W2: wrong answer");
                ++out.errors;
                break;  // cannot tell which slot it was for
            }
            if (++done == warm)
                w.open();
            else if (done == end)
                w.close(out, end - warm);
            if (issued < total)
                send_next(slot);
        }
    } catch (const zmq::error_t& e) {
        std::fprintf(stderr, "duplex_zmq_bench: raw W2: %s\n", e.what());
    }
    if (out.answered < out.expected)
        out.errors += out.expected - out.answered;
    return out;
}

// ---------------------------------------------------------------------------
// Statistics and tables
// ---------------------------------------------------------------------------

struct key {
    std::string transport;
    int servers;
    workload w;
    contender c;
    bool operator<(const key& o) const
    {
        return std::tie(transport, servers, w, c) < std::tie(o.transport, o.servers, o.w, o.c);
    }
};

double per_request(double v, const run_result& r) { return r.requests ? v / static_cast<double>(r.requests) : 0; }

double percentile_us(std::vector<std::int64_t> v, double q)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return static_cast<double>(v[std::min(i, v.size() - 1)]) / 1e3;
}

struct metric {
    const char* name;
    double (*get)(const run_result&);
};

const metric metrics[] = {
    {"requests_per_second", [](const run_result& r) { return r.seconds > 0 ? static_cast<double>(r.requests) / r.seconds : 0; }},
    {"mean_us", [](const run_result& r) { return per_request(r.seconds * 1e6, r); }},
    {"p50_us", [](const run_result& r) { return percentile_us(r.latencies_ns, 0.50); }},
    {"p99_us", [](const run_result& r) { return percentile_us(r.latencies_ns, 0.99); }},
    {"cpu_us_per_request", [](const run_result& r) { return per_request(r.cpu_seconds * 1e6, r); }},
    {"allocations_per_request", [](const run_result& r) { return per_request(static_cast<double>(r.allocations), r); }},
    {"allocated_bytes_per_request", [](const run_result& r) { return per_request(static_cast<double>(r.allocated_bytes), r); }},
    {"server_cpu_us_per_request", [](const run_result& r) { return per_request(r.server_cpu_seconds * 1e6, r); }},
    {"server_allocations_per_request",
     [](const run_result& r) { return per_request(static_cast<double>(r.server_allocations), r); }},
    {"errors", [](const run_result& r) { return static_cast<double>(r.errors); }},
    {"other_cores", [](const run_result& r) { return r.other_cores; }},
};

struct summary {
    double median = 0, min = 0, max = 0;
    std::vector<double> all;
};

summary summarize(const std::vector<run_result>& runs, const metric& m)
{
    summary s;
    for (const auto& r : runs)
        s.all.push_back(m.get(r));
    if (s.all.empty())
        return s;
    auto v = s.all;
    std::sort(v.begin(), v.end());
    s.min = v.front();
    s.max = v.back();
    s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    return s;
}

double med(const std::vector<run_result>& runs, const char* metric_name)
{
    for (const auto& m : metrics)
        if (!std::strcmp(m.name, metric_name))
            return summarize(runs, m).median;
    return 0;
}

std::string cpu_model()
{
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            return colon == std::string::npos ? line : line.substr(colon + 2);
        }
    return "unknown CPU";
}

std::string utc_now()
{
    const std::time_t t = std::time(nullptr);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
    return buf;
}

std::vector<std::string> split(const std::string& s)
{
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty())
            out.push_back(item);
    return out;
}

std::string fmt(const char* f, double v)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

int usage()
{
    std::fprintf(stderr,
                 "usage: duplex_zmq_bench [--quick] [--reps N] [--scale X] [--only W1,W2] [--transport ipc,tcp]\n"
                 "                        [--servers 1,2] [--out DIR] [--run-limit SECONDS]\n"
                 "                        [--contender duplex,raw]\n");
    return 2;
}

void watchdog()
{
    std::thread([] {
        for (;;) {
            std::this_thread::sleep_for(200ms);
            const auto now = clock_type::now().time_since_epoch().count();
            if (now > g_deadline.load()) {
                {
                    std::lock_guard lock(g_run_mutex);
                    std::fprintf(stderr, "duplex_zmq_bench: run '%s' hung; ending\n", g_run_name.c_str());
                }
                for (std::size_t i = 0; i != g_pids.size(); ++i)
                    if (const pid_t pid = g_pids[i].load(); pid > 0) {
                        ::kill(pid, SIGKILL);
                        if (g_ipc_paths[i][0])
                            ::unlink(g_ipc_paths[i].data());
                    }
                ::_exit(3);
            }
        }
    }).detach();
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc == 4 && !std::strcmp(argv[1], "--serve")) {
        if (!std::strcmp(argv[2], "duplex"))
            return serve_duplex(argv[3]);
        if (!std::strcmp(argv[2], "raw"))
            return serve_raw(argv[3]);
        return usage();
    }

    bool quick = false;
    int reps = -1;
    double scale = 1;
    double run_limit_s = 120;  // the watchdog's limit for one run (one workload of one contender)
    std::string out_dir = "zmq_bench_out";
    std::vector<std::string> only = {"W1", "W2"}, transports = {"ipc", "tcp"}, servers_list = {"1", "2"},
                             contenders = {"duplex", "raw"};
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--quick")
            quick = true;
        else if (a == "--reps" && has_value)
            reps = std::atoi(argv[++i]);
        else if (a == "--scale" && has_value)
            scale = std::atof(argv[++i]);
        else if (a == "--only" && has_value)
            only = split(argv[++i]);
        else if (a == "--transport" && has_value)
            transports = split(argv[++i]);
        else if (a == "--servers" && has_value)
            servers_list = split(argv[++i]);
        else if (a == "--out" && has_value)
            out_dir = argv[++i];
        else if (a == "--contender" && has_value)
            contenders = split(argv[++i]);
        else if (a == "--run-limit" && has_value)
            run_limit_s = std::atof(argv[++i]);
        else
            return usage();
    }
    for (const auto& w : only)
        if (w != "W1" && w != "W2")
            return usage();
    for (const auto& t : transports)
        if (t != "ipc" && t != "tcp")
            return usage();
    for (const auto& s : servers_list)
        if (s != "1" && s != "2")
            return usage();
    for (const auto& c : contenders)
        if (c != "duplex" && c != "raw")
            return usage();
    if (reps < 0)
        reps = quick ? 1 : 5;
    if (reps < 1 || !(scale > 0) || !(run_limit_s > 0))
        return usage();
    const bool run_w1 = std::find(only.begin(), only.end(), "W1") != only.end();
    const bool run_w2 = std::find(only.begin(), only.end(), "W2") != only.end();

    counts n;
    if (quick) {
        n.w1 = 6000;
        n.w2 = 100000;
    }
    n.w1 = std::max<std::size_t>(10, static_cast<std::size_t>(static_cast<double>(n.w1) * scale));
    n.w2 = std::max<std::size_t>(w2_clients, static_cast<std::size_t>(static_cast<double>(n.w2) * scale));
    n.w1_warm = std::max<std::size_t>(10, n.w1 / 20);
    n.w2_warm = std::max<std::size_t>(2 * w2_clients, n.w2 / 10);

    ::signal(SIGPIPE, SIG_IGN);
    if (!ab::allocation_counting())
        std::fprintf(stderr, "duplex_zmq_bench: the allocation counter is not counting\n");
    watchdog();

    const std::string machine = cpu_model() + ", " + std::to_string(std::thread::hardware_concurrency()) + " CPUs";
    const std::string date = utc_now();
    std::printf("duplex_zmq_bench: %s; %s; libzmq %d.%d.%d\n", machine.c_str(), date.c_str(), ZMQ_VERSION_MAJOR,
                ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH);
    std::printf("W1: %zu sequential round trips (after %zu); W2: %zu requests, %zu clients (after %zu); %d repetition(s)\n\n",
                n.w1, n.w1_warm, n.w2, w2_clients, n.w2_warm, reps);

    std::map<key, std::vector<run_result>> results;
    int endpoint_serial = 0, config_index = 0;
    bool server_failed = false;
    const auto run_limit = static_cast<std::int64_t>(run_limit_s * 1e9);

    for (int rep = 0; rep != reps; ++rep) {
        for (const auto& transport : transports) {
            for (const auto& ns_text : servers_list) {
                const int ns = std::atoi(ns_text.c_str());
                // The contenders' order alternates from one configuration (and repetition) to the next.
                const bool duplex_first = (rep + config_index++) % 2 == 0;
                for (contender c : duplex_first ? std::array{contender::duplex, contender::raw}
                                                : std::array{contender::raw, contender::duplex}) {
                    if (std::find(contenders.begin(), contenders.end(), name(c)) == contenders.end())
                        continue;
                    std::vector<server_proc> servers;
                    std::vector<std::string> eps;
                    for (int s = 0; s != ns; ++s) {
                        const std::string ep = transport == "ipc" ? "ipc:///tmp/duplex-zmq-bench-" +
                                                                        std::to_string(::getpid()) + "-" +
                                                                        std::to_string(endpoint_serial++)
                                                                  : "tcp://127.0.0.1:*";
                        auto sp = spawn_server(name(c), ep);
                        if (!sp) {
                            server_failed = true;
                            break;
                        }
                        eps.push_back(sp->endpoint);
                        servers.push_back(std::move(*sp));
                    }
                    if (static_cast<int>(servers.size()) == ns) {
                        for (workload w : {workload::w1, workload::w2}) {
                            if ((w == workload::w1 && !run_w1) || (w == workload::w2 && !run_w2))
                                continue;
                            char run_name[128];
                            std::snprintf(run_name, sizeof run_name, "rep %d %s %d server(s) %s %s", rep + 1,
                                          transport.c_str(), ns, name(c), name(w));
                            {
                                std::lock_guard lock(g_run_mutex);
                                g_run_name = run_name;
                            }
                            g_deadline = clock_type::now().time_since_epoch().count() + run_limit;
                            run_result r = c == contender::duplex
                                               ? (w == workload::w1 ? duplex_w1(eps, servers, n) : duplex_w2(eps, servers, n))
                                               : (w == workload::w1 ? raw_w1(eps, servers, n) : raw_w2(eps, servers, n));
                            g_deadline = INT64_MAX;
                            if (r.answered != r.expected && r.errors == 0)
                                r.errors = r.expected > r.answered ? r.expected - r.answered : 1;
                            if (w == workload::w1)
                                std::printf("%-40s mean %7.1f us  p50 %7.1f  p99 %7.1f  cpu %6.2f us/req  %5.2f allocs/req  "
                                            "server cpu %6.2f us/req  other %.2f cores  errors %llu\n",
                                            run_name, metrics[1].get(r), metrics[2].get(r), metrics[3].get(r),
                                            metrics[4].get(r), metrics[5].get(r), metrics[7].get(r), r.other_cores,
                                            static_cast<unsigned long long>(r.errors));
                            else
                                std::printf("%-40s %9.0f req/s    cpu %6.2f us/req  %5.2f allocs/req  "
                                            "server cpu %6.2f us/req  other %.2f cores  errors %llu\n",
                                            run_name, metrics[0].get(r), metrics[4].get(r), metrics[5].get(r),
                                            metrics[7].get(r), r.other_cores, static_cast<unsigned long long>(r.errors));
                            std::fflush(stdout);
                            r.latencies_ns.shrink_to_fit();
                            results[{transport, ns, w, c}].push_back(std::move(r));
                        }
                    }
                    for (auto& s : servers)
                        stop_server(s);
                }
            }
        }
    }

    // ---- tables -----------------------------------------------------------
    std::ostringstream md;
    std::uint64_t errors = 0;
    for (const auto& [k, runs] : results)
        for (const auto& r : runs)
            errors += r.errors;

    md << "Medians of " << reps << " repetition(s). CPU and allocations per request: the client process (every thread, "
          "libzmq's I/O thread included); server: the serving processes, summed. Other load: the CPU time of every "
          "other process of the machine during the window, in cores (/proc/stat).\n\n";
    if (run_w1) {
        md << "### W1: one client, sequential round trips\n\n"
           << "| transport | servers | contender | mean µs | p50 µs | p99 µs | client CPU µs/req | client allocs/req "
              "| server CPU µs/req | server allocs/req | errors | other load |\n"
           << "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
        for (const auto& [k, runs] : results) {
            if (k.w != workload::w1)
                continue;
            md << "| " << k.transport << " | " << k.servers << " | " << label(k.c) << " | "
               << fmt("%.1f", med(runs, "mean_us")) << " | " << fmt("%.1f", med(runs, "p50_us")) << " | "
               << fmt("%.1f", med(runs, "p99_us")) << " | " << fmt("%.2f", med(runs, "cpu_us_per_request")) << " | "
               << fmt("%.2f", med(runs, "allocations_per_request")) << " | "
               << fmt("%.2f", med(runs, "server_cpu_us_per_request")) << " | "
               << fmt("%.2f", med(runs, "server_allocations_per_request")) << " | "
               << fmt("%.0f", summarize(runs, metrics[9]).max) << " | " << fmt("%.2f", med(runs, "other_cores")) << " |\n";
        }
        md << "\n";
    }
    if (run_w2) {
        md << "### W2: " << w2_clients << " clients, one request outstanding each\n\n"
           << "| transport | servers | contender | requests/s | client CPU µs/req | client allocs/req | server CPU µs/req "
              "| server allocs/req | errors | other load |\n"
           << "|---|---|---|---|---|---|---|---|---|---|\n";
        for (const auto& [k, runs] : results) {
            if (k.w != workload::w2)
                continue;
            md << "| " << k.transport << " | " << k.servers << " | " << label(k.c) << " | "
               << fmt("%.0f", med(runs, "requests_per_second")) << " | " << fmt("%.2f", med(runs, "cpu_us_per_request"))
               << " | " << fmt("%.2f", med(runs, "allocations_per_request")) << " | "
               << fmt("%.2f", med(runs, "server_cpu_us_per_request")) << " | "
               << fmt("%.2f", med(runs, "server_allocations_per_request")) << " | "
               << fmt("%.0f", summarize(runs, metrics[9]).max) << " | " << fmt("%.2f", med(runs, "other_cores")) << " |\n";
        }
        md << "\n";
    }

    // Targets: W2 throughput >= 0.8x raw, W1 mean round trip <= 1.25x raw.
    std::ostringstream tcsv;
    tcsv << "workload,transport,servers,metric,duplex,raw,ratio,goal,verdict,cpu_ratio,client_allocs_duplex_minus_raw,"
            "server_allocs_duplex_minus_raw\n";
    md << "### Targets (Boost.Duplex / raw cppzmq)\n\n"
       << "| workload | transport | servers | Boost.Duplex | raw | ratio | target | verdict | client CPU/req ratio "
          "| client allocs/req, ours − raw | server allocs/req, ours − raw |\n"
       << "|---|---|---|---|---|---|---|---|---|---|---|\n";
    int passed = 0, total_targets = 0;
    for (workload w : {workload::w1, workload::w2}) {
        for (const auto& transport : transports) {
            for (const auto& ns_text : servers_list) {
                const int ns = std::atoi(ns_text.c_str());
                auto d = results.find({transport, ns, w, contender::duplex});
                auto r = results.find({transport, ns, w, contender::raw});
                if (d == results.end() || r == results.end())
                    continue;
                const bool w1 = w == workload::w1;
                const char* m = w1 ? "mean_us" : "requests_per_second";
                const double dv = med(d->second, m), rv = med(r->second, m);
                const double ratio = rv > 0 ? dv / rv : 0;
                const bool pass = w1 ? ratio <= 1.25 : ratio >= 0.8;
                const double cpu_ratio = med(r->second, "cpu_us_per_request") > 0
                                             ? med(d->second, "cpu_us_per_request") / med(r->second, "cpu_us_per_request")
                                             : 0;
                const double da = med(d->second, "allocations_per_request") - med(r->second, "allocations_per_request");
                const double sa = med(d->second, "server_allocations_per_request") -
                                  med(r->second, "server_allocations_per_request");
                ++total_targets;
                passed += pass;
                const std::string dvs = w1 ? fmt("%.1f µs", dv) : fmt("%.0f req/s", dv);
                const std::string rvs = w1 ? fmt("%.1f µs", rv) : fmt("%.0f req/s", rv);
                md << "| " << name(w) << (w1 ? " mean round trip" : " throughput") << " | " << transport << " | " << ns
                   << " | " << dvs << " | " << rvs << " | " << fmt("%.2fx", ratio) << " | " << (w1 ? "≤ 1.25x" : "≥ 0.8x")
                   << " | " << (pass ? "PASS" : "MISS") << " | " << fmt("%.2fx", cpu_ratio) << " | "
                   << fmt("%+.2f", da) << " | " << fmt("%+.2f", sa) << " |\n";
                tcsv << name(w) << ',' << transport << ',' << ns << ',' << m << ',' << dv << ',' << rv << ',' << ratio
                     << ',' << (w1 ? "<=1.25" : ">=0.8") << ',' << (pass ? "PASS" : "MISS") << ',' << cpu_ratio << ','
                     << da << ',' << sa << '\n';
            }
        }
    }
    md << "\n" << passed << " of " << total_targets << " targets met.\n";
    {
        // Other processes' load changes a small machine's wake-up latency:
        // say so when it varied between runs.
        double lo = 1e9, hi = 0;
        for (const auto& [k, runs] : results)
            for (const auto& r : runs)
                if (r.requests) {
                    lo = std::min(lo, r.other_cores);
                    hi = std::max(hi, r.other_cores);
                }
        if (hi - lo > 0.5)
            md << "\nNote: the other processes' load varied between runs (" << fmt("%.2f", lo) << " to "
               << fmt("%.2f", hi)
               << " cores). On a small virtual machine it changes where the threads run and how fast a "
                  "sleeping CPU wakes up, so the round trips of the runs differ several-fold (bench/README.md).\n";
    }

    std::printf("\n%s", md.str().c_str());

    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    {
        std::ofstream csv(out_dir + "/results.csv");
        csv << "workload,transport,servers,contender,metric,median,min,max,repetitions\n";
        for (const auto& [k, runs] : results)
            for (const auto& m : metrics) {
                const auto s = summarize(runs, m);
                csv << name(k.w) << ',' << k.transport << ',' << k.servers << ',' << name(k.c) << ',' << m.name << ','
                    << s.median << ',' << s.min << ',' << s.max << ',';
                for (std::size_t i = 0; i != s.all.size(); ++i)
                    csv << (i ? ";" : "") << s.all[i];
                csv << '\n';
            }
    }
    std::ofstream(out_dir + "/targets.csv") << tcsv.str();
    std::ofstream(out_dir + "/results.md") << "# duplex_zmq_bench\n\n" << machine << "; " << date << "; W1 " << n.w1
                                           << ", W2 " << n.w2 << " requests\n\n"
                                           << md.str();
    std::ofstream(out_dir + "/meta.txt") << machine << "; " << date << (quick ? "; --quick" : "") << "\n";
    std::printf("\nresults: %s/results.csv, targets.csv, results.md, meta.txt\n", out_dir.c_str());

    if (errors || server_failed) {
        std::fprintf(stderr, "duplex_zmq_bench: %llu error(s)%s\n", static_cast<unsigned long long>(errors),
                     server_failed ? ", and a server did not start" : "");
        return 1;
    }
    return 0;
}
