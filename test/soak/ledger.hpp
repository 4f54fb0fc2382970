//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The chaos soak's bookkeeping, shared by both backends: what a request
// carries, what the handler answers, the ledger in which every request's fate
// is recorded, the storage policy that counts occupied slots, and the report.
//
// Every request has a record, found from its payload (client, sequence). The
// client records each completion (how many, with what); the handler records
// each invocation (how many, and whether it started long after the request's
// deadline). The checks are made at the end, once nothing can change any more,
// so they do not depend on the order in which threads saw things.

#ifndef BOOST_DUPLEX_TEST_SOAK_LEDGER_HPP
#define BOOST_DUPLEX_TEST_SOAK_LEDGER_HPP

#include <boost/duplex/error.hpp>
#include <boost/duplex/storage.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/errc.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace soak {

namespace dx = boost::duplex;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

// What a request asks its handler (and the test) to do.
enum class action : std::uint8_t {
    normal,          // answer, maybe after a short delay
    short_deadline,  // a deadline (0-2 ms) shorter than the handler's delay (5 ms)
    cancel,          // cancelled by the client while queued or in flight (Asio)
    throws,          // the handler throws
    fails,           // the handler returns its own error code
};
inline constexpr int action_count = 5;

// The code a failing handler returns; it must reach the client unchanged.
inline boost::system::error_code handler_error()
{
    return boost::system::errc::make_error_code(boost::system::errc::io_error);
}

// The payload: who sent it and its sequence number in that client's ledger.
// `text` makes the request own heap memory, so that a request moved, dropped
// or freed twice shows under the sanitizers.
struct request {
    std::uint32_t client = 0;
    std::uint32_t seq = 0;
    action act = action::normal;
    std::uint32_t delay_us = 0;
    std::string text;
};

// The answer: the payload echoed and a function of it that no other request shares.
struct response {
    std::uint32_t client = 0;
    std::uint32_t seq = 0;
    std::uint64_t digest = 0;
    std::string text;
};

