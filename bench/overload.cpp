//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// duplex_overload: overload control under open-loop load (issue #13).
//
// A responder serves a resource of `workers` parallel units, each taking a
// fixed service time per request (so its capacity is workers / service time,
// whatever the concurrency limit: above `workers`, requests wait inside the
// handler, and their latency grows, which is what dynamic_concurrency
// watches). Clients send requests at Poisson arrival times, open loop (a
// request's latency counts from its scheduled arrival, so a late sender
// cannot hide queueing), at a multiple of that capacity, for a fixed time.
// Every request has the same deadline.
//
// Policies compared (all on one channel configuration otherwise):
//   fifo        no overload control (the first edition's behaviour)
//   shed        overload_options{} (interval 100 ms, target 5 ms, shed)
//   shed+lifo   the same with lifo
//   flows       shed, each of ten flows its own (with_flow)
//   priorities  shed, flows, and the critical stream at priority::critical
// Traffic mixes:
//   flood       ten flows, one sending ten times as much as each other one
//   critical    a critical stream at 30 % of capacity, the rest as `flood`
//
// Reported per run: goodput (responses within the deadline per second, as a
// share of capacity), latency of served requests (p50, p99), time from the
// call to error::overloaded for shed requests (p50, p99), success rate of the
// critical and the normal class, served share of the flooding flow and of the
// worst-served quiet flow, and the CPU time of the process per request.
//
//   duplex_overload [--quick] [--seconds S] [--only POLICY] [--out DIR]
//
// --quick: 1.5 s per run and a subset of the runs (the demo's short form).
// Writes DIR/overload.dat (one line per run, for bench/plot_overload.gnuplot)
// and prints a Markdown table.

#include <boost/duplex/asio.hpp>
#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/priority.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

namespace net = boost::asio;
namespace dx = boost::duplex;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The served resource.
constexpr int workers = 8;
constexpr auto service_time = 1ms;
constexpr double capacity = workers / std::chrono::duration<double>(service_time).count();  // requests/s
constexpr auto deadline = 500ms;
constexpr std::size_t queue_capacity = 8192;  // holds an interval (100 ms) of arrivals at 5x: no request waits for room
constexpr int flow_count = 10;      // flow 0 floods: ten times each of the others
constexpr double critical_share = 0.3;  // of capacity, in the `critical` mix

enum class policy { fifo, shed, shed_lifo, flows, priorities };
enum class mix { flood, critical };
enum class limiter { fixed, dynamic };

const char* name(policy p)
{
    switch (p) {
    case policy::fifo: return "fifo";
    case policy::shed: return "shed";
    case policy::shed_lifo: return "shed+lifo";
    case policy::flows: return "flows";
    case policy::priorities: return "priorities";
    }
    return "?";
}

const char* name(mix m) { return m == mix::flood ? "flood" : "critical"; }
const char* name(limiter l) { return l == limiter::fixed ? "fixed" : "dynamic"; }

// K parallel units with a deterministic service time, in FIFO order of
// arrival at the handler: a request that finds every unit busy waits for the
// first to free up. Kept as the time each unit is next free, so that a
// handler only waits on one timer.
class resource {
public:
    clock_type::time_point finish_time_for(clock_type::time_point now)
    {
        auto it = std::min_element(free_at_.begin(), free_at_.end());
        const auto start = std::max(now, *it);
        *it = start + service_time;
        return *it;
    }

private:
    std::array<clock_type::time_point, workers> free_at_{};
};

struct record {
    clock_type::time_point scheduled{};
    clock_type::duration took{};
    std::int8_t outcome = -1;  // -1 pending; 0 value; otherwise the dx::error value
    std::uint8_t flow = 0;
    bool critical = false;
};

