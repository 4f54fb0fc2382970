//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The chaos soak: many clients on two threads hammer a channel with requests
// that each draw some trouble (a deadline shorter than the handler, a
// cancellation, a throwing or failing handler, a place in a batch), while the
// channel is replaced every few thousand requests and the old one stopped or
// destroyed under load. Every request's fate is written down and checked at
// the end: nothing lost, nothing answered twice or to the wrong caller, no
// handler work on a request that had already expired or been cancelled while
// queued, no slot left occupied. See doc/reliability.md.
//
//   soak [--requests N] [--backend asio|fiber|both] [--clients N]
//        [--switch-every N] [--seed N] [--stall-seconds N] [--progress SECONDS]
//
// --requests is per backend (default 100000). Exits 0 only when every
// backend's run is clean; a run that stops making progress for
// --stall-seconds (default 60) is a hang: the program prints what it knows
// and exits 2. --progress prints the number of completed calls every so many
// seconds (for long runs; default off).

#include "asio_soak.hpp"
#include "fiber_soak.hpp"

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

namespace {

using namespace soak;

// Ends the process when a backend's run stops making progress.
class watchdog {
public:
    watchdog(stall_watch& w, const char* backend, std::chrono::seconds progress)
        : thread_([this, &w, backend, progress] {
            std::unique_lock lk(mutex_);
            auto last = w.ticks();
            const auto start = clock_type::now();
            auto since = start;
            auto shown = start;
            while (!done_) {
                // Polls the progress counter once a second: a watchdog, not a wait for an event.
                cv_.wait_for(lk, std::chrono::seconds(1));
                const auto now_ticks = w.ticks();
                if (progress.count() > 0 && clock_type::now() - shown >= progress) {
                    shown = clock_type::now();
                    std::printf("  (%s: %llu calls completed after %.0f s)\n", backend,
                                static_cast<unsigned long long>(now_ticks),
                                std::chrono::duration<double>(shown - start).count());
                    std::fflush(stdout);
                }
                if (now_ticks != last) {
                    last = now_ticks;
                    since = clock_type::now();
                } else if (!done_ && clock_type::now() - since > w.limit()) {
                    std::printf("\n*** soak (%s): no request completed for %lld s after %llu completions: a hang\n"
                                "soak: FAILED\n",
                                backend, static_cast<long long>(w.limit().count()), static_cast<unsigned long long>(last));
                    std::fflush(stdout);
                    std::_Exit(2);
                }
            }
        })
    {
    }
    ~watchdog()
    {
        {
            std::lock_guard lk(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

template <class Run>
report run_backend(const settings& cfg, const char* name, Run run)
{
    reset_slot_counters();
    // Room for uneven shares: a client may make up to 3x its average.
    ledger book(cfg.clients, static_cast<std::uint32_t>(cfg.requests / cfg.clients * 3 + 64));
    stall_watch watch(cfg.stall_limit);
    watchdog dog(watch, name, cfg.progress);
    return run(cfg, book, watch);
}

bool parse(int argc, char** argv, settings& cfg, std::string& backend)
{
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        const char* v = nullptr;
        if (!std::strcmp(a, "--requests") && (v = value()))
            cfg.requests = std::strtoull(v, nullptr, 10);
        else if (!std::strcmp(a, "--backend") && (v = value()))
            backend = v;
        else if (!std::strcmp(a, "--clients") && (v = value()))
            cfg.clients = static_cast<std::uint32_t>(std::strtoul(v, nullptr, 10));
        else if (!std::strcmp(a, "--switch-every") && (v = value()))
            cfg.switch_every = static_cast<std::uint32_t>(std::strtoul(v, nullptr, 10));
        else if (!std::strcmp(a, "--seed") && (v = value()))
            cfg.seed = std::strtoull(v, nullptr, 10);
        else if (!std::strcmp(a, "--stall-seconds") && (v = value()))
            cfg.stall_limit = std::chrono::seconds(std::strtoul(v, nullptr, 10));
        else if (!std::strcmp(a, "--progress") && (v = value()))
            cfg.progress = std::chrono::seconds(std::strtoul(v, nullptr, 10));
        else
            return false;
    }
    return cfg.requests > 0 && cfg.clients >= 2 && cfg.clients % 2 == 0 && cfg.switch_every > 0 &&
           (backend == "asio" || backend == "fiber" || backend == "both");
}

}  // namespace

int main(int argc, char** argv)
{
    settings cfg;
    std::string backend = "both";
    if (!parse(argc, argv, cfg, backend)) {
        std::fprintf(stderr,
                     "usage: soak [--requests N] [--backend asio|fiber|both] [--clients N (even)] "
                     "[--switch-every N] [--seed N] [--stall-seconds N] [--progress SECONDS]\n");
        return 2;
    }
    std::printf("chaos soak: %llu requests per backend, %u clients on 2 threads, a new channel every ~%u requests, "
                "seed %llu\n",
                static_cast<unsigned long long>(cfg.requests), cfg.clients, cfg.switch_every,
                static_cast<unsigned long long>(cfg.seed));
    std::fflush(stdout);

    bool clean = true;
    std::uint64_t total = 0;
    if (backend != "fiber") {
        const report r = run_backend(cfg, "asio", soak::asio_backend::run);
        print(r);
        clean = clean && r.clean();
        total += r.issued;
    }
    std::fflush(stdout);
    if (backend != "asio") {
        const report r = run_backend(cfg, "fiber", soak::fiber_backend::run);
        print(r);
        clean = clean && r.clean();
        total += r.issued;
    }
    std::printf("\nsoak: %s (%llu requests)\n", clean ? "all clean" : "FAILED", static_cast<unsigned long long>(total));
    return clean ? 0 : 1;
}
