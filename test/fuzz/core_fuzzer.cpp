//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// A fuzzer for the sans-io core (detail::channel_core), checked step by step
// against a small model of the guarantees.
//
// The input bytes are a configuration (capacity 0..4, overflow wait/reject,
// default timeout; with its bit 7 a second byte: requests with random
// priorities and/or flows, and random overload options), the initial client
// count, then a sequence of operations
// on one channel_core<int, int, sharded_slab> under a virtual clock:
// submit, prepare (held) / submit held / unprepare, take, finish with a value
// or an error, cancel (terminal or not, current or stale keys), advance the
// clock, expire, let the timer fire, stop, close, attach / detach a client.
// At the end the channel is closed, every handler invocation ends, and the
// core is destroyed; every submitted request must have completed exactly once.
//
// A submit may also be interleaved: the core's lock-free publication of a
// request has three atomic steps (a place reserved; the slot marked `inbox`;
// pushed onto the inbox), and between two of them, as another thread could,
// the fuzzer cancels that request (terminally or not), stops or closes the
// channel, or takes (BOOST_DUPLEX_DETAIL_CORE_STEP, the core's test hook).
// So may a finish: its lock-free delivery settles the request's fate with
// one compare-and-swap, then puts the slot on a list for the responder side
// to reap; between the two the fuzzer cancels the request (terminally or
// not), stops or closes the channel, takes, or lets its deadline pass and
// expires, none of which may end it now.
//
// The model keeps, per request, where it is (held, pending, running,
// abandoned, ended) and checks after every step:
//   - every waiter completes at most once, with the value for its own request
//     (responses encode the request) or an error that was allowed then:
//     timeout only at/after its deadline, cancelled only after a cancel,
//     closed only after stop/close, queue_full only with overflow::reject and
//     a full queue;
//   - take() hands out only pending requests whose deadline is after `now`,
//     in submission order (strict FIFO over queued and waiting-for-room
//     requests; DUPLEX_FUZZ_RELAXED_FIFO=1 in the environment relaxes it);
//     with priorities, flows or overload control, in priority order, none
//     below a request left pending, each flow of a priority oldest first
//     (unless LIFO may apply);
//   - displacement only from a full queue, of a strictly lower priority, the
//     lowest queued; a shed request waited longer than the target; both
//     complete with overloaded and count in stats().shed;
//     as many as min(limit - in flight, most, available), and `done` exactly
//     when nothing is pending or running and the channel is stopped or has
//     no client left;
//   - the slot handed out carries the key its request was given at prepare;
//   - stats() counters equal the model's; queued <= capacity (capacity > 0);
//     nothing waits for room under overflow::reject; room is only used while
//     the queue is full;
//   - earliest_deadline() is the earliest deadline of a live request, and the
//     backend's timer (armed from rearm_timer / expire()) is never later than
//     any live deadline;
//   - no lost wake-up: a responder that went idle (take() returned nothing)
//     is woken (effects::wake_responder, or an invocation ending) before work
//     it could take sits pending, and before the run is over unnoticed.
//
// Build with libFuzzer:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined
//       -I include test/fuzz/core_fuzzer.cpp src/src.cpp -o core_fuzzer
// (test/fuzz/run.sh does that and runs it for a bounded time)
// or, without libFuzzer (replays the files or directories given), define
// DUPLEX_FUZZ_STANDALONE:
//   g++ -std=c++20 -g -O1 -DDUPLEX_FUZZ_STANDALONE -I include
//       test/fuzz/core_fuzzer.cpp src/src.cpp -o core_replay
// Set DUPLEX_FUZZ_TRACE=1 to print each step.

// Other core calls between the atomic steps of a request's publication, as
// another thread could make them (see fuzz_run::step_hook).
void fuzz_core_step(int n);
#define BOOST_DUPLEX_DETAIL_CORE_STEP(n) fuzz_core_step(n)

#include <boost/duplex/detail/core/channel_core.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/options.hpp>
#include <boost/duplex/stats.hpp>
#include <boost/duplex/storage.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace dx = boost::duplex;
namespace dd = boost::duplex::detail;
using dd::duration;
using dd::time_point;
using boost::system::error_code;
using core_type = dd::channel_core<int, int, dx::sharded_slab>;
using slot_type = core_type::slot_type;

bool g_trace = false;
bool g_strict_fifo = true;

[[noreturn]] void fail(const char* file, int line, const char* expr, const std::string& msg)
{
    std::fprintf(stderr, "\n*** core_fuzzer CHECK failed at %s:%d: %s\n    %s\n", file, line, expr, msg.c_str());
    std::fflush(stderr);
    std::abort();
}