struct run_result {
    policy pol;
    mix traffic;
    limiter lim;
    double load;
    std::size_t sent = 0;
    double goodput_share = 0;  // served within deadline per second, / capacity
    double served_p50_ms = 0, served_p99_ms = 0;
    double shed_p50_ms = 0, shed_p99_ms = 0;
    std::size_t shed = 0, timed_out = 0;
    double critical_success = -1;  // -1: no critical traffic
    double normal_success = 0;
    double flooder_served = 0;      // share of the flooding flow's requests served
    double worst_quiet_served = 0;  // the lowest share among the nine quiet flows
    double cpu_us_per_request = 0;
};

double percentile_ms(std::vector<clock_type::duration>& v, double p)
{
    if (v.empty())
        return 0;
    const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    return std::chrono::duration<double, std::milli>(v[i]).count();
}

double cpu_seconds()
{
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

run_result run_one(policy pol, mix traffic, limiter lim, double load, clock_type::duration length, unsigned seed)
{
    net::io_context io;
    dx::channel_options opts;
    opts.capacity = queue_capacity;
    opts.timeout = deadline;
    if (pol != policy::fifo) {
        opts.overload = dx::overload_options{};
        opts.overload->lifo = pol == policy::shed_lifo;
    }
    auto [client, responder] = dx::make_asio_channel<std::uint32_t, std::uint32_t>(io.get_executor(), opts);

    resource res;
    auto handler = [&res](std::uint32_t x) -> net::awaitable<std::uint32_t> {
        net::steady_timer t(co_await net::this_coro::executor, res.finish_time_for(clock_type::now()));
        co_await t.async_wait(net::use_awaitable);
        co_return x;
    };
    bool run_done = false;
    if (lim == limiter::fixed)
        responder.async_run(handler, dx::fixed_concurrency{2 * workers}, [&](dx::result<void>) { run_done = true; });
    else
        responder.async_run(handler, dx::dynamic_concurrency{.initial = 4, .max = 64, .min = 1},
                            [&](dx::result<void>) { run_done = true; });

    // The clients: one per flow, and the critical stream.
    std::vector<dx::asio_client<std::uint32_t, std::uint32_t>> flows;
    for (int f = 0; f != flow_count; ++f) {
        auto c = client;
        if (pol == policy::flows || pol == policy::priorities)
            c = c.with_flow(static_cast<std::uint64_t>(f));
        flows.push_back(c);
    }
    auto critical_client = client;
    if (pol == policy::priorities)
        critical_client = client.with_priority(dx::priority::critical).with_flow(flow_count);

    // The arrival schedule, drawn up front: Poisson at the total rate; each
    // arrival critical with its share, else a flow (flow 0 weighing ten).
    const double total_rate = load * capacity;
    const double critical_rate = traffic == mix::critical ? std::min(critical_share * capacity, total_rate) : 0.0;
    std::mt19937_64 rng(seed);
    std::exponential_distribution<double> gap(total_rate);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<record> recs;
    recs.reserve(static_cast<std::size_t>(total_rate * std::chrono::duration<double>(length).count() * 1.1) + 16);
    const auto start = clock_type::now() + 20ms;
    {
        double t = 0;
        const double end = std::chrono::duration<double>(length).count();
        for (t += gap(rng); t < end; t += gap(rng)) {
            record r;
            r.scheduled = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(t));
            if (u(rng) < critical_rate / total_rate) {
                r.critical = true;
                r.flow = flow_count;
            } else {
                const double w = u(rng) * (10 + flow_count - 1);
                r.flow = static_cast<std::uint8_t>(w < 10 ? 0 : 1 + static_cast<int>(w - 10));
            }
            recs.push_back(r);
        }
    }

    // The sender: wakes at the next arrival and sends all that are due.
    std::size_t next = 0, ended = 0;
    net::steady_timer pacer(io);
    const double cpu0 = cpu_seconds();
    std::function<void()> send_due = [&] {
        const auto now = clock_type::now();
        for (; next != recs.size() && recs[next].scheduled <= now; ++next) {
            const std::size_t i = next;
            auto& c = recs[i].critical ? critical_client : flows[recs[i].flow];
            // The deadline counts from the scheduled arrival.
            const auto timeout = deadline - (now - recs[i].scheduled);
            c.async_request(static_cast<std::uint32_t>(i), timeout, [&, i](dx::result<std::uint32_t> r) {
                record& rec = recs[i];
                rec.took = clock_type::now() - rec.scheduled;
                rec.outcome = r.has_value() ? (r.value() == i ? 0 : 100) : static_cast<std::int8_t>(r.error().value());
                ++ended;
            });
        }
        if (next != recs.size()) {
            pacer.expires_at(recs[next].scheduled);
            pacer.async_wait([&](boost::system::error_code) { send_due(); });
        }
    };
    pacer.expires_at(start);
    pacer.async_wait([&](boost::system::error_code) { send_due(); });
    while (ended != recs.size() || next != recs.size())
        io.run_one();
    const double cpu = cpu_seconds() - cpu0;
    const auto st = responder.stats();
    responder.stop();
    flows.clear();
    while (!run_done)
        io.run_one();

    run_result out{pol, traffic, lim, load};
    out.sent = recs.size();
    std::vector<clock_type::duration> served, shed;
    std::size_t crit_sent = 0, crit_ok = 0, norm_sent = 0, norm_ok = 0, good = 0;
    std::array<std::size_t, flow_count> fsent{}, fok{};
    for (const record& r : recs) {
        const bool ok = r.outcome == 0 && r.took <= deadline;
        if (r.outcome == 0)
            served.push_back(r.took);
        if (r.outcome == static_cast<int>(dx::error::overloaded))
            shed.push_back(r.took);
        if (r.outcome == static_cast<int>(dx::error::timeout))
            ++out.timed_out;
        if (r.outcome == 100) {
            std::fprintf(stderr, "duplex_overload: a wrong answer\n");
            std::exit(1);
        }
        good += ok;
        if (r.critical) {
            ++crit_sent;
            crit_ok += ok;
            if (!ok && std::getenv("DUPLEX_OVERLOAD_DEBUG"))
                std::fprintf(stderr, "critical #%zu: outcome %d after %.1f ms\n", static_cast<std::size_t>(&r - recs.data()),
                             int(r.outcome), std::chrono::duration<double, std::milli>(r.took).count());
        } else {
            ++norm_sent;
            norm_ok += ok;
            ++fsent[r.flow];
            fok[r.flow] += ok;
        }
    }
    out.shed = shed.size();
    if (out.shed != st.shed)
        std::fprintf(stderr, "duplex_overload: stats().shed %llu, counted %zu\n",
                     static_cast<unsigned long long>(st.shed), out.shed);
    const double secs = std::chrono::duration<double>(length).count();
    out.goodput_share = static_cast<double>(good) / secs / capacity;
    out.served_p50_ms = percentile_ms(served, 0.5);
    out.served_p99_ms = percentile_ms(served, 0.99);
    out.shed_p50_ms = percentile_ms(shed, 0.5);
    out.shed_p99_ms = percentile_ms(shed, 0.99);
    out.critical_success = crit_sent ? static_cast<double>(crit_ok) / static_cast<double>(crit_sent) : -1;
    out.normal_success = norm_sent ? static_cast<double>(norm_ok) / static_cast<double>(norm_sent) : 0;
    out.flooder_served = fsent[0] ? static_cast<double>(fok[0]) / static_cast<double>(fsent[0]) : 0;
    out.worst_quiet_served = 1;
    for (int f = 1; f != flow_count; ++f)
        if (fsent[static_cast<std::size_t>(f)])
            out.worst_quiet_served = std::min(out.worst_quiet_served, static_cast<double>(fok[static_cast<std::size_t>(f)]) /
                                                                          static_cast<double>(fsent[static_cast<std::size_t>(f)]));
    out.cpu_us_per_request = cpu * 1e6 / static_cast<double>(recs.size());
    return out;
}

