//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// dynamic_concurrency in simulation: drives the limiter that
// make_limiter(dynamic_concurrency) returns against a model resource of
// capacity K (test/core/limiter_model.hpp: processor sharing, latency = base
// while at most K run, growing in proportion beyond), writes the limit and the
// latency over virtual time as CSV for bench/plot_limiter.gnuplot, and prints
// how the dynamic limit compares with fixed limits of 1, K and max on the same
// resource. Deterministic; needs the Boost.Duplex headers only (no Boost
// library to link).
//
//   g++ -std=c++20 -O2 -I include bench/limiter_sim.cpp -o /tmp/limiter_sim
//   /tmp/limiter_sim /tmp/limiter_csv            # CSV files + summary on stdout
//   gnuplot -e "csv='/tmp/limiter_csv'" bench/plot_limiter.gnuplot   # doc/img/limiter_*.png

#include "../test/core/limiter_model.hpp"

#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/detail/core/limiter.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace dx = boost::duplex;
namespace dd = boost::duplex::detail;
namespace lm = limiter_model;

constexpr double base = 10e6;  // ns of work per request
constexpr std::size_t max_limit = 64;
constexpr double bucket = 10 * base;  // CSV resolution: 100 ms of virtual time

struct fixed {
    std::size_t n;
    std::size_t limit() const { return n; }
    void on_complete(std::chrono::nanoseconds, bool) {}
};

dx::dynamic_concurrency dynamic(std::size_t initial = 4, std::size_t window = 16)
{
    dx::dynamic_concurrency d;
    d.initial = initial;
    d.window = window;
    d.max = max_limit;
    d.min = 1;
    return d;
}

lm::scenario resource(std::string name, std::size_t k, std::size_t completions = 20000)
{
    lm::scenario s;
    s.name = std::move(name);
    s.phases.push_back(lm::phase{0, k, base});
    s.completions = completions;
    return s;
}

// One row per bucket of virtual time: the limit at its end, the mean number in
// flight and the mean latency of the completions in it, the capacity.
void write_csv(const std::string& path, const lm::run& r)
{
    std::ofstream out(path);
    out << "time_s,limit,in_flight,latency_ms,capacity,probing\n";
    std::size_t i = 0;
    while (i < r.trace.size()) {
        const double end = (static_cast<std::size_t>(r.trace[i].time / bucket) + 1) * bucket;
        double lat = 0.0, fl = 0.0;
        std::size_t n = 0;
        bool probing = false;
        for (; i < r.trace.size() && r.trace[i].time < end; ++i, ++n) {
            lat += r.trace[i].latency;
            fl += static_cast<double>(r.trace[i].in_flight);
            probing = probing || r.trace[i].probing;
        }
        const auto& last = r.trace[i - 1];
        out << end * 1e-9 << ',' << last.limit << ',' << fl / n << ',' << lat / n / 1e6 << ',' << last.capacity << ','
            << (probing ? 1 : 0) << '\n';
    }
}

template <class Limiter>
lm::run run(Limiter l, const lm::scenario& s, const std::string& dir, const std::string& file)
{
    lm::run r = lm::simulate(l, s);
    if (!file.empty())
        write_csv(dir + "/" + file, r);
    return r;
}

std::string fmt(double x, int precision = 1)
{
    std::ostringstream o;
    o << std::fixed << std::setprecision(precision) << x;
    return o.str();
}

}  // namespace

