//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// What every contender of duplex_bench shares: the payloads, the workload
// parameters, the measured window and the contender table.
//
// A run follows one shape whatever the contender: the clients send requests
// back to back until a budget of requests is used up; the measured window
// opens when the warm-up's last request completes and closes when the
// window's last one does, so that it sees a steady state (every client busy,
// every pool warm) and neither the start nor the end of the run. The time,
// the process's CPU time and its heap allocations are read at both ends of
// the window.

#ifndef BOOST_DUPLEX_BENCH_BENCH_HPP
#define BOOST_DUPLEX_BENCH_BENCH_HPP

#include "alloc_counter.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

namespace boost::duplex::bench {

using clock_type = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// Payloads: request and response have the same type, the handler echoes.
// ---------------------------------------------------------------------------

enum class payload_kind { u64, str64, vec4k };

inline const char* payload_name(payload_kind k) noexcept
{
    switch (k) {
    case payload_kind::u64: return "u64";
    case payload_kind::str64: return "string64";
    default: return "vector4k";
    }
}

inline const char* payload_label(payload_kind k) noexcept
{
    switch (k) {
    case payload_kind::u64: return "std::uint64_t (8 bytes)";
    case payload_kind::str64: return "std::string (64 bytes)";
    default: return "std::vector<char> (4 KiB)";
    }
}

// A client makes its payload once and sends it round: the echo comes back
// as the response and is sent again, so that the payload's own heap block is
// allocated at the start, not per request. Each request carries a sequence
// number unique to its client (in the first 8 bytes), and the response must
// carry it back: a response that reached the wrong request would be caught.
template <class P>
struct payload;

template <>
struct payload<std::uint64_t> {
    static std::uint64_t make() noexcept { return 0; }
    static void stamp(std::uint64_t& p, std::uint64_t seq) noexcept { p = seq; }
    static bool check(const std::uint64_t& p, std::uint64_t seq) noexcept { return p == seq; }
};

template <class Bytes, std::size_t Size>
struct byte_payload {
    static Bytes make() { return Bytes(Size, 'x'); }
    static void stamp(Bytes& p, std::uint64_t seq) noexcept
    {
        if (p.size() == Size)
            std::memcpy(p.data(), &seq, sizeof seq);
    }
    static bool check(const Bytes& p, std::uint64_t seq) noexcept
    {
        return p.size() == Size && std::memcmp(p.data(), &seq, sizeof seq) == 0 && p.back() == 'x';
    }
};

template <>
struct payload<std::string> : byte_payload<std::string, 64> {};
template <>
struct payload<std::vector<char>> : byte_payload<std::vector<char>, 4096> {};

// Calls f.template operator()<P>() with the payload type of `k`.
template <class F>
decltype(auto) with_payload(payload_kind k, F&& f)
{
    switch (k) {
    case payload_kind::u64: return f.template operator()<std::uint64_t>();
    case payload_kind::str64: return f.template operator()<std::string>();
    default: return f.template operator()<std::vector<char>>();
    }
}

// The echo handler of every contender (a type, not a function, so that the
// call inlines wherever a handler is stored).
template <class P>
struct echo {
    P operator()(P p) const { return p; }
};

// A client's sequence numbers: its id in the high half.
inline std::uint64_t sequence(std::uint64_t client, std::uint64_t n) noexcept
{
    return client << 32 | (n & 0xffffffffu);
}

// ---------------------------------------------------------------------------
// Results and the measured window
// ---------------------------------------------------------------------------

// User plus system time of the whole process (every thread) so far, in
// seconds. The kernel reads the other threads' time as of their last tick or
// switch, so a thread running on another core may be up to one tick behind.
inline double process_cpu_seconds() noexcept
{
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto s = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

struct run_result {
    std::uint64_t requests = 0;  // requests in the measured window
    double seconds = 0;          // length of the window
    double cpu_seconds = 0;      // CPU time of the whole process in the window
    allocation_count allocs{};   // heap allocations of the whole process in the window
    std::uint64_t errors = 0;    // requests of the whole run that failed or got a wrong answer
    double p50_ns = 0, p99_ns = 0;  // W1: individually timed round trips
    double rss_peak_mb = 0;      // W4: the process's peak RSS during the measured batch
    double rss_growth_mb = 0;    // W4: that peak minus the RSS before the batch
    double idle_seconds = 0;     // idle: length of the window without requests
    double idle_cpu_seconds = 0; // idle: CPU time of the whole process in it

    double per_second() const noexcept { return seconds > 0 ? double(requests) / seconds : 0; }
    double ns_per_request() const noexcept { return requests ? seconds * 1e9 / double(requests) : 0; }
    double cpu_ns_per_request() const noexcept { return requests ? cpu_seconds * 1e9 / double(requests) : 0; }
    double cores_busy() const noexcept { return seconds > 0 ? cpu_seconds / seconds : 0; }
    double idle_percent() const noexcept { return idle_seconds > 0 ? 100 * idle_cpu_seconds / idle_seconds : 0; }
    double allocs_per_request() const noexcept { return requests ? double(allocs.count) / double(requests) : 0; }
};

// Where the clients and the responder run.
enum class topology {
    one_thread,    // W2, scaling: everything on the calling thread
    cross_thread,  // W3, idle: the clients on client_core, the responder on server_core
    two_threads,   // W5: the clients spread over both cores, the responder on one of them
};

// W2, W3, W5, the scaling runs and the idle run: `clients` clients sending
// back to back, placed as `where` says. With `idle_seconds`, the responder is
// then left running without requests for that long (see load::client_done).
struct throughput_params {
    payload_kind payload;
    std::size_t clients;
    std::uint64_t warm;
    std::uint64_t requests;
    topology where;
    double idle_seconds = 0;
};

// The budget and the window of one run. The clients of a run live on one
// thread, except in W5 (`shared`), where two threads share the budget and the
// window through atomic read-modify-writes. On one thread the counters are
// plain loads and stores of atomics: a locked instruction per count would
// put a few ns on every request of every contender, where a W2 request of
// Boost.Duplex takes under 100 ns.
class load {
public:
    // `warm` requests, then `measured` in the window, then `tail` more (so
    // that every client is still busy when the window closes; in W1 the
    // individually timed requests, `sampled` says which).
    load(std::uint64_t warm, std::uint64_t measured, std::uint64_t tail, std::size_t clients, bool shared = false,
         double idle_seconds = 0)
        : warm_(std::max<std::uint64_t>(warm, 1)), measured_(measured), left_(warm_ + measured + tail),
          clients_(clients), shared_(shared), idle_seconds_(idle_seconds)
    {
    }

    // W2, W3, W5, scaling and idle: the tail is one request per client.
    explicit load(const throughput_params& p)
        : load(p.warm, p.requests, p.clients, p.clients, p.where == topology::two_threads, p.idle_seconds)
    {
    }

    load(const load&) = delete;
    load& operator=(const load&) = delete;

    // Claims the next request; false once every request of the run was claimed.
    bool take() noexcept
    {
        std::uint64_t left = left_.load(std::memory_order_relaxed);
        if (shared_) {
            while (left != 0 && !left_.compare_exchange_weak(left, left - 1, std::memory_order_relaxed)) {
            }
            return left != 0;
        }
        if (left == 0)
            return false;
        left_.store(left - 1, std::memory_order_relaxed);
        ++issued_;
        return true;
    }

    // Whether the request just claimed comes after the window (W1 times
    // those one by one). Never in a shared load: "just claimed" would need a
    // thread of its own, and only W1 reports the samples.
    bool sampled() const noexcept { return !shared_ && issued_ > warm_ + measured_; }

    // One request completed, `ok` if with the right answer.
    void record(bool ok) noexcept
    {
        if (!ok)
            bump(errors_);
        const std::uint64_t done = bump(completed_);
        if (done == warm_) {
            // The clock last, so that the window leaves out the other readings.
            a0_ = allocations();
            cpu0_ = process_cpu_seconds();
            t0_ = clock_type::now();
        } else if (done == warm_ + measured_) {
            t1_ = clock_type::now();
            cpu1_ = process_cpu_seconds();
            a1_ = allocations();
        }
    }

    // The same, with the round trip of a sampled request.
    void record(bool ok, clock_type::duration round_trip)
    {
        record(ok);
        samples_.push_back(std::chrono::duration<double, std::nano>(round_trip).count());
    }

    // Keeps room for `n` samples, so that recording them allocates nothing.
    void reserve_samples(std::size_t n) { samples_.reserve(n); }

    // A client has sent its last request; true for the last client. A load
    // with an idle window holds the last client's thread here for that long
    // (every contender's clients end here, and their thread sleeping costs
    // nothing): the responder, on its own thread, runs with no request.
    bool client_done() noexcept
    {
        const bool last = shared_ ? clients_.fetch_sub(1, std::memory_order_relaxed) == 1 : drop_client();
        if (last && idle_seconds_ > 0) {
            const double cpu0 = process_cpu_seconds();
            const auto t0 = clock_type::now();
            std::this_thread::sleep_for(std::chrono::duration<double>(idle_seconds_));
            idle_seconds_measured_ = std::chrono::duration<double>(clock_type::now() - t0).count();
            idle_cpu_ = process_cpu_seconds() - cpu0;
        }
        return last;
    }

    // A failure outside any request (e.g. an exception in a client).
    void fail() noexcept { bump(errors_); }

    run_result result() const
    {
        run_result r;
        const std::uint64_t completed = completed_.load();
        r.requests = measured_;
        r.seconds = std::chrono::duration<double>(t1_ - t0_).count();
        r.cpu_seconds = cpu1_ - cpu0_;
        r.allocs = {a1_.count - a0_.count, a1_.bytes - a0_.bytes};
        r.errors = errors_.load();
        r.idle_seconds = idle_seconds_measured_;
        r.idle_cpu_seconds = idle_cpu_;
        if (completed < warm_ + measured_) {
            r.seconds = 0;  // never closed: every missing request is an error
            r.cpu_seconds = 0;
            r.errors += warm_ + measured_ - completed;
        }
        if (!samples_.empty()) {
            std::vector<double> s = samples_;
            std::sort(s.begin(), s.end());
            auto at = [&s](double q) { return s[std::min(s.size() - 1, static_cast<std::size_t>(q * double(s.size())))]; };
            r.p50_ns = at(0.50);
            r.p99_ns = at(0.99);
        }
        return r;
    }

private:
    // Adds one and returns the new value.
    std::uint64_t bump(std::atomic<std::uint64_t>& n) noexcept
    {
        if (shared_)
            return n.fetch_add(1, std::memory_order_relaxed) + 1;
        const std::uint64_t v = n.load(std::memory_order_relaxed) + 1;
        n.store(v, std::memory_order_relaxed);
        return v;
    }

    bool drop_client() noexcept
    {
        const std::size_t v = clients_.load(std::memory_order_relaxed) - 1;
        clients_.store(v, std::memory_order_relaxed);
        return v == 0;
    }

    const std::uint64_t warm_, measured_;
    std::atomic<std::uint64_t> left_;
    std::atomic<std::uint64_t> completed_{0}, errors_{0};
    std::uint64_t issued_ = 0;  // not in a shared load
    std::atomic<std::size_t> clients_;
    const bool shared_;
    const double idle_seconds_;
    // Each written by the one thread that opens or closes the window (or ends
    // the last client), read by result() after the run's threads are joined.
    clock_type::time_point t0_{}, t1_{};
    double cpu0_ = 0, cpu1_ = 0;
    allocation_count a0_{}, a1_{};
    double idle_seconds_measured_ = 0, idle_cpu_ = 0;
    std::vector<double> samples_;
};

// ---------------------------------------------------------------------------
// The workloads' parameters and the contender table
// ---------------------------------------------------------------------------

// W1: one client, sequential requests on one thread.
struct latency_params {
    std::uint64_t warm;
    std::uint64_t requests;  // timed as a block: the mean
    std::uint64_t samples;   // then timed one by one: p50, p99
};

// W4: one client, a batch of `requests` with at most `window` outstanding,
// after a warm-up batch of `warm`.
struct batch_params {
    std::uint64_t warm;
    std::uint64_t requests;
    std::size_t window;
};

struct contender {
    const char* key;    // CSV name
    const char* name;   // table name
    const char* label;  // short name, for the plots
    bool ours;         // Boost.Duplex (as opposed to a baseline)
    run_result (*latency)(const latency_params&);
    run_result (*throughput)(const throughput_params&);
    run_result (*batch)(const batch_params&);
};

// One per contender, each in its own translation unit.
contender duplex_asio_callbacks();
contender duplex_asio_awaitable();
contender duplex_fiber();
contender baseline_asio_fresh_reply();
contender baseline_asio_tuned();
contender baseline_fiber_promise();

// ---------------------------------------------------------------------------
// Threads and memory
// ---------------------------------------------------------------------------

// Cleared when a thread could not be pinned to its core (reported).
inline std::atomic<bool> pinning_worked{true};

// Pins the calling thread to `core`.
inline void pin_this_thread(int core) noexcept
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(core, &set);
    if (std::thread::hardware_concurrency() < 2 || pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
        pinning_worked.store(false);
}

// Runs f() on a new thread pinned to `core` and waits for it.
template <class F>
void on_pinned_thread(int core, F&& f)
{
    std::thread t([&f, core] {
        pin_this_thread(core);
        f();
    });
    t.join();
}

// The peak RSS of W4: memory freed by earlier runs goes back to the system,
// the kernel's high-water mark is reset to the current RSS, and the batch's
// peak is read afterwards. Returns the RSS before, in MB.
double start_rss_measurement();
// The peak RSS since start_rss_measurement(), in MB.
double peak_rss_mb();

// W4's results: every response, in input order (the requests are 0, 1, ...,
// see batch_requests()).
inline bool check_batch(const std::vector<std::uint64_t>& v, std::uint64_t n) noexcept
{
    if (v.size() != n)
        return false;
    for (std::uint64_t i = 0; i != n; ++i)
        if (v[i] != i)
            return false;
    return true;
}

// W4's requests: 0, 1, ..., n - 1.
inline std::vector<std::uint64_t> batch_requests(std::uint64_t n)
{
    std::vector<std::uint64_t> v(n);
    for (std::uint64_t i = 0; i != n; ++i)
        v[i] = i;
    return v;
}

// W4's measurement: run(requests) makes one batch of `requests` (a
// std::vector<std::uint64_t> made beforehand, outside the measurement) on a
// channel, the same channel every time, and returns how many of them went
// wrong. A warm-up batch, then the measured one.
template <class F>
run_result measure_batch(const batch_params& p, F&& run)
{
    run_result r;
    const std::vector<std::uint64_t> warm = batch_requests(p.warm);
    const std::vector<std::uint64_t> measured = batch_requests(p.requests);
    r.errors += run(warm);
    const double rss_before = start_rss_measurement();
    const allocation_count a0 = allocations();
    const double cpu0 = process_cpu_seconds();
    const auto t0 = clock_type::now();
    r.errors += run(measured);
    const auto t1 = clock_type::now();
    const double cpu1 = process_cpu_seconds();
    const allocation_count a1 = allocations();
    r.rss_peak_mb = peak_rss_mb();
    r.rss_growth_mb = r.rss_peak_mb - rss_before;
    r.requests = p.requests;
    r.seconds = std::chrono::duration<double>(t1 - t0).count();
    r.cpu_seconds = cpu1 - cpu0;
    r.allocs = {a1.count - a0.count, a1.bytes - a0.bytes};
    return r;
}

// The cores of W3 and W5: in W3 the clients on one, the responder on the
// other; in W5 clients on both, and a Fiber responder on server_core (an Asio
// responder runs on whichever thread of the shared io_context picks it up).
constexpr int client_core = 0;
constexpr int server_core = 1;

}  // namespace boost::duplex::bench

#endif