inline std::uint64_t digest_of(std::uint32_t client, std::uint32_t seq)
{
    std::uint64_t x = (std::uint64_t(client) << 32 | seq) + 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

inline std::string text_of(std::uint32_t client, std::uint32_t seq)
{
    // Longer than the small-string buffer, so that it lives on the heap.
    return "request " + std::to_string(client) + "/" + std::to_string(seq) + " of the chaos soak";
}

// What every handler does first and last (the backends add waiting and failing).
inline response answer(const request& r)
{
    return response{r.client, r.seq, digest_of(r.client, r.seq), r.text};
}

// How a request ended.
enum class ending : std::uint8_t {
    none,
    value,
    timeout,
    cancelled,
    closed,
    queue_full,
    handler_failed,
    invalid_argument,
    handler_error,  // the handler's own code, delivered unchanged
    other,          // any other code: always wrong
};
inline constexpr int ending_count = 10;
inline const char* const ending_names[ending_count] = {
    "none", "response", "timeout", "cancelled", "closed", "queue_full", "handler_failed", "invalid_argument",
    "handler's own error", "other error"};

inline ending ending_of(const boost::system::error_code& ec)
{
    if (ec == dx::make_error_code(dx::error::timeout))
        return ending::timeout;
    if (ec == dx::make_error_code(dx::error::cancelled))
        return ending::cancelled;
    if (ec == dx::make_error_code(dx::error::closed))
        return ending::closed;
    if (ec == dx::make_error_code(dx::error::queue_full))
        return ending::queue_full;
    if (ec == dx::make_error_code(dx::error::handler_failed))
        return ending::handler_failed;
    if (ec == dx::make_error_code(dx::error::invalid_argument))
        return ending::invalid_argument;
    if (ec == handler_error())
        return ending::handler_error;
    return ending::other;
}

// One request's fate.
struct record {
    std::atomic<std::uint8_t> completions{0};
    std::atomic<std::uint8_t> invocations{0};
    std::atomic<bool> late_start{false};   // handed to the handler long after its deadline
    std::atomic<ending> how{ending::none};  // set by the (first) completion
    std::atomic<bool> misrouted{false};     // a response that does not answer this request
    std::atomic<bool> impossible{false};    // a batch outcome that none of its requests can explain
    action act = action::normal;            // written before the request is made
    bool partial_cancel = false;            // cancelled with partial/total (no effect once handed over)
    bool in_fail_fast_batch = false;        // ends with its batch's first failure
    bool batch_allows_invalid = false;      // in a batch of concurrency 0
    clock_type::time_point deadline{clock_type::time_point::max()};  // as the client computed it
};

// Where handler invocations may start no later than this after their
// request's deadline. The library checks the deadline when it hands a request
// over; the client computed it slightly earlier than the library did, and the
// thread may be preempted between the hand-over and the handler's first line.
// A wasted invocation under a broken library starts up to a whole handler
// delay (and queue wait) late, far more than this.
inline constexpr clock_type::duration start_grace = 100ms;

// Every client's records, allocated up front (nothing grows while threads run).
class ledger {
public:
    ledger(std::uint32_t clients, std::uint32_t per_client) : per_client_(per_client), records_(std::size_t(clients) * per_client) {}

    std::uint32_t per_client() const noexcept { return per_client_; }
    record& at(std::uint32_t client, std::uint32_t seq) { return records_[std::size_t(client) * per_client_ + seq]; }
    bool valid(std::uint32_t client, std::uint32_t seq) const
    {
        return seq < per_client_ && std::size_t(client) * per_client_ + seq < records_.size();
    }

    // Called by the handler as it starts on `r`.
    void invoked(const request& r, clock_type::time_point now)
    {
        if (!valid(r.client, r.seq)) {
            strays.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        record& rec = at(r.client, r.seq);
        rec.invocations.fetch_add(1, std::memory_order_relaxed);
        if (now > rec.deadline && now - rec.deadline > start_grace)
            rec.late_start.store(true, std::memory_order_relaxed);
        invocations.fetch_add(1, std::memory_order_relaxed);
    }

    // Called by the client with the request's outcome; `resp` is checked
    // against the request the record belongs to.
    void completed(record& rec, std::uint32_t client, std::uint32_t seq, const dx::result<response>& r)
    {
        ending e;
        if (r.has_value()) {
            e = ending::value;
            const response& v = r.value();
            if (v.client != client || v.seq != seq || v.digest != digest_of(client, seq) || v.text != text_of(client, seq))
                rec.misrouted.store(true, std::memory_order_relaxed);
        } else {
            e = ending_of(r.error());
        }
        finish(rec, e);
    }

    void completed_with(record& rec, const boost::system::error_code& ec) { finish(rec, ending_of(ec)); }

    std::atomic<std::uint64_t> invocations{0};
    std::atomic<std::uint64_t> strays{0};  // invocations with a payload that names no request

private:
    static void finish(record& rec, ending e)
    {
        if (rec.completions.fetch_add(1, std::memory_order_acq_rel) == 0)
            rec.how.store(e, std::memory_order_release);
    }

    std::uint32_t per_client_;
    std::vector<record> records_;
};

// A request's outcome that its action cannot produce.
inline bool unexpected(const record& rec, ending e)
{
    switch (e) {
    case ending::none:
        return false;  // counted as lost
    case ending::value:
        return rec.act == action::throws || rec.act == action::fails;
    case ending::handler_failed:
        // A fail-fast batch ends with the first failure of any of its requests.
        return rec.act != action::throws && !rec.in_fail_fast_batch;
    case ending::handler_error:
        return rec.act != action::fails && !rec.in_fail_fast_batch;
    case ending::cancelled:
        return rec.act != action::cancel;
    case ending::invalid_argument:
        return !rec.batch_allows_invalid;
    case ending::timeout:
    case ending::closed:
    case ending::queue_full:
        return false;
    case ending::other:
        return true;
    }
    return true;
}

// Counts pending-request slots in use, process-wide: a storage policy that
// wraps the default one. A slot acquired and never released is a leak, even
// when the table that owns it is later destroyed.
inline std::atomic<std::int64_t> slots_in_use{0};
inline std::atomic<std::int64_t> slots_peak{0};
inline std::atomic<std::int64_t> tables_alive{0};
inline std::atomic<std::int64_t> slots_left_in_destroyed_tables{0};

struct counting_slab {
    template <class Slot>
    class table : public dx::sharded_slab::table<Slot> {
        using base = dx::sharded_slab::table<Slot>;

    public:
        table() { tables_alive.fetch_add(1); }
        table(const table&) = delete;
        table& operator=(const table&) = delete;
        ~table()
        {
            slots_left_in_destroyed_tables.fetch_add(in_use_.load());
            tables_alive.fetch_sub(1);
        }

        Slot* acquire()
        {
            Slot* s = base::acquire();
            in_use_.fetch_add(1, std::memory_order_relaxed);
            const auto n = slots_in_use.fetch_add(1, std::memory_order_relaxed) + 1;
            auto peak = slots_peak.load(std::memory_order_relaxed);
            while (n > peak && !slots_peak.compare_exchange_weak(peak, n, std::memory_order_relaxed)) {
            }
            return s;
        }

        void release(Slot* s) noexcept
        {
            in_use_.fetch_sub(1, std::memory_order_relaxed);
            slots_in_use.fetch_sub(1, std::memory_order_relaxed);
            base::release(s);
        }

    private:
        std::atomic<std::int64_t> in_use_{0};
    };
};

// How the soak changes channels: every `switch_every` requests (randomised
// around it) the current channel is replaced and the old one ended one of
// these ways.
enum class ending_kind : std::uint8_t { stop, destroy, stop_from_handler, destroy_from_handler };
inline constexpr int ending_kind_count = 4;
inline const char* const ending_kind_names[ending_kind_count] = {
    "stopped", "destroyed", "stopped from a handler", "destroyed from a handler"};

struct settings {
    std::uint64_t requests = 100000;  // per backend
    std::uint32_t clients = 64;
    std::uint32_t switch_every = 3000;
    std::uint64_t seed = 1;
    std::chrono::seconds stall_limit{60};  // no completion for this long: a hang
    std::chrono::seconds progress{0};      // print progress this often (0: never)
};

// What a backend's run adds up to.
struct report {
    std::string backend;
    std::uint64_t issued = 0;
    std::uint64_t by_ending[ending_count] = {};
    std::uint64_t by_action[action_count] = {};
    std::uint64_t lost = 0, duplicated = 0, misrouted = 0, unexpected = 0, wasted = 0, invoked_twice = 0;
    std::uint64_t invocations = 0, strays = 0, batches = 0;
    std::uint64_t channels = 0;
    std::uint64_t bad_runs = 0;  // a run that ended with the wrong result, or never ended
    std::uint64_t endings[ending_kind_count] = {};
    std::int64_t leaked_slots = 0, slots_peak = 0, tables_alive = 0;
    double seconds = 0;

    bool clean() const
    {
        return issued > 0 && lost == 0 && duplicated == 0 && misrouted == 0 && unexpected == 0 && wasted == 0 &&
               invoked_twice == 0 && strays == 0 && bad_runs == 0 && leaked_slots == 0 && tables_alive == 0;
    }
};

// Adds up the ledger once every thread is done with it.
inline void tally(ledger& l, std::uint32_t clients, const std::vector<std::uint32_t>& issued_per_client, report& rep)
{
    for (std::uint32_t c = 0; c < clients; ++c) {
        for (std::uint32_t s = 0; s < issued_per_client[c]; ++s) {
            record& rec = l.at(c, s);
            ++rep.issued;
            ++rep.by_action[int(rec.act)];
            const auto n = rec.completions.load();
            const ending e = rec.how.load();
            if (n == 0)
                ++rep.lost;
            if (n > 1)
                ++rep.duplicated;
            ++rep.by_ending[int(e)];
            if (rec.misrouted.load())
                ++rep.misrouted;
            if ((n > 0 && unexpected(rec, e)) || rec.impossible.load())
                ++rep.unexpected;
            const auto inv = rec.invocations.load();
            if (inv > 1)
                ++rep.invoked_twice;
            // Wasted work: handed over after a cancellation that can only act on
            // a queued request took effect, or long after the deadline.
            if (inv > 0 && ((e == ending::cancelled && rec.partial_cancel) || rec.late_start.load()))
                ++rep.wasted;
        }
    }
    rep.invocations = l.invocations.load();
    rep.strays = l.strays.load();
    rep.leaked_slots = slots_in_use.load() + slots_left_in_destroyed_tables.load();
    rep.slots_peak = slots_peak.load();
    rep.tables_alive = tables_alive.load();
}

inline void print(const report& r)
{
    std::printf("\n== %s backend: %.1f s, %llu channels (", r.backend.c_str(), r.seconds, (unsigned long long)r.channels);
    for (int k = 0; k < ending_kind_count; ++k)
        std::printf("%s%llu %s", k ? ", " : "", (unsigned long long)r.endings[k], ending_kind_names[k]);
    std::printf(")\n");
    std::printf("  %-34s %12llu  (in %llu batches; %llu handler invocations)\n", "requests issued",
                (unsigned long long)r.issued, (unsigned long long)r.batches, (unsigned long long)r.invocations);
    static const char* const action_names[action_count] = {"normal", "deadline shorter than the handler",
                                                           "cancelled by the client", "handler throws",
                                                           "handler returns an error"};
    for (int a = 0; a < action_count; ++a)
        std::printf("    drawn: %-27s %12llu\n", action_names[a], (unsigned long long)r.by_action[a]);
    for (int e = 1; e < ending_count; ++e)
        std::printf("  completed: %-23s %12llu\n", ending_names[e], (unsigned long long)r.by_ending[e]);
    auto line = [](const char* what, std::uint64_t n) {
        std::printf("  %-34s %12llu%s\n", what, (unsigned long long)n, n ? "   <-- must be 0" : "");
    };
    line("LOST (never completed)", r.lost);
    line("DUPLICATED (completed twice)", r.duplicated);
    line("MISROUTED (wrong response)", r.misrouted);
    line("UNEXPECTED (outcome its kind lacks)", r.unexpected);
    line("WASTED (expired/cancelled, handled)", r.wasted);
    line("INVOKED TWICE", r.invoked_twice);
    line("STRAY invocations", r.strays);
    line("RUNS ended wrongly or never", r.bad_runs);
    line("LEAKED slots at the end", std::uint64_t(r.leaked_slots));
    line("channel states still alive", std::uint64_t(r.tables_alive));
    std::printf("  %-34s %12lld\n", "peak slots in use", (long long)r.slots_peak);
    std::printf("  verdict: %s\n", r.clean() ? "clean" : "FAILED");
}

// Resets the process-wide slot counters between backends.
inline void reset_slot_counters()
{
    slots_in_use = 0;
    slots_peak = 0;
    slots_left_in_destroyed_tables = 0;
}

// Draws what a request does: mostly normal requests, each kind of trouble often.
inline action draw_action(std::mt19937_64& rng, bool cancellation)
{
    const auto x = rng() % 100;
    if (x < 55)
        return action::normal;
    if (x < 67)
        return action::short_deadline;
    if (x < 79)
        return cancellation ? action::cancel : action::normal;
    if (x < 89)
        return action::throws;
    return action::fails;
}

// Watches progress: when nothing completes for `limit`, prints `what` and
// ends the process (a hang must fail the run, not block CI).
class stall_watch {
public:
    explicit stall_watch(std::chrono::seconds limit) : limit_(limit) {}
    void progress() noexcept { ticks_.fetch_add(1, std::memory_order_relaxed); }
    std::uint64_t ticks() const noexcept { return ticks_.load(std::memory_order_relaxed); }
    std::chrono::seconds limit() const noexcept { return limit_; }

private:
    std::chrono::seconds limit_;
    std::atomic<std::uint64_t> ticks_{0};
};

}  // namespace soak

#endif