#define CHECK(cond, msg)                                   \
    do {                                                   \
        if (!(cond))                                       \
            fail(__FILE__, __LINE__, #cond, (msg));        \
    } while (false)

#define TRACE(...)                                         \
    do {                                                   \
        if (g_trace)                                       \
            std::fprintf(stderr, __VA_ARGS__);             \
    } while (false)

const time_point t0 = time_point{} + std::chrono::hours(24 * 365);

long long ms_of(time_point t)
{
    if (t == time_point::max())
        return -1;
    return std::chrono::duration_cast<std::chrono::milliseconds>(t - t0).count();
}

// ---- input ---------------------------------------------------------------

class reader {
public:
    reader(const std::uint8_t* p, std::size_t n) : p_(p), n_(n) {}
    bool empty() const { return i_ >= n_; }
    std::uint8_t byte() { return i_ < n_ ? p_[i_++] : 0; }

private:
    const std::uint8_t* p_;
    std::size_t n_;
    std::size_t i_ = 0;
};

// ---- recording waiters ---------------------------------------------------

struct event {
    int id;
    dx::result<int> r;
};

std::vector<event>* g_events = nullptr;

class rec final : public dd::waiter<int> {
public:
    explicit rec(int id) noexcept : dd::waiter<int>(dd::hook_to<&rec::fire>), id_(id) {}
    rec(const rec&) = delete;
    rec& operator=(const rec&) = delete;
    int calls = 0;

private:
    void fire(dx::result<int>&& r, bool) noexcept
    {
        ++calls;
        g_events->push_back({id_, std::move(r)});
    }
    int id_;
};

int response_for(int id) { return id * 1000 + 7; }
const error_code handler_error = make_error_code(std::errc::io_error);

// ---- the model -----------------------------------------------------------

enum class where {
    held,       // prepared, not submitted
    pending,    // queued or waiting for room
    taken,      // taken with others, handler not started (begin() not yet called), waiter waiting
    running,    // taken, waiter waiting
    finishing,  // delivered (finish() past its compare-and-swap), waiter not yet completed
    abandoned,  // taken, waiter already completed, handler not ended
    ended,      // waiter completed, slot gone back (or never submitted)
    dropped     // unprepared (never submitted)
};

const char* name(where w)
{
    switch (w) {
    case where::held: return "held";
    case where::pending: return "pending";
    case where::taken: return "taken";
    case where::running: return "running";
    case where::finishing: return "finishing";
    case where::abandoned: return "abandoned";
    case where::ended: return "ended";
    case where::dropped: return "dropped";
    }
    return "?";
}

struct request {
    int id = 0;
    dd::slot_key key{};
    slot_type* slot = nullptr;  // while held or taken (running / abandoned)
    time_point deadline = time_point::max();
    where at = where::held;
    bool cancel_before_submit = false;  // a cancel came while held
    bool submitted = false;
    std::unique_ptr<rec> w;
    dd::run_outcome end_reason{};  // for abandoned
    bool begun = false;            // taken and started (running, or abandoned after it started)
    int completions = 0;
    dx::priority prio = dx::priority::normal;
    std::uint64_t flow = 0;
    time_point submitted_at{};
};

struct model {
    dx::channel_options opts;
    std::vector<request> reqs;        // by id
    std::vector<int> pending;         // ids, submission order
    std::vector<int> taken;           // ids taken, running or abandoned (in flight), take order
    std::vector<int> held;            // ids prepared, not submitted
    time_point now = t0;
    time_point timer = time_point::max();  // what the backend's timer waits for
    std::size_t clients = 0;
    std::size_t last_limit = 0;
    std::size_t demand = 0;  // capacity 0: hand-offs the idle responder stands ready for (the core's demand_)
    bool stopped = false;
    bool closed = false;
    bool asleep = false;  // the responder's last take found nothing, no wake since
    bool done_seen = false;
    std::uint64_t completed = 0, failed = 0, timed_out = 0, cancelled = 0, shed = 0;
    // The second edition's configuration (config bit 7): requests carry
    // priorities and/or flows, and overload control may be set.
    bool priorities = false, flows = false;
    bool ordered = false;  // priorities or flows or overload: take() order is checked by its rules, not FIFO
};

std::string describe(const model& m, int id)
{
    const request& r = m.reqs[static_cast<std::size_t>(id)];
    char buf[200];
    std::snprintf(buf, sizeof buf, "request #%d (key %u/%u, deadline t0+%lldms, %s)", id, r.key.index,
                  r.key.generation, ms_of(r.deadline), name(r.at));
    return buf;
}

std::string err_name(const dx::result<int>& r)
{
    if (r.has_value())
        return "value " + std::to_string(r.value());
    return r.error().message();
}

class fuzz_run;
fuzz_run* g_run = nullptr;

class fuzz_run {
public:
    explicit fuzz_run(const dx::channel_options& o) : core_(o)
    {
        m_.opts = o;
        g_events = &events_;
        g_run = this;
    }

    ~fuzz_run()
    {
        g_events = nullptr;
        g_run = nullptr;
    }

    void run(reader& in);

    void configure_classes(bool priorities, bool flows)
    {
        m_.priorities = priorities;
        m_.flows = flows;
        m_.ordered = priorities || flows || m_.opts.overload.has_value();
    }

    // The byte that picks a submitted request's priority and flow, when they vary.
    std::uint8_t class_byte(reader& in) { return m_.priorities || m_.flows ? in.byte() : 0; }

    // A call made between two steps of a lock-free submit() or finish(): at
    // `step` (submit: 1 a place reserved; 2 the slot marked inbox, not pushed;
    // 3 pushed, the timer not yet told; finish: 4 delivered, the slot not yet
    // on the list to reap), `op`: 0 cancel it, 1 cancel it terminally, 2
    // stop, 3 close, 4 take, 5 (finish only) its deadline passes and expires.
    struct interleave {
        int step = 0;
        int op = 0;
        int id = -1;
        bool fired = false;
    };

    void step_hook(int n);

private:
    // Expected completions of the current step: id -> predicate over the result.
    struct expect {
        int id;
        enum { value, error, any_of_timeout } kind;
        int v;
        error_code e;
    };

    request& R(int id) { return m_.reqs[static_cast<std::size_t>(id)]; }

    bool live(const request& r) const
    {
        return r.at == where::pending || r.at == where::taken || r.at == where::running;
    }

    static void erase_id(std::vector<int>& v, int id)
    {
        auto it = std::find(v.begin(), v.end(), id);
        CHECK(it != v.end(), "model bookkeeping");
        v.erase(it);
    }

    void end_waiter(int id, const dx::result<int>& r)
    {
        request& q = R(id);
        ++q.completions;
        CHECK(q.completions == 1, describe(m_, id) + " completed twice (guarantee 1)");
        if (!r.has_value()) {
            if (r.error() == dx::error::timeout)
                ++m_.timed_out;
            else if (r.error() == dx::error::cancelled)
                ++m_.cancelled;
            else if (r.error() == dx::error::overloaded)
                ++m_.shed;
            else if (r.error() != dx::error::closed && r.error() != dx::error::queue_full)
                ++m_.failed;
        } else {
            ++m_.completed;
        }
    }

    // Takes the events recorded during the step and compares them with the
    // expected completions, exactly (set equality; order not checked).
    void settle(std::vector<expect> want, const char* step)
    {
        std::vector<event> got = std::move(events_);
        events_.clear();
        for (auto& ev : got) {
            TRACE("    completed #%d: %s\n", ev.id, err_name(ev.r).c_str());
            auto it = std::find_if(want.begin(), want.end(), [&](const expect& x) { return x.id == ev.id; });
            CHECK(it != want.end(), std::string(step) + ": unexpected completion of " + describe(m_, ev.id) +
                                        " with " + err_name(ev.r));
            switch (it->kind) {
            case expect::value:
                CHECK(ev.r.has_value() && ev.r.value() == it->v,
                      std::string(step) + ": " + describe(m_, ev.id) + " got " + err_name(ev.r) +
                          ", expected value " + std::to_string(it->v) + " (guarantee 2)");
                break;
            case expect::error:
                CHECK(!ev.r.has_value() && ev.r.error() == it->e,
                      std::string(step) + ": " + describe(m_, ev.id) + " got " + err_name(ev.r) + ", expected " +
                          it->e.message());
                break;
            default: break;
            }
            end_waiter(ev.id, ev.r);
            want.erase(it);
        }
        CHECK(want.empty(), std::string(step) + ": " + describe(m_, want.front().id) +
                                " should have completed with " + want.front().e.message() + " but did not");
    }

    void apply(const dd::effects& fx)
    {
        if (fx.wake_responder)
            m_.asleep = false;
        if (fx.rearm_timer)
            m_.timer = core_.next_deadline();
    }

    void check_invariants(const char* step);

    // Completions with error::overloaded recorded during a take() or an
    // expire(): each must be a shedding the options allow (a queued request,
    // overload control with `shed`, waited longer than the target: its wait
    // in the queue started no earlier than its submission). They end here
    // and are added to `want`; returns how many.
    std::size_t accept_shed(std::vector<expect>& want, const char* step)
    {
        std::size_t n = 0;
        for (auto& ev : events_) {
            if (ev.r.has_value() || ev.r.error() != dx::error::overloaded)
                continue;
            request& q = R(ev.id);
            CHECK(q.at == where::pending, std::string(step) + " shed " + describe(m_, ev.id) + ", not queued");
            CHECK(m_.opts.overload && m_.opts.overload->shed,
                  std::string(step) + " shed " + describe(m_, ev.id) + " without overload shedding");
            CHECK(m_.now - q.submitted_at > std::max(m_.opts.overload->target, duration::zero()),
                  std::string(step) + " shed " + describe(m_, ev.id) + " which had not waited longer than the target");
            want.push_back({ev.id, expect::error, 0, make_error_code(dx::error::overloaded)});
            erase_id(m_.pending, ev.id);
            q.at = where::ended;
            ++n;
        }
        return n;
    }

    // ---- operations ----
    time_point pick_deadline(std::uint8_t b)
    {
        switch (b % 10) {
        case 0: return time_point::max();
        case 1: return m_.now;  // already due
        case 2: return m_.now - std::chrono::milliseconds(1);
        case 3: return m_.now + std::chrono::milliseconds(1);
        case 4: return m_.now + std::chrono::milliseconds(2);
        case 5: return m_.now + std::chrono::milliseconds(5);
        case 6: return m_.now + std::chrono::milliseconds(10);
        case 7: return m_.now + std::chrono::milliseconds(100);
        case 8: return dd::deadline_after(m_.now, m_.opts.timeout);
        default: return m_.now + std::chrono::milliseconds(3);
        }
    }

    int do_prepare()
    {
        const int id = static_cast<int>(m_.reqs.size());
        request q;
        q.id = id;
        q.w = std::make_unique<rec>(id);
        q.slot = core_.prepare();
        q.key = core_.key_of(q.slot);
        auto it = keys_.find({q.key.index, q.key.generation});
        CHECK(it == keys_.end(), "prepare gave key " + std::to_string(q.key.index) + "/" +
                                     std::to_string(q.key.generation) + " already given to " +
                                     (it != keys_.end() ? describe(m_, it->second) : std::string()) +
                                     " (stale keys could reach a new request, guarantee 2)");
        for (int h : m_.held)
            CHECK(R(h).slot != q.slot, "prepare handed out a slot still held by " + describe(m_, h));
        for (int t : m_.taken)
            CHECK(R(t).slot != q.slot, "prepare handed out a slot still in flight for " + describe(m_, t));
        keys_[{q.key.index, q.key.generation}] = id;
        m_.reqs.push_back(std::move(q));
        m_.held.push_back(id);
        return id;
    }

    void do_submit(int id, time_point deadline, bool cancellable = true, std::uint8_t cls = 0)
    {
        do_submit(id, deadline, interleave{}, cancellable, cls);
    }

    // `cancellable`: false tells the core that nobody could cancel it before
    // the submit (true of a request prepared and submitted at once).
    void do_submit(int id, time_point deadline, interleave il, bool cancellable = true, std::uint8_t cls = 0)
    {
        request& q = R(id);
        if (m_.priorities)
            q.prio = static_cast<dx::priority>(cls % 4);
        if (m_.flows)
            q.flow = (cls >> 2) % 3;
        q.submitted_at = m_.now;
        const dx::responder_stats before = core_.stats();
        const std::size_t room_before = core_.waiting_for_room();
        TRACE("  submit #%d deadline %lld priority %d flow %d (queued %zu, room %zu)\n", id, ms_of(deadline),
              int(q.prio), int(q.flow), before.queued, room_before);
        erase_id(m_.held, id);
        q.deadline = deadline;
        q.submitted = true;
        il_ = il;
        il_.id = id;
        const dd::effects fx =
            core_.submit(q.slot, id, deadline, *q.w, m_.now, cancellable, dd::request_class{q.prio, q.flow});
        const bool interleaved = il_.fired;
        il_ = {};
        if (q.at != where::taken && q.at != where::running && q.at != where::abandoned)
            q.slot = nullptr;  // the responder's now (a take inside the submit recorded it)
        if (q.at != where::held) {
            // Published, then what happened inside the submit decided (and
            // settled) its fate: pending still, or ended by the call made there.
            settle({}, "submit");
            apply(fx);
            return;
        }
        std::vector<expect> want;
        auto fail_with = [&](dx::error e) {
            want.push_back({id, expect::error, 0, make_error_code(e)});
            q.at = where::ended;
        };
        // Room by priority: at a full queue, a request of strictly higher
        // priority than a queued one takes the place of one of the lowest
        // (which ends with overloaded at once).
        int displaced = -1;
        for (auto& ev : events_) {
            if (ev.r.has_value() || ev.r.error() != dx::error::overloaded)
                continue;
            CHECK(displaced < 0, "submit of " + describe(m_, id) + " displaced two requests");
            displaced = ev.id;
            const request& v = R(ev.id);
            CHECK(v.at == where::pending && v.prio < q.prio,
                  "submit of " + describe(m_, id) + " displaced " + describe(m_, ev.id) + " (priority " +
                      std::to_string(int(v.prio)) + " against " + std::to_string(int(q.prio)) + ")");
            CHECK(before.queued >= m_.opts.capacity, "a request was displaced from a queue with room");
            for (int other : m_.pending)
                CHECK(R(other).prio >= v.prio || room_before != 0,
                      "displaced " + describe(m_, ev.id) + " though " + describe(m_, other) + " has a lower priority");
        }
        if (displaced >= 0) {
            want.push_back({displaced, expect::error, 0, make_error_code(dx::error::overloaded)});
            erase_id(m_.pending, displaced);
            R(displaced).at = where::ended;
        }
        const bool lower_queued = room_before == 0 && std::any_of(m_.pending.begin(), m_.pending.end(), [&](int o) {
                                      return R(o).prio < q.prio;
                                  });
        if (q.cancel_before_submit)
            fail_with(dx::error::cancelled);
        else if (m_.stopped)
            fail_with(dx::error::closed);
        else if (deadline <= m_.now)
            fail_with(dx::error::timeout);
        else if (displaced >= 0) {
            q.at = where::pending;
            m_.pending.push_back(id);
        } else if (m_.opts.on_full == dx::overflow::reject && before.queued >= m_.opts.capacity &&
                 !(m_.opts.capacity == 0 && before.queued < m_.demand)) {
            // Rendezvous (capacity 0): a request gets in only as a hand-off,
            // within the room the responder had when it last found nothing.
            fail_with(dx::error::queue_full);
        } else {
            q.at = where::pending;
            m_.pending.push_back(id);
        }
        if (q.at == where::pending && !interleaved && !q.cancel_before_submit && !m_.stopped && deadline > m_.now &&
            before.queued >= m_.opts.capacity && !(m_.opts.capacity == 0 && before.queued < m_.demand) && lower_queued)
            CHECK(displaced >= 0 || room_before != 0,
                  describe(m_, id) + " found a full queue holding a lower priority and displaced nothing");
        if (q.at == where::pending && !interleaved && displaced >= 0) {
            CHECK(core_.stats().queued == before.queued && core_.waiting_for_room() == room_before,
                  describe(m_, id) + " should have taken the displaced request's place");
        } else if (q.at == where::pending && !interleaved) {
            const bool to_queue =
                before.queued < m_.opts.capacity || (m_.opts.capacity == 0 && before.queued < m_.demand);
            const std::size_t q_after = core_.stats().queued, room_after = core_.waiting_for_room();
            CHECK(to_queue ? q_after == before.queued + 1 && room_after == room_before
                           : q_after == before.queued && room_after == room_before + 1,
                  describe(m_, id) + (to_queue ? " should have been queued" : " should wait for room") +
                      " (capacity " + std::to_string(m_.opts.capacity) + ", queued before " +
                      std::to_string(before.queued) + ", hand-off room " + std::to_string(m_.demand) + ")");
        }
        if (m_.opts.on_full == dx::overflow::reject && before.queued < m_.opts.capacity && !q.cancel_before_submit &&
            !m_.stopped && deadline > m_.now)
            CHECK(q.at == where::pending, describe(m_, id) + " rejected though the queue had room");
        // The waiter has not been completed inline when accepted.
        settle(std::move(want), "submit");
        // (A request cancelled between its publication's steps was still
        // pushed: it may wake the responder, which then finds nothing.)
        if (fx.wake_responder)
            CHECK(q.at == where::pending || interleaved, "submit woke the responder without admitting anything");
        apply(fx);
    }

    interleave il_;

    // take() with priorities, flows or overload control: what was handed
    // out came in priority order, none of it below what stays pending (a
    // request of higher priority never waits behind a lower one), and, unless
    // LIFO may apply, each flow of a priority oldest first. (The round robin
    // between flows is checked exactly by test/core/overload.cpp.)
    void check_taking_order(const std::vector<int>& handed, const std::vector<int>& pending_before)
    {
        auto position = [&](int id) {
            return std::find(pending_before.begin(), pending_before.end(), id) - pending_before.begin();
        };
        for (std::size_t i = 1; i < handed.size(); ++i)
            CHECK(R(handed[i - 1]).prio >= R(handed[i]).prio,
                  "take handed " + describe(m_, handed[i - 1]) + " before " + describe(m_, handed[i]) +
                      " of a higher priority");
        const bool lifo = m_.opts.overload && m_.opts.overload->lifo;
        for (int h : handed) {
            for (int p : m_.pending) {
                if (R(p).deadline <= m_.now)
                    continue;  // not available (it ends with timeout)
                CHECK(R(p).prio <= R(h).prio, "take handed " + describe(m_, h) + " while " + describe(m_, p) +
                                                  " of a higher priority stays queued");
                if (!lifo && R(p).prio == R(h).prio && R(p).flow == R(h).flow)
                    CHECK(position(p) > position(h), "take handed " + describe(m_, h) + " before the older " +
                                                         describe(m_, p) + " of the same priority and flow");
            }
        }
    }

    // `started`: how many of the handed-out requests start at once (the rest
    // are taken, and must pass begin()).
    void do_take(std::size_t limit, std::size_t most, std::size_t started, core_type::taker who)
    {
        const std::size_t inflight = m_.taken.size();
        const std::size_t n = limit > inflight ? limit - inflight : 0;
        const std::size_t wanted = std::min(n, most);
        TRACE("  take limit %zu most %zu (in flight %zu, pending %zu) at %lld\n", limit, most, inflight,
              m_.pending.size(), ms_of(m_.now));
        // Expected walk, in submission order.
        std::vector<int> exp_handed, exp_expired;
        std::size_t available = 0;
        for (int id : m_.pending) {
            if (R(id).deadline > m_.now)
                ++available;
        }
        for (int id : m_.pending) {
            if (exp_handed.size() == wanted)
                break;
            if (R(id).deadline <= m_.now)
                exp_expired.push_back(id);
            else
                exp_handed.push_back(id);
        }
        const bool stopped_before = m_.stopped;
        const std::vector<int> pending_before = m_.pending;
        const core_type::take_result tr = core_.take(limit, m_.now, most, started, who);
        // Requests shed by this take were available before it.
        std::vector<expect> shed_want;
        const std::size_t shed = accept_shed(shed_want, "take");
        for (auto& x : shed_want)
            if (R(x.id).deadline > m_.now)
                --available;
        m_.last_limit = limit;
        // The handed-out chain.
        std::vector<int> handed;
        slot_type* s = tr.first;
        for (std::size_t i = 0; i != tr.count; ++i) {
            CHECK(s != nullptr, "take: chain shorter than count");
            slot_type* next = s->chain;
            const bool starts = handed.size() < started;
            // A taken request stays in its slot until begin().
            const int id = starts ? core_type::take_request(s) : *s->request.get();
            CHECK(id >= 0 && static_cast<std::size_t>(id) < m_.reqs.size(), "take handed out an unknown request");
            request& q = R(id);
            TRACE("    handed #%d\n", id);
            CHECK(q.at == where::pending, "take handed out " + describe(m_, id) + " which is not pending (guarantee 3)");
            CHECK(q.deadline > m_.now, "take at t0+" + std::to_string(ms_of(m_.now)) + "ms handed out " +
                                           describe(m_, id) + " whose deadline has passed (guarantee 3)");
            const dd::slot_key k = core_.key_of(s);
            CHECK(k.index == q.key.index && k.generation == q.key.generation,
                  "take: slot of " + describe(m_, id) + " carries key " + std::to_string(k.index) + "/" +
                      std::to_string(k.generation));
            q.at = starts ? where::running : where::taken;
            q.begun = starts;
            q.slot = s;
            erase_id(m_.pending, id);
            m_.taken.push_back(id);
            handed.push_back(id);
            s = next;
        }
        CHECK(s == nullptr, "take: chain longer than count");
        CHECK(tr.count == std::min(wanted, available),
              "take handed out " + std::to_string(tr.count) + " requests, expected min(limit - in flight = " +
                  std::to_string(n) + ", most = " + std::to_string(most) + ", available = " + std::to_string(available) +
                  ") (guarantee 7 / liveness)");
        if (m_.ordered) {
            check_taking_order(handed, pending_before);
        } else if (g_strict_fifo) {
            if (handed != exp_handed) {
                std::string got, exp;
                for (int id : handed)
                    got += " #" + std::to_string(id);
                for (int id : exp_handed)
                    exp += " #" + std::to_string(id);
                CHECK(false, "take order:" + got + ", expected (submission order):" + exp + " (guarantee 8)");
            }
        }
        // Timeouts found by take: pending, deadline passed.
        std::vector<expect> want;
        if (g_strict_fifo && !m_.ordered) {
            for (int id : exp_expired)
                want.push_back({id, expect::error, 0, make_error_code(dx::error::timeout)});
        } else {
            for (auto& ev : events_) {
                if (!ev.r.has_value() && ev.r.error() == dx::error::overloaded)
                    continue;  // accepted above
                CHECK(R(ev.id).at == where::pending && R(ev.id).deadline <= m_.now,
                      "take completed " + describe(m_, ev.id) + " with " + err_name(ev.r));
                want.push_back({ev.id, expect::error, 0, make_error_code(dx::error::timeout)});
            }
        }
        for (auto& x : want) {
            erase_id(m_.pending, x.id);
            R(x.id).at = where::ended;
        }
        want.insert(want.end(), shed_want.begin(), shed_want.end());
        (void)shed;
        settle(std::move(want), "take");
        const bool run_over = m_.pending.empty() && m_.taken.empty() && (m_.stopped || m_.clients == 0);
        CHECK(tr.done == run_over, std::string("take: done == ") + (tr.done ? "true" : "false") + ", expected " +
                                       (run_over ? "true" : "false") + " (pending " + std::to_string(m_.pending.size()) +
                                       ", in flight " + std::to_string(m_.taken.size()) + ", stopped " +
                                       (m_.stopped ? "yes" : "no") + ", clients " + std::to_string(m_.clients) + ")");
        if (tr.more)
            CHECK(tr.count == wanted && wanted < n && !m_.pending.empty(), "take: `more` set wrongly");
        if (tr.done) {
            m_.stopped = m_.closed = true;
            m_.done_seen = true;
        }
        // Who sleeps after the take: a taker that found nothing and goes idle;
        // one whose handler may block, unless `more` calls the responder
        // back (the backends wake it then).
        const bool idle = tr.count == 0 || who == core_type::taker::may_block;
        m_.asleep = !tr.done && idle && (tr.count == 0 || !tr.more);
        // Mirrors the core's rule: a take that left the responder idle with
        // room to spare stands ready for that many hand-offs.
        const std::size_t room_left = n - tr.count;
        m_.demand = idle && m_.pending.empty() && room_left != 0 && !stopped_before ? room_left : 0;
    }

    void do_finish(std::size_t pick, bool ok) { do_finish(pick, ok, interleave{}); }

    void do_finish(std::size_t pick, bool ok, interleave il)
    {
        std::vector<int> begun;
        for (int id : m_.taken)
            if (R(id).begun)
                begun.push_back(id);
        if (begun.empty())
            return;
        const int id = begun[pick % begun.size()];
        request& q = R(id);
        TRACE("  finish #%d with %s (%s)\n", id, ok ? "value" : "error", name(q.at));
        dx::result<int> r = ok ? dx::result<int>(response_for(id)) : dx::result<int>(handler_error);
        slot_type* s = q.slot;
        q.slot = nullptr;
        il_ = il;
        il_.id = id;
        const dd::run_outcome how = core_.finish(s, std::move(r));
        il_ = {};
        std::vector<expect> want;
        if (q.at == where::running || q.at == where::finishing) {
            CHECK(how == dd::run_outcome::delivered, "finish of running " + describe(m_, id) + " not delivered");
            if (ok)
                want.push_back({id, expect::value, response_for(id), {}});
            else
                want.push_back({id, expect::error, 0, handler_error});
        } else {
            CHECK(q.at == where::abandoned, "model: finishing " + describe(m_, id));
            CHECK(how == q.end_reason, "finish of abandoned " + describe(m_, id) + " returned outcome " +
                                           std::to_string(int(how)) + ", expected " + std::to_string(int(q.end_reason)));
        }
        q.at = where::ended;
        erase_id(m_.taken, id);
        settle(std::move(want), "finish");
        m_.asleep = false;  // an ending invocation drains again
    }

    // The handler of a taken request is about to start.
    void do_begin(std::size_t pick) { do_begin(pick, interleave{}); }

    void do_begin(std::size_t pick, interleave il)
    {
        std::vector<int> waiting;
        for (int id : m_.taken)
            if (!R(id).begun)
                waiting.push_back(id);
        if (waiting.empty())
            return;
        const int id = waiting[pick % waiting.size()];
        request& q = R(id);
        TRACE("  begin #%d (%s) at %lld\n", id, name(q.at), ms_of(m_.now));
        slot_type* s = q.slot;
        const time_point now = m_.now;  // what the responder read before the call made inside
        il_ = il;
        il_.id = id;
        const bool runs = core_.begin(s, now);
        il_ = {};
        std::vector<expect> want;
        if (q.at == where::taken) {
            // (stop() ended every taken request: a taken one is never stopped.)
            CHECK(!m_.stopped, "model: " + describe(m_, id) + " still taken after stop()");
            if (q.deadline <= m_.now) {
                CHECK(!runs, "begin started " + describe(m_, id) + " after its deadline (guarantee 3)");
                want.push_back({id, expect::error, 0, make_error_code(dx::error::timeout)});
            } else {
                CHECK(runs, "begin refused " + describe(m_, id));
            }
        } else {
            CHECK(q.at == where::abandoned, "model: beginning " + describe(m_, id));
            CHECK(!runs, "begin started " + describe(m_, id) + " which had already ended (guarantee 3)");
        }
        if (runs) {
            CHECK(core_type::take_request(s) == id, "begin: the slot of " + describe(m_, id) + " holds another request");
            q.at = where::running;
            q.begun = true;
        } else {
            q.at = where::ended;
            q.slot = nullptr;
            erase_id(m_.taken, id);
        }
        settle(std::move(want), "begin");
        m_.asleep = false;  // the responder is in its loop: it takes again
    }

    void do_cancel(std::size_t pick, bool terminal)
    {
        if (m_.reqs.empty())
            return;
        const int id = static_cast<int>(pick % m_.reqs.size());
        request& q = R(id);
        TRACE("  cancel #%d %s (%s)\n", id, terminal ? "terminal" : "partial", name(q.at));
        const auto out = core_.cancel(q.key, terminal);
        std::vector<expect> want;
        const error_code ec = make_error_code(dx::error::cancelled);
        switch (q.at) {
        case where::held:
            q.cancel_before_submit = true;
            CHECK(out.forward == nullptr, "cancel of a held request forwarded");
            break;
        case where::pending:
            want.push_back({id, expect::error, 0, ec});
            erase_id(m_.pending, id);
            q.at = where::ended;
            CHECK(out.forward == nullptr, "cancel of a queued request forwarded");
            break;
        case where::taken:  // not started: every cancellation ends it
            want.push_back({id, expect::error, 0, ec});
            q.at = where::abandoned;
            q.end_reason = dd::run_outcome::cancelled;
            CHECK(out.forward == nullptr, "cancel of a request not started forwarded");
            break;
        case where::running:
            if (terminal) {
                want.push_back({id, expect::error, 0, ec});
                q.at = where::abandoned;
                q.end_reason = dd::run_outcome::cancelled;
                CHECK(out.forward == q.slot, "terminal cancel of running " + describe(m_, id) + " not forwarded");
                CHECK(out.run_tag == q.slot->run_tag, "cancel forwarded with a wrong run tag");
            } else {
                CHECK(out.forward == nullptr, "partial cancel of a running request forwarded");
            }
            break;
        default:
            CHECK(out.forward == nullptr, "cancel with a stale key forwarded");
            CHECK(!out.fx.rearm_timer && !out.fx.wake_responder, "cancel with a stale key had effects");
            break;
        }
        settle(std::move(want), "cancel");
        apply(out.fx);
    }

    void do_expire()
    {
        TRACE("  expire at %lld\n", ms_of(m_.now));
        std::vector<expect> want;
        const error_code ec = make_error_code(dx::error::timeout);
        for (request& q : m_.reqs) {
            if (live(q) && q.deadline <= m_.now) {
                want.push_back({q.id, expect::error, 0, ec});
                if (q.at == where::pending) {
                    erase_id(m_.pending, q.id);
                    q.at = where::ended;
                } else {
                    q.at = where::abandoned;
                    q.end_reason = dd::run_outcome::timed_out;
                }
            }
        }
        const time_point next = core_.expire(m_.now);
        accept_shed(want, "expire");
        settle(std::move(want), "expire");
        const time_point exp_next = earliest();
        // With shedding, the timer also comes back when a request may be shed.
        CHECK(shedding() ? next <= exp_next && next > m_.now : next == exp_next,
              "expire returned next deadline t0+" + std::to_string(ms_of(next)) + "ms, expected t0+" +
                  std::to_string(ms_of(exp_next)) + "ms (-1 = none)");
        m_.timer = next;
    }

    void do_stop()
    {
        TRACE("  stop\n");
        std::vector<expect> want;
        for (int id : m_.pending) {
            want.push_back({id, expect::error, 0, make_error_code(dx::error::closed)});
            R(id).at = where::ended;
        }
        m_.pending.clear();
        for (int id : m_.taken) {
            request& q = R(id);
            if (q.at == where::taken) {
                want.push_back({id, expect::error, 0, make_error_code(dx::error::closed)});
                q.at = where::abandoned;
                q.end_reason = dd::run_outcome::closed;
            }
        }
        const dd::effects fx = core_.stop();
        m_.stopped = true;
        settle(std::move(want), "stop");
        apply(fx);
    }

    void do_close()
    {
        TRACE("  close\n");
        std::vector<expect> want;
        for (int id : m_.pending) {
            want.push_back({id, expect::error, 0, make_error_code(dx::error::closed)});
            R(id).at = where::ended;
        }
        m_.pending.clear();
        for (int id : m_.taken) {
            request& q = R(id);
            if (q.at == where::running || q.at == where::taken) {
                want.push_back({id, expect::error, 0, make_error_code(dx::error::closed)});
                q.at = where::abandoned;
                q.end_reason = dd::run_outcome::closed;
            }
        }
        const dd::effects fx = core_.close();
        m_.stopped = m_.closed = true;
        settle(std::move(want), "close");
        CHECK(core_.closed(), "closed() false after close()");
        apply(fx);
    }

    void do_unprepare(std::size_t pick)
    {
        if (m_.held.empty())
            return;
        const int id = m_.held[pick % m_.held.size()];
        TRACE("  unprepare #%d\n", id);
        request& q = R(id);
        core_.unprepare(q.slot);
        q.slot = nullptr;
        q.at = where::dropped;
        erase_id(m_.held, id);
        settle({}, "unprepare");
    }

    bool shedding() const { return m_.opts.overload && m_.opts.overload->shed; }

    time_point earliest() const
    {
        time_point t = time_point::max();
        for (const request& q : m_.reqs)
            if (live(q) && q.deadline < t)
                t = q.deadline;
        return t;
    }

    core_type core_;
    model m_;
    std::vector<event> events_;
    std::map<std::pair<std::uint32_t, std::uint32_t>, int> keys_;
};

void fuzz_run::step_hook(int n)
{
    if (il_.step != n || il_.fired)
        return;
    il_.fired = true;
    const int id = il_.id;
    request& q = R(id);
    static constexpr const char* ops[] = {"cancel", "terminal cancel", "stop", "close", "take", "expire"};
    TRACE("  -- inside %s #%d after step %d: %s\n", n == 4 ? "finish" : n == 5 ? "begin" : "submit", id, n,
          ops[il_.op]);
    if (n == 4) {
        // Delivered: whatever comes now is too late for it.
        q.at = where::finishing;
    } else if (n == 5) {
        // Its begin() read the deadline: still taken, any ending comes first.
    } else if (n == 3) {
        // Pushed onto the inbox: as good as queued from here on.
        q.at = where::pending;
        m_.pending.push_back(id);
    }
    switch (il_.op) {
    case 0:
    case 1:
        if (n >= 3) {
            do_cancel(static_cast<std::size_t>(id), il_.op == 1);
        } else {
            // Not yet visible: the request ends cancelled by the end of the
            // submit (now, at step 2, whose slot the inbox then gives back).
            q.cancel_before_submit = true;
            const auto out = core_.cancel(q.key, il_.op == 1);
            CHECK(out.forward == nullptr, "cancel of a request being submitted forwarded");
            apply(out.fx);
        }
        break;
    case 2: do_stop(); break;
    case 3: do_close(); break;
    case 4: do_take(8, SIZE_MAX, SIZE_MAX, core_type::taker::comes_back); break;
    default:
        if (q.deadline != time_point::max() && q.deadline > m_.now)
            m_.now = q.deadline;
        do_expire();
        break;
    }
    // Halfway through a finish the core must agree with the model too (a
    // request halfway through its submit holds a place the model cannot see).
    if (n == 4 || n == 5)
        check_invariants(n == 4 ? "a call inside a finish" : "a call inside a begin");
}

void fuzz_run::check_invariants(const char* step)
{
    const std::string at = std::string("after ") + step + ": ";
    const dx::responder_stats st = core_.stats();
    const std::size_t room = core_.waiting_for_room();
    CHECK(st.queued + room == m_.pending.size(),
          at + "queued " + std::to_string(st.queued) + " + waiting for room " + std::to_string(room) +
              " != model pending " + std::to_string(m_.pending.size()));
    CHECK(st.in_flight == m_.taken.size(), at + "stats.in_flight " + std::to_string(st.in_flight) + " != model " +
                                               std::to_string(m_.taken.size()));
    CHECK(st.completed == m_.completed, at + "stats.completed " + std::to_string(st.completed) + " != model " +
                                            std::to_string(m_.completed));
    CHECK(st.failed == m_.failed, at + "stats.failed " + std::to_string(st.failed) + " != model " +
                                      std::to_string(m_.failed));
    CHECK(st.timed_out == m_.timed_out, at + "stats.timed_out " + std::to_string(st.timed_out) + " != model " +
                                            std::to_string(m_.timed_out));
    CHECK(st.cancelled == m_.cancelled, at + "stats.cancelled " + std::to_string(st.cancelled) + " != model " +
                                            std::to_string(m_.cancelled));
    CHECK(st.shed == m_.shed, at + "stats.shed " + std::to_string(st.shed) + " != model " + std::to_string(m_.shed));
    if (m_.opts.capacity > 0) {
        CHECK(st.queued <= m_.opts.capacity, at + "queued " + std::to_string(st.queued) + " > capacity (guarantee 6)");
        if (room > 0)
            CHECK(st.queued == m_.opts.capacity, at + "requests wait for room while the queue has room");
    }
    if (m_.opts.on_full == dx::overflow::reject)
        CHECK(room == 0, at + "a request waits for room under overflow::reject (guarantee 6)");
    CHECK(core_.closed() == m_.closed, at + "closed() disagrees with the model");
    // Deadlines and the timer.
    const time_point e = earliest();
    CHECK(shedding() ? core_.earliest_deadline() <= e : core_.earliest_deadline() == e, at + "earliest_deadline() t0+" + std::to_string(ms_of(core_.earliest_deadline())) +
                                              "ms, expected t0+" + std::to_string(ms_of(e)) + "ms (-1 = none)");
    CHECK(m_.timer <= e, at + "the timer waits for t0+" + std::to_string(ms_of(m_.timer)) +
                             "ms but a live request's deadline is t0+" + std::to_string(ms_of(e)) +
                             "ms (a timeout would fire late)");
    // Wake-ups.
    if (m_.asleep && m_.last_limit > 0) {
        if (m_.taken.size() < m_.last_limit) {
            for (int id : m_.pending)
                CHECK(R(id).deadline <= m_.now, at + "lost wake-up: the responder is idle with room (limit " +
                                                    std::to_string(m_.last_limit) + ", in flight " +
                                                    std::to_string(m_.taken.size()) + ") while " + describe(m_, id) +
                                                    " waits");
        }
        if (!m_.done_seen && m_.pending.empty() && m_.taken.empty() && (m_.stopped || m_.clients == 0))
            CHECK(false, at + "lost wake-up: the run is over (stopped or no client) but the idle responder was not woken");
    }
}

void fuzz_run::run(reader& in)
{
    const std::uint8_t clients = in.byte() % 3;
    for (std::uint8_t i = 0; i != clients; ++i)
        core_.attach_client();
    m_.clients = clients;
    static constexpr std::size_t limits[] = {1, 2, 3, 4, 8, 0, 1, 2};
    static constexpr std::size_t mosts[] = {SIZE_MAX, 1, 2, 3};
    static constexpr int advances[] = {0, 1, 2, 3, 5, 10, 50, 100};
    std::size_t steps = 0;
    while (!in.empty() && steps++ < 4000 && m_.reqs.size() < 400) {
        const std::uint8_t op = in.byte();
        const char* step = "?";
        switch (op % 16) {
        case 0: {  // prepare + submit
            step = "submit";
            const std::uint8_t d = in.byte();
            const int id = do_prepare();
            do_submit(id, pick_deadline(d), (d & 0x80) != 0, class_byte(in));  // nothing cancelled it: either is right
            break;
        }
        case 1: {  // prepare + submit, with a call made between two of its steps
            step = "submit interleaved";
            const std::uint8_t d = in.byte(), x = in.byte();
            const int id = do_prepare();
            do_submit(id, pick_deadline(d), interleave{x % 4, (x / 4) % 5}, true, class_byte(in));
            break;
        }
        case 2:  // prepare, held
            step = "prepare";
            if (m_.held.size() < 8) {
                const int id = do_prepare();
                TRACE("  prepare #%d\n", id);
            }
            break;
        case 3: {  // submit a held one
            step = "submit held";
            const std::uint8_t p = in.byte(), d = in.byte();
            if (!m_.held.empty())
                do_submit(m_.held[p % m_.held.size()], pick_deadline(d), true, class_byte(in));
            break;
        }
        case 4:
            step = "unprepare";
            do_unprepare(in.byte());
            break;
        case 5:
        case 6: {
            step = "take";
            const std::uint8_t b = in.byte();
            // Most takes start everything (the first core's protocol); some
            // start only the first or none, as the backends do.
            static constexpr std::size_t starts[] = {SIZE_MAX, SIZE_MAX, 1, 0};
            // Takers that come back by themselves; the high bit: one whose
            // handler may block.
            using taker = core_type::taker;
            const taker who = (b & 0x80) == 0 ? taker::comes_back : taker::may_block;
            do_take(limits[b % 8], mosts[(b >> 3) % 4], starts[(b >> 5) % 4], who);
            break;
        }
        case 7: {
            const std::uint8_t b = in.byte();
            if ((b & 3) == 1) {
                step = "begin";
                do_begin(b >> 2);
            } else if ((b & 3) == 3) {
                // A begin with a call made between its read of the deadline
                // and its compare-and-swap.
                step = "begin interleaved";
                const std::uint8_t x = in.byte();
                static constexpr int begin_ops[] = {0, 1, 2, 3, 5};  // cancel, terminal, stop, close, expire
                do_begin(b >> 2, interleave{5, begin_ops[x % 5]});
            } else {
                step = "finish value";
                do_finish(b >> 1, true);
            }
            break;
        }
        case 8: {
            const std::uint8_t b = in.byte();
            if (b & 1) {
                step = "finish error";
                do_finish(b >> 1, false);
            } else {
                // A finish with a call made between its delivery and its
                // slot's hand-back.
                step = "finish interleaved";
                const std::uint8_t x = in.byte();
                do_finish(b >> 1, (x & 0x80) != 0, interleave{4, (x & 0x7f) % 6});
            }
            break;
        }
        case 9: {
            step = "cancel";
            const std::uint8_t b = in.byte();
            // Recent requests more likely: index from the end.
            std::size_t pick = m_.reqs.empty() ? 0 : m_.reqs.size() - 1 - (b >> 1) % m_.reqs.size();
            do_cancel(pick, b & 1);
            break;
        }
        case 10: {
            step = "advance";
            const std::uint8_t b = in.byte();
            m_.now += std::chrono::milliseconds(advances[b % 8]);
            TRACE("  advance to %lld\n", ms_of(m_.now));
            break;
        }
        case 11:
            step = "expire";
            do_expire();
            break;
        case 12:  // the timer fires at its deadline
            step = "timer";
            if (m_.timer != time_point::max()) {
                if (m_.timer > m_.now)
                    m_.now = m_.timer;
                do_expire();
            }
            break;
        case 13: {
            const std::uint8_t b = in.byte();
            if (b % 4 == 0) {
                step = "close";
                do_close();
            } else {
                step = "stop";
                do_stop();
            }
            break;
        }
        case 14:
            step = "attach";
            TRACE("  attach_client\n");
            core_.attach_client();
            ++m_.clients;
            break;
        case 15:
            step = "detach";
            if (m_.clients > 0) {
                TRACE("  detach_client\n");
                const dd::effects fx = core_.detach_client();
                --m_.clients;
                if (fx.wake_responder)
                    CHECK(m_.clients == 0, "detach_client woke the responder with clients left");
                apply(fx);
            }
            break;
        }
        check_invariants(step);
    }
    // The end: close, end every invocation, give back held slots.
    TRACE("  -- end --\n");
    do_close();
    check_invariants("final close");
    while (!m_.taken.empty()) {
        if (R(m_.taken.front()).begun)
            do_finish(0, true);
        else
            do_begin(0);
        check_invariants("final finish");
    }
    while (!m_.held.empty())
        do_unprepare(0);
    {
        const core_type::take_result tr = core_.take(1, m_.now);
        CHECK(tr.done && tr.count == 0, "take after close and every invocation ended: not done");
        settle({}, "final take");
    }
    for (const request& q : m_.reqs) {
        if (q.submitted)
            CHECK(q.completions == 1 && q.w->calls == 1,
                  describe(m_, q.id) + " completed " + std::to_string(q.w->calls) + " times at the end (guarantee 1)");
        else
            CHECK(q.w->calls == 0, describe(m_, q.id) + " never submitted but completed");
    }
}

int run_one(const std::uint8_t* data, std::size_t size)
{
    reader in(data, size);
    dx::channel_options o;
    const std::uint8_t c = in.byte();
    o.capacity = c % 5;
    o.on_full = (c >> 3) & 1 ? dx::overflow::reject : dx::overflow::wait;
    static constexpr int timeouts_ms[] = {2000, 1, 5, 10, 0, 100, -1, 3};
    const int t = timeouts_ms[(c >> 4) % 8];
    o.timeout = t < 0 ? duration::max() : duration(std::chrono::milliseconds(t));
    TRACE("config: capacity %zu, %s, timeout %d ms\n", o.capacity,
          o.on_full == dx::overflow::reject ? "reject" : "wait", t);
    // Bit 7: the second edition's priorities, flows and overload control.
    bool priorities = false, flows = false;
    if (c & 0x80) {
        const std::uint8_t e = in.byte();
        priorities = e & 1;
        flows = (e & 2) != 0;
        if (e & 4) {
            static constexpr int intervals_ms[] = {0, 1, 5, 20};
            o.overload = dx::overload_options{.interval = std::chrono::milliseconds(intervals_ms[(e >> 5) & 3]),
                                              .target = std::chrono::milliseconds((e & 0x80) ? 2 : 0),
                                              .shed = (e & 8) != 0,
                                              .lifo = (e & 16) != 0};
        }
        TRACE("config: priorities %d, flows %d, overload %d (shed %d, lifo %d, interval %d ms, target %d ms)\n",
              int(priorities), int(flows), int(o.overload.has_value()), int((e & 8) != 0), int((e & 16) != 0),
              o.overload ? int(std::chrono::duration_cast<std::chrono::milliseconds>(o.overload->interval).count()) : 0,
              (e & 0x80) ? 2 : 0);
    }
    {
        fuzz_run r(o);
        r.configure_classes(priorities, flows);
        r.run(in);
    }  // the core is destroyed here (it asserts nothing is left queued)
    return 0;
}

void init_from_env()
{
    if (const char* e = std::getenv("DUPLEX_FUZZ_TRACE"))
        g_trace = *e && *e != '0';
    if (const char* e = std::getenv("DUPLEX_FUZZ_RELAXED_FIFO"))
        g_strict_fifo = !(*e && *e != '0');
}

}  // namespace

void fuzz_core_step(int n)
{
    if (g_run)
        g_run->step_hook(n);
}

#ifndef DUPLEX_FUZZ_STANDALONE

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    init_from_env();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    return run_one(data, size);
}

#else

#include <filesystem>
#include <fstream>
#include <iterator>

namespace {
int replay(const std::filesystem::path& p)
{
    std::ifstream f(p, std::ios::binary);
    if (!f) {
        std::fprintf(stderr, "cannot read %s\n", p.string().c_str());
        return 1;
    }
    std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (g_trace)
        std::fprintf(stderr, "== %s\n", p.string().c_str());
    run_one(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    return 0;
}
}  // namespace

int main(int argc, char** argv)
{
    init_from_env();
    int rc = 0, n = 0;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path p(argv[i]);
        if (std::filesystem::is_directory(p)) {
            for (auto& e : std::filesystem::directory_iterator(p))
                if (e.is_regular_file()) {
                    rc |= replay(e.path());
                    ++n;
                }
        } else {
            rc |= replay(p);
            ++n;
        }
    }
    std::printf("core_fuzzer: %d input(s) replayed, all checks passed\n", n);
    return rc;
}

#endif
