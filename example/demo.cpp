//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The Boost.Duplex demo.
//
// Part 1: 64 clients send the same mix of requests on both backends (single
// requests, a fail-fast batch, a settled batch with a failure, a slow job
// with a short deadline) and the outcomes are tallied: both backends must
// agree on every count.
//
// The benchmark that used to follow is bench/duplex_bench.cpp (scripts/demo.sh
// runs its short version, `duplex_bench --quick`, after this program).
//
// Exits 0 when both backends gave the expected tallies.

#include <boost/duplex.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>
#include <boost/system/errc.hpp>
#include <boost/version.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <future>
#include <latch>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace dx = boost::duplex;
namespace fibers = boost::fibers;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr int clients = 64;

double seconds_since(clock_type::time_point start)
{
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

// ---------------------------------------------------------------------------
// Part 1: the request mix
// ---------------------------------------------------------------------------

// A job for the responder: its answer is value × 2, after work_ms of work;
// an invalid job is refused with an error of the handler's own.
struct job {
    int value = 0;
    int work_ms = 0;
    bool valid = true;
};

boost::system::error_code refusal()
{
    return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
}

// What one client sends, in order (29 requests):
//   16 single requests, one after another;
//   a fail-fast batch of 8, at most 4 at once;
//   a settled batch of 4, at most 2 at once, one of them invalid;
//   a 100 ms job with a deadline of its own of 20 ms, which must time out.
std::vector<job> fail_fast_batch(int id)
{
    std::vector<job> b;
    for (int i = 0; i < 8; ++i)
        b.push_back(job{id + i});
    return b;
}

std::vector<job> settled_batch(int id)
{
    std::vector<job> b = fail_fast_batch(id);
    b.resize(4);
    b[1].valid = false;
    return b;
}

const job slow_job{0, 100};
constexpr auto slow_job_deadline = 20ms;

// The outcomes of every client's requests, from any thread.
struct tally {
    std::atomic<int> requests{0}, answered{0}, refused{0}, timed_out{0}, unexpected{0};

    void single(const dx::result<int>& r, int value)
    {
        ++requests;
        if (r && r.value() == value * 2)
            ++answered;
        else if (!r && r.error() == refusal())
            ++refused;
        else if (!r && r.error() == dx::error::timeout)
            ++timed_out;
        else
            ++unexpected;
    }

    void batch(const dx::result<std::vector<int>>& r, const std::vector<job>& sent)
    {
        requests += static_cast<int>(sent.size());
        bool right = r && r.value().size() == sent.size();
        for (std::size_t i = 0; right && i < sent.size(); ++i)
            right = r.value()[i] == sent[i].value * 2;
        (right ? answered : unexpected) += static_cast<int>(sent.size());
    }

    void settled(const std::vector<dx::result<int>>& rs, const std::vector<job>& sent)
    {
        for (std::size_t i = 0; i < sent.size(); ++i)
            single(rs.at(i), sent[i].value);
    }
};

// The counts every backend must reach.
constexpr int mix_requests = clients * 29;
constexpr int mix_answered = clients * (16 + 8 + 3);
constexpr int mix_refused = clients;
constexpr int mix_timed_out = clients;

struct mix_report {
    const char* backend;
    double seconds = 0;
    int requests = 0, answered = 0, refused = 0, timed_out = 0, unexpected = 0;
    int slow_jobs_run = 0;
    dx::responder_stats stats{};
    bool run_ok = false;

    bool as_expected() const
    {
        return run_ok && requests == mix_requests && answered == mix_answered && refused == mix_refused &&
               timed_out == mix_timed_out && unexpected == 0;
    }
};

mix_report report(const char* backend, clock_type::time_point start, const tally& t, int slow_jobs_run,
                  dx::responder_stats stats, bool run_ok)
{
    mix_report r{backend};
    r.seconds = seconds_since(start);
    r.requests = t.requests;
    r.answered = t.answered;
    r.refused = t.refused;
    r.timed_out = t.timed_out;
    r.unexpected = t.unexpected;
    r.slow_jobs_run = slow_jobs_run;
    r.stats = stats;
    r.run_ok = run_ok;
    return r;
}

// --- the mix on the Asio backend: 64 coroutines, io_context run by 2 threads

using asio_mix_client = dx::asio_client<job, int>;

net::awaitable<void> asio_mix_session(asio_mix_client client, int id, tally& t)
{
    for (int i = 0; i < 16; ++i)
        t.single(co_await client.async_request(job{id + i}, net::use_awaitable), id + i);

    const std::vector<job> batch = fail_fast_batch(id);
    t.batch(co_await client.async_request_batch(batch, 4, net::use_awaitable), batch);

    const std::vector<job> settled = settled_batch(id);
    t.settled(co_await client.async_request_batch_settled(settled, 2, net::use_awaitable), settled);

    t.single(co_await client.async_request(slow_job, slow_job_deadline, net::use_awaitable), slow_job.value);
}

mix_report asio_mix()
{
    net::io_context io;
    auto [client, responder] = dx::make_asio_channel<job, int>(io.get_executor());

    // An awaitable handler: a slow job waits on a timer without holding up the others.
    std::atomic<int> slow_runs{0};
    auto handler = [&slow_runs](job j) -> net::awaitable<dx::result<int>> {
        if (!j.valid)
            co_return refusal();
        if (j.work_ms > 0) {
            ++slow_runs;
            net::steady_timer work(co_await net::this_coro::executor, std::chrono::milliseconds(j.work_ms));
            co_await work.async_wait(net::as_tuple(net::use_awaitable));
        }
        co_return j.value * 2;
    };
    std::promise<bool> run_end;
    responder.async_run(handler, dx::fixed_concurrency{32},
                        [&run_end](dx::result<void> r) { run_end.set_value(r.has_value()); });

    tally t;
    std::latch sessions_done(clients);
    const auto start = clock_type::now();
    for (int id = 0; id < clients; ++id)
        net::co_spawn(io, asio_mix_session(client, id * 100, t), [&sessions_done](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e);
            sessions_done.count_down();
        });

    std::thread second([&io] { io.run(); });
    std::thread first([&io] { io.run(); });
    sessions_done.wait();
    auto r = report("Asio", start, t, 0, responder.stats(), false);
    responder.stop();  // the slow jobs still running finish, then the run ends
    r.run_ok = run_end.get_future().get();
    r.slow_jobs_run = slow_runs;
    // Nothing is left to do: both threads return from io.run().
    first.join();
    second.join();
    return r;
}