int main(int argc, char** argv)
{
    const std::string dir = argc > 1 ? argv[1] : ".";
    std::filesystem::create_directories(dir);
    std::ofstream summary(dir + "/summary.csv");
    summary << "scenario,K,strategy,throughput_per_s,mean_latency_ms,mean_limit\n";

    std::cout << "dynamic_concurrency{initial 4, max " << max_limit << "} against a resource of capacity K, "
              << "base latency " << base / 1e6 << " ms; measures over the second half of each run\n\n";
    std::cout << "scenario     K | settled in [K,2K] after | limit (probes aside) | throughput vs best fixed | "
                 "latency: dynamic, fixed 1, K, " << max_limit << " (ms)\n";

    struct variant {
        std::string name;
        double jitter, loss;
        bool exponential;
        std::size_t window;
    };
    const variant variants[] = {{"steady", 0.0, 0.0, false, 16},
                                {"jitter20", 0.2, 0.0, false, 16},
                                {"loss1", 0.0, 0.01, false, 16},
                                {"exponential", 0.0, 0.0, true, 16},
                                {"exp_window64", 0.0, 0.0, true, 64}};
    for (const variant& v : variants) {
        // One row per K: throughput (% of the best) and mean latency (ms) of fixed 1, K, max and dynamic.
        std::ofstream compare(dir + "/compare_" + v.name + ".csv");
        compare << "K,thr_fixed1,thr_fixedK,thr_fixedmax,thr_dynamic,lat_fixed1,lat_fixedK,lat_fixedmax,lat_dynamic\n";
        for (std::size_t k : {2, 4, 8, 32}) {
            lm::scenario s = resource(v.name, k);
            s.jitter = v.jitter;
            s.loss = v.loss;
            s.exponential = v.exponential;
            s.seed = 42 + k;
            const std::size_t first = s.completions / 2, last = s.completions;
            const lm::run r =
                run(dd::make_limiter(dynamic(4, v.window)), s, dir, v.name + "_k" + std::to_string(k) + ".csv");
            std::size_t lo = max_limit, hi = 0;
            for (std::size_t i = first; i < last; ++i)
                if (!r.trace[i].probing) {
                    lo = std::min(lo, r.trace[i].limit);
                    hi = std::max(hi, r.trace[i].limit);
                }
            const std::size_t settled = r.settled_from(0, last, k, 2 * k);
            double best = 0.0, lat[3] = {}, thr[3] = {};
            int j = 0;
            for (std::size_t n : {std::size_t{1}, k, max_limit}) {
                const lm::run f = run(fixed{n}, s, dir, "");
                best = std::max(best, f.throughput(first, last));
                thr[j] = f.throughput(first, last);
                lat[j++] = f.mean_latency(first, last);
                summary << v.name << ',' << k << ",fixed " << n << ',' << f.throughput(first, last) << ','
                        << f.mean_latency(first, last) / 1e6 << ',' << n << '\n';
            }
            compare << k;
            for (double t : {thr[0], thr[1], thr[2], r.throughput(first, last)})
                compare << ',' << 100.0 * t / best;
            for (double l : {lat[0], lat[1], lat[2], r.mean_latency(first, last)})
                compare << ',' << l / 1e6;
            compare << '\n';
            summary << v.name << ',' << k << ",dynamic," << r.throughput(first, last) << ','
                    << r.mean_latency(first, last) / 1e6 << ',' << r.mean_limit(first, last) << '\n';
            std::cout << std::left << std::setw(12) << v.name << std::right << std::setw(3) << k << " | "
                      << std::setw(23) << (settled < last ? std::to_string(settled) : std::string("-")) << " | "
                      << std::setw(8) << (std::to_string(lo) + ".." + std::to_string(hi)) << ", mean "
                      << std::setw(5) << fmt(r.mean_limit(first, last)) << " | " << std::setw(23)
                      << (fmt(100.0 * r.throughput(first, last) / best) + "%") << " | "
                      << fmt(r.mean_latency(first, last) / 1e6) << ", " << fmt(lat[0] / 1e6) << ", "
                      << fmt(lat[1] / 1e6) << ", " << fmt(lat[2] / 1e6) << '\n';
        }
    }

    // Capacity steps 8 -> 2 -> 8, the default and the AIMD alternative.
    {
        lm::scenario s;
        s.name = "step";
        s.phases = {lm::phase{0, 8, base}, lm::phase{10000, 2, base}, lm::phase{20000, 8, base}};
        s.completions = 30000;
        const lm::run r = run(dd::make_limiter(dynamic()), s, dir, "step.csv");
        dx::aimd_concurrency a;
        a.initial = 4;
        a.max = max_limit;
        run(dd::make_limiter(a), s, dir, "step_aimd.csv");
        std::cout << "\nstep K 8 -> 2 -> 8 (10000 completions each): settled in [K, 2K] after";
        for (std::size_t i = 0; i != 3; ++i)
            std::cout << ' ' << r.settled_from(i * 10000, (i + 1) * 10000, s.phases[i].capacity, 2 * s.phases[i].capacity) - i * 10000;
        std::cout << " completions\n";
    }
    // Constant latency: the limit grows to max.
    {
        lm::scenario s = resource("constant", 100000, 5000);
        const lm::run r = run(dd::make_limiter(dynamic()), s, dir, "constant.csv");
        std::cout << "constant latency: max (" << max_limit << ") reached after "
                  << r.settled_from(0, s.completions, max_limit, max_limit) << " completions\n";
    }
    // Low load: 3 clients against a limit of 16: it does not grow.
    {
        lm::scenario s = resource("lowload", 100000, 5000);
        s.users = 3;
        const lm::run r = run(dd::make_limiter(dynamic(16)), s, dir, "lowload.csv");
        const auto range = r.limit_range(0, s.completions);
        std::cout << "3 clients, limit 16: limit stays " << range.first << ".." << range.second << '\n';
    }
    // A start far above the capacity, with a deadline of 5 x base.
    {
        lm::scenario s = resource("overload", 2, 5000);
        s.timeout = 5 * base;
        const lm::run r = run(dd::make_limiter(dynamic(64)), s, dir, "overload.csv");
        std::cout << "start at 64 on K=2, timeout 5 x base: settled in [K, 2K] after " << r.settled_from(0, s.completions, 2, 4)
                  << " completions\n";
    }
    std::cout << "\nCSV files and summary.csv written to " << dir << '\n';
}