void print_header()
{
    std::printf("| limiter | traffic | policy | load | sent | goodput | served p50 | served p99 | shed | to overloaded "
                "p50 | p99 | timed out | critical ok | normal ok | flooder served | worst quiet flow | CPU/req |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
}

void print_row(const run_result& r)
{
    char crit[32];
    if (r.critical_success < 0)
        std::snprintf(crit, sizeof crit, "-");
    else
        std::snprintf(crit, sizeof crit, "%.2f %%", 100 * r.critical_success);
    std::printf("| %s | %s | %s | %.1fx | %zu | %.1f %% | %.1f ms | %.1f ms | %zu | %.1f ms | %.1f ms | %zu | %s | %.1f %% | "
                "%.1f %% | %.1f %% | %.1f us |\n",
                name(r.lim), name(r.traffic), name(r.pol), r.load, r.sent, 100 * r.goodput_share, r.served_p50_ms,
                r.served_p99_ms, r.shed, r.shed_p50_ms, r.shed_p99_ms, r.timed_out, crit, 100 * r.normal_success,
                100 * r.flooder_served, 100 * r.worst_quiet_served, r.cpu_us_per_request);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv)
{
    bool quick = false;
    double seconds = 10;
    std::string out_dir = "duplex_overload_results";
    std::string only;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--quick")) {
            quick = true;
            seconds = 1.5;
        } else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) {
            seconds = std::atof(argv[++i]);
        } else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) {
            only = argv[++i];
        } else if (!std::strcmp(argv[i], "--out") && i + 1 < argc) {
            out_dir = argv[++i];
        } else {
            std::fprintf(stderr, "usage: duplex_overload [--quick] [--seconds S] [--only POLICY] [--out DIR]\n");
            return 2;
        }
    }
    std::filesystem::create_directories(out_dir);
    std::ofstream dat(out_dir + "/overload.dat");
    dat << "# limiter traffic policy load goodput_share served_p50_ms served_p99_ms shed_p50_ms shed_p99_ms "
           "critical_success normal_success flooder_served worst_quiet_served cpu_us\n";
    const auto length = std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
    std::printf("Service: %d units x %lld ms (capacity %.0f requests/s), deadline %lld ms, queue capacity %zu, "
                "%.1f s of arrivals per run\n\n",
                workers, static_cast<long long>(service_time.count()), capacity,
                static_cast<long long>(deadline.count()), queue_capacity, seconds);
    print_header();

    struct plan {
        limiter lim;
        mix traffic;
        policy pol;
    };
    std::vector<plan> plans;
    for (limiter l : {limiter::fixed, limiter::dynamic}) {
        for (policy p : {policy::fifo, policy::shed, policy::shed_lifo, policy::flows})
            plans.push_back({l, mix::flood, p});
        if (l == limiter::fixed)
            for (policy p : {policy::fifo, policy::shed, policy::priorities})
                plans.push_back({l, mix::critical, p});
    }
    std::vector<double> loads = {0.8, 2.0, 5.0};
    if (quick) {
        plans = {{limiter::fixed, mix::flood, policy::fifo},
                 {limiter::fixed, mix::flood, policy::shed},
                 {limiter::fixed, mix::flood, policy::flows},
                 {limiter::fixed, mix::critical, policy::priorities}};
        loads = {0.8, 2.0};
    }
    unsigned seed = 1;
    for (const plan& p : plans) {
        if (!only.empty() && only != name(p.pol))
            continue;
        for (double load : loads) {
            const run_result r = run_one(p.pol, p.traffic, p.lim, load, length, seed++);
            print_row(r);
            dat << name(r.lim) << ' ' << name(r.traffic) << ' ' << name(r.pol) << ' ' << r.load << ' ' << r.goodput_share
                << ' ' << r.served_p50_ms << ' ' << r.served_p99_ms << ' ' << r.shed_p50_ms << ' ' << r.shed_p99_ms << ' '
                << r.critical_success << ' ' << r.normal_success << ' ' << r.flooder_served << ' '
                << r.worst_quiet_served << ' ' << r.cpu_us_per_request << '\n';
        }
    }
    return 0;
}