// --- the mix on the Fiber backend: 64 fibers on 2 threads

using fiber_mix_client = dx::fiber_client<job, int>;

void fiber_mix_session(fiber_mix_client client, int id, tally& t)
{
    for (int i = 0; i < 16; ++i)
        t.single(client.request(job{id + i}), id + i);

    const std::vector<job> batch = fail_fast_batch(id);
    t.batch(client.request_batch(batch, 4), batch);

    const std::vector<job> settled = settled_batch(id);
    t.settled(client.request_batch_settled(settled, 2), settled);

    t.single(client.request(slow_job, slow_job_deadline), slow_job.value);
}

// Runs `n` fibers on the calling thread, each calling `f(i)`, and joins them.
template <class F>
void run_fibers(int first, int n, F f)
{
    std::vector<fibers::fiber> fs;
    for (int i = first; i < first + n; ++i)
        fs.emplace_back([&f, i] { f(i); });
    for (auto& fb : fs)
        fb.join();
}

mix_report fiber_mix()
{
    auto channel = dx::make_fiber_channel<job, int>();
    fiber_mix_client client = std::move(channel.first);
    dx::fiber_responder<job, int> responder = std::move(channel.second);

    // A plain function: a slow job just blocks its own fiber.
    std::atomic<int> slow_runs{0};
    auto handler = [&slow_runs](job j) -> dx::result<int> {
        if (!j.valid)
            return refusal();
        if (j.work_ms > 0) {
            ++slow_runs;
            boost::this_fiber::sleep_for(std::chrono::milliseconds(j.work_ms));
        }
        return j.value * 2;
    };

    tally t;
    std::latch sessions_done(clients);
    auto session = [&](int id) {
        fiber_mix_session(client, id * 100, t);
        sessions_done.count_down();
    };
    dx::result<void> run_result = dx::make_error_code(dx::error::closed);
    const auto start = clock_type::now();

    // Thread 1: the responder and half the clients; thread 2: the other half.
    // This (main) thread only waits, so blocking it blocks no fiber.
    std::thread first([&] {
        fibers::fiber server([&] { run_result = responder.run(handler, dx::fixed_concurrency{32}); });
        run_fibers(0, clients / 2, session);
        server.join();
    });
    std::thread second([&] { run_fibers(clients / 2, clients / 2, session); });
    sessions_done.wait();
    auto r = report("Fiber", start, t, 0, responder.stats(), false);
    responder.stop();
    first.join();
    second.join();
    r.run_ok = run_result.has_value();
    r.slow_jobs_run = slow_runs;
    return r;
}

// ---------------------------------------------------------------------------

const char* compiler()
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "g++ " __VERSION__;
#else
    return "unknown compiler";
#endif
}

int main()
{
    const auto program_start = clock_type::now();
    std::printf("Boost.Duplex demo\n");
    std::printf("machine: %u hardware threads; %s; Boost %d.%d; %s\n\n", std::thread::hardware_concurrency(),
                compiler(), BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000,
#if defined(__OPTIMIZE__)
                "optimised build"
#else
                "UNOPTIMISED build"
#endif
    );

    std::printf("1. %d clients, each: 16 requests, a fail-fast batch of 8, a settled batch of 4 with one\n"
                "   invalid job, and a 100 ms job with a 20 ms deadline. Responder limit: 32 at once.\n\n",
                clients);
    const mix_report mixes[] = {asio_mix(), fiber_mix()};
    std::printf("   %-6s %8s %9s %8s %10s %11s %9s %9s\n", "", "requests", "answered", "refused", "timed out",
                "unexpected", "slow run", "time");
    for (const auto& m : mixes)
        std::printf("   %-6s %8d %9d %8d %10d %11d %9d %7.0f ms%s\n", m.backend, m.requests, m.answered, m.refused,
                    m.timed_out, m.unexpected, m.slow_jobs_run, m.seconds * 1000, m.as_expected() ? "" : "  <- WRONG");
    std::printf("   expected %6d %9d %8d %10d %11d\n", mix_requests, mix_answered, mix_refused, mix_timed_out, 0);
    std::printf("   \"slow run\": slow jobs that reached the handler. At most 32 run at once; a slow job whose\n"
                "   deadline passed while it waited for a turn never reaches the handler (fewer run where more\n"
                "   clients reach their slow job at the same moment).\n\n");

    const bool ok = mixes[0].as_expected() && mixes[1].as_expected();
    std::printf("\ntotal time %.1f s; %s\n", seconds_since(program_start), ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
}
