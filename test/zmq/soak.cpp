//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The remote chaos soak (doc/zmq.md): clients keep requests flowing to two
// serving processes (zmq_test_server over tcp://127.0.0.1) while a chaos
// thread kills one of them with SIGKILL at random moments and restarts it
// on the same port. Every request is counted once it completes: answered
// (by the right request's reply: its tag, from a process that exists),
// closed (its serving process was lost: counted, not lost), or unexpected.
// Required: 0 lost (never completed), 0 duplicated (completed twice), 0
// misrouted (another request's reply), 0 unexpected.
//
// DUPLEX_ZMQ_SOAK_SECONDS sets the duration (default 15).

#define BOOST_TEST_MODULE zmq_soak
#include <boost/test/unit_test.hpp>

#include "common.hpp"
#include "process.hpp"

#include <cstdlib>
#include <mutex>
#include <random>
#include <set>

using namespace duplex_test;

namespace {

struct tally {
    std::atomic<std::uint64_t> answered{0}, closed{0}, misrouted{0}, unexpected{0}, duplicated{0};
};

}  // namespace

BOOST_AUTO_TEST_CASE(remote_chaos_soak_loses_duplicates_and_misroutes_nothing)
{
    const char* env = std::getenv("DUPLEX_ZMQ_SOAK_SECONDS");
    const auto duration = std::chrono::duration<double>(env ? std::atof(env) : 15.0);

    // Two serving processes on fixed ports (chosen by the first start).
    std::mutex pids_mutex;
    std::set<std::string> pids;
    std::vector<std::unique_ptr<server_process>> servers;
    std::vector<std::string> endpoints;
    for (int i = 0; i < 2; ++i) {
        servers.push_back(std::make_unique<server_process>(
            std::vector<std::string>{"--endpoint", "tcp://127.0.0.1:*", "--concurrency", "16"}));
        endpoints.push_back(servers.back()->endpoint());
        pids.insert(std::to_string(servers.back()->pid()));
    }

    net::io_context io;
    dx::zmq_client_options opts;
    opts.peer_timeout = 300ms;
    opts.timeout = 5s;
    auto client = connect<std::string, std::string>(io, endpoints, opts);

    constexpr std::size_t max_requests = 4'000'000;
    std::vector<std::uint8_t> completions(max_requests, 0);
    std::atomic<std::size_t> issued{0};
    tally t;
    std::atomic<bool> stop{false};
    std::atomic<int> workers_running{0};
    std::atomic<int> kills{0};

    // The chaos thread: every 0.5 to 1.5 s, kill -9 one server, restart it
    // 100 to 400 ms later on its port.
    std::thread chaos([&] {
        std::mt19937 rng(12345);
        std::uniform_int_distribution<int> pause(500, 1500), down(100, 400), which(0, 1);
        while (!stop) {
            for (int slept = 0, p = pause(rng); slept < p && !stop; slept += 10)
                std::this_thread::sleep_for(10ms);
            if (stop)
                break;
            const int k = which(rng);
            servers[static_cast<std::size_t>(k)]->kill(SIGKILL);
            ++kills;
            std::this_thread::sleep_for(std::chrono::milliseconds(down(rng)));
            auto s = std::make_unique<server_process>(
                std::vector<std::string>{"--endpoint", endpoints[static_cast<std::size_t>(k)], "--concurrency", "16"});
            {
                std::lock_guard lock(pids_mutex);
                pids.insert(std::to_string(s->pid()));
            }
            servers[static_cast<std::size_t>(k)] = std::move(s);
        }
    });

    auto worker = [&](int seed) -> net::awaitable<void> {
        std::mt19937 rng(static_cast<unsigned>(seed));
        std::uniform_int_distribution<int> kind(0, 9), ms(0, 20);
        while (!stop) {
            const std::size_t id = issued++;
            if (id >= max_requests)
                break;
            const std::string tag = std::to_string(id);
            const std::string req = kind(rng) == 0 ? "sleep:" + std::to_string(ms(rng)) + ":" + tag : "echo:" + tag;
            auto [r] = co_await client.async_request(req, net::as_tuple(net::use_awaitable));
            if (++completions[id] > 1)
                ++t.duplicated;
            if (r.has_value()) {
                const std::string& v = r.value();
                const auto colon = v.find(':');
                bool known_pid;
                {
                    std::lock_guard lock(pids_mutex);
                    known_pid = colon != std::string::npos && pids.count(v.substr(0, colon)) != 0;
                }
                if (!known_pid || v.substr(colon + 1) != tag)
                    ++t.misrouted;
                else
                    ++t.answered;
            } else if (r.error() == code(dx::error::closed)) {
                ++t.closed;
            } else {
                ++t.unexpected;
                BOOST_TEST_MESSAGE("unexpected: request " << id << ": " << r.error().message());
            }
        }
        --workers_running;
    };

    constexpr int workers = 32;
    workers_running = workers;
    for (int i = 0; i < workers; ++i)
        net::co_spawn(io, worker(i), net::detached);

    const auto t0 = clock_type::now();
    run_until(io, [&] { return clock_type::now() - t0 >= duration; }, std::chrono::duration_cast<clock_type::duration>(duration) + 1s);
    stop = true;
    chaos.join();
    // Every request issued must complete (a restart may still be needed:
    // the chaos thread restarted whatever it killed before it stopped).
    const bool drained = run_until(io, [&] { return workers_running == 0; }, 30s);
    BOOST_TEST(drained);

    const std::size_t n = std::min<std::size_t>(issued, max_requests);
    std::size_t lost = 0;
    for (std::size_t i = 0; i < n; ++i)
        lost += completions[i] == 0;
    std::ostringstream report;
    report << "remote soak: " << std::chrono::duration<double>(clock_type::now() - t0).count() << " s, " << kills
           << " kills, " << n << " requests: " << t.answered << " answered, " << t.closed << " closed (peer lost), "
           << lost << " lost, " << t.duplicated << " duplicated, " << t.misrouted << " misrouted, " << t.unexpected
           << " unexpected";
    std::cout << report.str() << std::endl;
    BOOST_TEST(lost == 0u);
    BOOST_TEST(t.duplicated == 0u);
    BOOST_TEST(t.misrouted == 0u);
    BOOST_TEST(t.unexpected == 0u);
    BOOST_TEST(t.answered > 0u);
    BOOST_TEST(kills > 0);
}
