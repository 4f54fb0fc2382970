//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// No heap allocation per request in steady state, Asio backend (issue #5): a
// warm channel (default channel_options, fixed_concurrency{}, a synchronous
// echo handler, std::uint64_t requests and responses) answers 10 000 more
// requests and the process-wide allocation counter does not move, in the
// shapes of the benchmark's workloads:
//
//   W2  64 clients and the responder on one thread: callback clients that
//       send their next request from inside the completion, and use_awaitable
//       coroutine clients;
//   W3  64 clients on this thread, the responder on an io_context run by
//       another thread (client completions bound to the clients' io_context);
//   W4  one batch of concurrency 64: what it allocates (its result vector
//       and its bookkeeping) does not grow with its size.
//
// The counter (bench/alloc_counter.hpp, defined in this unit) counts every
// allocation of the process, on every thread, through malloc & co and every
// operator new. Where it cannot count (a sanitizer intercepting malloc), the
// cases say so (BOOST_TEST_MESSAGE) and check nothing.
//
// Warm means: the channel has had as many requests pending at once as the
// load will have (one per client: the table of pending requests grows to its
// peak and keeps it), then answered the 10 000 requests of the warm-up.
//
// The measured window opens in the completion of the 10 000th request (the
// warm-up) and closes in the completion of the 20 000th; every client is
// still busy at both ends (the clients send a few more, one per client, so
// that nobody stops inside the window). Both readings go into plain
// variables: Boost.Test's assertions allocate, so they all come afterwards.
//
// Every io_context here is driven by io_context::run(), as a program would,
// and stopped by the handler that ends the phase (a watchdog thread stops it
// if that never happens). Not by run_for(), run_one() or poll(): each of
// those calls makes a fresh per-thread state, whose cache of recycled
// operation memory (Asio's recycling allocator) dies with it, so every
// handler that posts would allocate anew.

#define BOOST_TEST_MODULE asio_zero_allocation
#include <boost/test/unit_test.hpp>

#include "../zero_allocation.hpp"

#include <boost/duplex/asio.hpp>
#include <boost/duplex/concurrency.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/priority.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

using namespace zero_allocation_test;

namespace {

namespace dx = boost::duplex;
namespace net = boost::asio;
using namespace std::chrono_literals;

using client_type = dx::asio_client<value_type, value_type>;
using responder_type = dx::asio_responder<value_type, value_type>;

// Bounds every wait: a hang fails the test instead of blocking CI.
constexpr auto limit = 10s;

// Stops an io_context from another thread if it still runs after `limit`.
class io_watchdog {
public:
    explicit io_watchdog(net::io_context& io)
        : thread_([this, &io] {
            std::unique_lock lk(mutex_);
            if (!cv_.wait_for(lk, limit, [this] { return done_; })) {
                fired_ = true;
                io.stop();
            }
        })
    {
    }

    io_watchdog(const io_watchdog&) = delete;
    io_watchdog& operator=(const io_watchdog&) = delete;

    ~io_watchdog() { disarm(); }

    // Ends the watch; true if it had to stop the io_context.
    bool disarm()
    {
        if (thread_.joinable()) {
            {
                std::lock_guard lk(mutex_);
                done_ = true;
            }
            cv_.notify_all();
            thread_.join();
        }
        return fired_;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    bool fired_ = false;
    std::thread thread_;
};

// Runs `io` on this thread (io_context::run()) until a handler stops it, at
// most `limit`; true if `done()` holds then.
template <class Pred>
bool run_until_stopped(net::io_context& io, Pred done)
{
    io.restart();
    io_watchdog wd(io);
    io.run();
    return !wd.disarm() && done();
}

// The clients' shared count of requests, and the two readings of the
// allocation counter. Used by the clients' thread only.
class load {
public:
    load(net::io_context& io, std::size_t clients) : io_(io), total_(warm_requests + measured_requests + clients) {}

    // May the caller send one more request?
    bool take() noexcept
    {
        if (issued_ == total_)
            return false;
        ++issued_;
        return true;
    }

    // First thing in every completion. The last one stops the clients' io_context.
    void record(bool ok) noexcept
    {
        ++completed_;
        if (!ok)
            ++wrong_;
        if (completed_ == warm_requests)
            window_start_ = bench::allocations().count;
        else if (completed_ == warm_requests + measured_requests)
            window_end_ = bench::allocations().count;
        else if (completed_ == total_)
            io_.stop();
    }

    bool done() const noexcept { return completed_ == total_; }
    std::uint64_t total() const noexcept { return total_; }
    std::uint64_t completed() const noexcept { return completed_; }
    std::uint64_t wrong() const noexcept { return wrong_; }
    std::uint64_t window_start() const noexcept { return window_start_; }
    std::uint64_t window_end() const noexcept { return window_end_; }

private:
    net::io_context& io_;
    std::uint64_t total_;
    std::uint64_t issued_ = 0;
    std::uint64_t completed_ = 0;
    std::uint64_t wrong_ = 0;
    std::uint64_t window_start_ = 0;
    std::uint64_t window_end_ = 0;
};

// The checks shared by the W2 and W3 cases, made once everything ran.
void check_window(const load& ld)
{
    BOOST_TEST(ld.completed() == ld.total());
    BOOST_TEST(ld.wrong() == 0u);
    BOOST_TEST(ld.window_start() != 0u);  // the readings were taken
    BOOST_TEST(ld.window_end() != 0u);
    // The heart of it: not one allocation in 10 000 requests.
    BOOST_TEST(ld.window_end() == ld.window_start());
    BOOST_TEST_MESSAGE("allocations while " << measured_requests << " requests were answered: "
                                            << (ld.window_end() - ld.window_start()));
}

using client_executor = net::io_context::executor_type;

// A client written with completion callbacks: each completion sends the next
// request. Its completions are bound to `ex` where given; otherwise they have
// no executor of their own and run on the channel's.
class callback_client {
public:
    callback_client(client_type client, load& ld, std::uint64_t id, std::optional<client_executor> ex)
        : client_(std::move(client)), load_(ld), id_(id), ex_(std::move(ex))
    {
    }

    callback_client(const callback_client&) = delete;
    callback_client& operator=(const callback_client&) = delete;

    void send()
    {
        if (!load_.take())
            return;
        sent_ = request_value(id_, n_++);
        auto on_response = [this](dx::result<value_type> r) { received(r); };
        if (ex_)
            client_.async_request(sent_, net::bind_executor(*ex_, std::move(on_response)));
        else
            client_.async_request(sent_, std::move(on_response));
    }

private:
    void received(const dx::result<value_type>& r)
    {
        load_.record(r.has_value() && r.value() == sent_);
        send();
    }

    client_type client_;
    load& load_;
    std::uint64_t id_;
    std::uint64_t n_ = 0;
    value_type sent_ = 0;
    std::optional<client_executor> ex_;
};

// A client written as a use_awaitable coroutine.
net::awaitable<void> awaitable_client(client_type client, load& ld, std::uint64_t id)
{
    for (std::uint64_t n = 0; ld.take(); ++n) {
        const value_type sent = request_value(id, n);
        dx::result<value_type> r = co_await client.async_request(sent, net::use_awaitable);
        ld.record(r.has_value() && r.value() == sent);
    }
}

// Starts the coroutine clients on `io`; `ended` counts those that returned,
// `failed` those that threw. Not part of the measured window.
void spawn_awaitable_clients(net::io_context& io, const client_type& client, load& ld, std::size_t& ended,
                             std::size_t& failed)
{
    for (std::size_t id = 0; id != client_count; ++id)
        net::co_spawn(io, awaitable_client(client, ld, id), [&io, &ended, &failed](std::exception_ptr e) {
            if (e)
                ++failed;
            if (++ended == client_count)
                io.stop();
        });
}

// Makes the table of pending requests as large as the load will need before
// the measurement: the table grows by chunks as the number of requests
// pending at once reaches new highs, and keeps them, so a warm channel is one
// that has already had as many requests pending as the load will have (one
// per client). Sent before the responder runs, these are all pending at once
// (the queue holds them all). They have no deadline, so the deadline timer
// is left as it was. Construct before async_run, then wait().
class slot_table_warm_up {
public:
    slot_table_warm_up(client_type client, net::io_context& io) : io_(io)
    {
        for (std::size_t i = 0; i != client_count; ++i)
            client.async_request(request_value(client_count + i, 0), std::chrono::steady_clock::duration::max(),
                                 net::bind_executor(io_, [this](dx::result<value_type> r) {
                                     if (r.has_value())
                                         ++answered_;
                                     if (++completed_ == client_count)
                                         io_.stop();
                                 }));
    }

    slot_table_warm_up(const slot_table_warm_up&) = delete;
    slot_table_warm_up& operator=(const slot_table_warm_up&) = delete;

    // Runs `io` until every one was answered; true if they all were.
    bool wait()
    {
        return run_until_stopped(io_, [this] { return completed_ == client_count; }) && answered_ == client_count;
    }

private:
    net::io_context& io_;
    std::size_t completed_ = 0;
    std::size_t answered_ = 0;
};

// The responder's run and its result; its completion stops `io`, where it runs.
struct run_state {
    explicit run_state(net::io_context& io) : io(io) {}

    auto completion()
    {
        return net::bind_executor(io, [this](dx::result<void> r) {
            result.emplace(r);
            io.stop();
        });
    }

    // Stops the responder and waits for its run to complete; true if it did, with success.
    bool stop(responder_type& responder)
    {
        responder.stop();
        if (!result && !run_until_stopped(io, [this] { return result.has_value(); }))
            return false;
        return result->has_value();
    }

    net::io_context& io;
    std::optional<dx::result<void>> result;
};

// An io_context run by a thread of its own (io_context::run()) until
// finish(), or destruction.
class server_thread {
public:
    server_thread()
        : guard_(net::make_work_guard(io_)), thread_([this] {
            io_.run();
            ended_.set_value();
        })
    {
    }

    server_thread(const server_thread&) = delete;
    server_thread& operator=(const server_thread&) = delete;

    ~server_thread()
    {
        if (thread_.joinable()) {
            io_.stop();
            thread_.join();
        }
    }

    net::io_context& io() noexcept { return io_; }

    // Lets the io_context run out of work and joins the thread; stops it
    // (returning false) if it has not run out within `limit`.
    bool finish()
    {
        guard_.reset();
        const bool ran_out = ended_future_.wait_for(limit) == std::future_status::ready;
        if (!ran_out)
            io_.stop();
        thread_.join();
        return ran_out;
    }

private:
    net::io_context io_;
    net::executor_work_guard<net::io_context::executor_type> guard_;
    std::promise<void> ended_;
    std::future<void> ended_future_ = ended_.get_future();
    std::thread thread_;
};

}  // namespace

// ---------------------------------------------------------------------------
// W2: 64 clients and the responder on one thread
// ---------------------------------------------------------------------------

// Callback clients whose completions have no executor of their own (they run
// on the channel's): each sends its next request from inside its completion.
BOOST_AUTO_TEST_CASE(one_thread_callback_clients_allocate_nothing_per_request)
{
    if (!counting())
        return;
    net::io_context io;
    auto [client, responder] = dx::make_asio_channel<value_type, value_type>(io.get_executor());
    run_state run(io);
    slot_table_warm_up warm_up(client, io);
    responder.async_run(echo{}, dx::fixed_concurrency{}, run.completion());
    BOOST_TEST_REQUIRE(warm_up.wait());

    load ld(io, client_count);
    std::deque<callback_client> clients;
    for (std::size_t id = 0; id != client_count; ++id)
        clients.emplace_back(client, ld, id, std::nullopt);
    for (auto& c : clients)
        c.send();
    BOOST_TEST_REQUIRE(run_until_stopped(io, [&] { return ld.done(); }));
    BOOST_TEST(run.stop(responder));
    check_window(ld);
}

// The same with overload control, a priority and flows: the round robin
// between ten flows and the overload machinery (overloaded from the first
// standing queue, every take checking for requests to shed) allocate nothing
// either. (The target is far: a request shed would count as wrong.)
BOOST_AUTO_TEST_CASE(one_thread_callback_clients_with_flows_and_overload_control_allocate_nothing_per_request)
{
    if (!counting())
        return;
    net::io_context io;
    dx::channel_options o;
    o.overload = dx::overload_options{.interval = std::chrono::milliseconds(0), .target = std::chrono::seconds(10)};
    auto [client, responder] = dx::make_asio_channel<value_type, value_type>(io.get_executor(), o);
    run_state run(io);
    slot_table_warm_up warm_up(client, io);
    responder.async_run(echo{}, dx::fixed_concurrency{}, run.completion());
    BOOST_TEST_REQUIRE(warm_up.wait());

    load ld(io, client_count);
    std::deque<callback_client> clients;
    for (std::size_t id = 0; id != client_count; ++id)
        clients.emplace_back(client.with_priority(dx::priority::high).with_flow(id % 10), ld, id, std::nullopt);
    for (auto& c : clients)
        c.send();
    BOOST_TEST_REQUIRE(run_until_stopped(io, [&] { return ld.done(); }));
    BOOST_TEST(run.stop(responder));
    check_window(ld);
    BOOST_TEST(responder.stats().shed == 0u);
}

// use_awaitable coroutine clients, each awaiting its requests one after another.
BOOST_AUTO_TEST_CASE(one_thread_awaitable_clients_allocate_nothing_per_request)
{
    if (!counting())
        return;
    net::io_context io;
    auto [client, responder] = dx::make_asio_channel<value_type, value_type>(io.get_executor());
    run_state run(io);
    slot_table_warm_up warm_up(client, io);
    responder.async_run(echo{}, dx::fixed_concurrency{}, run.completion());
    BOOST_TEST_REQUIRE(warm_up.wait());

    load ld(io, client_count);
    std::size_t ended = 0, failed = 0;
    spawn_awaitable_clients(io, client, ld, ended, failed);
    BOOST_TEST_REQUIRE(run_until_stopped(io, [&] { return ended == client_count; }));
    BOOST_TEST(failed == 0u);
    BOOST_TEST(run.stop(responder));
    check_window(ld);
}

// ---------------------------------------------------------------------------
// W3: the clients on this thread, the responder on another
// ---------------------------------------------------------------------------

// The channel lives on the server thread's io_context; the callback clients'
// completions are bound to the clients' io_context, run by this thread.
BOOST_AUTO_TEST_CASE(cross_thread_callback_clients_allocate_nothing_per_request)
{
    if (!counting())
        return;
    net::io_context client_io;
    load ld(client_io, client_count);
    {
        server_thread server;
        auto [client, responder] = dx::make_asio_channel<value_type, value_type>(server.io().get_executor());
        run_state run(client_io);
        slot_table_warm_up warm_up(client, client_io);
        responder.async_run(echo{}, dx::fixed_concurrency{}, run.completion());
        BOOST_TEST_REQUIRE(warm_up.wait());
        {
            std::deque<callback_client> clients;
            for (std::size_t id = 0; id != client_count; ++id)
                clients.emplace_back(client, ld, id, client_io.get_executor());
            for (auto& c : clients)
                c.send();
            BOOST_TEST_REQUIRE(run_until_stopped(client_io, [&] { return ld.done(); }));
        }
        BOOST_TEST(run.stop(responder));
        BOOST_TEST(server.finish());
    }
    check_window(ld);
}

// The same with use_awaitable coroutine clients on this thread's io_context.
BOOST_AUTO_TEST_CASE(cross_thread_awaitable_clients_allocate_nothing_per_request)
{
    if (!counting())
        return;
    net::io_context client_io;
    load ld(client_io, client_count);
    std::size_t ended = 0, failed = 0;
    {
        server_thread server;
        auto [client, responder] = dx::make_asio_channel<value_type, value_type>(server.io().get_executor());
        run_state run(client_io);
        slot_table_warm_up warm_up(client, client_io);
        responder.async_run(echo{}, dx::fixed_concurrency{}, run.completion());
        BOOST_TEST_REQUIRE(warm_up.wait());
        spawn_awaitable_clients(client_io, client, ld, ended, failed);
        BOOST_TEST_REQUIRE(run_until_stopped(client_io, [&] { return ended == client_count; }));
        BOOST_TEST(run.stop(responder));
        BOOST_TEST(server.finish());
    }
    BOOST_TEST(failed == 0u);
    check_window(ld);
}

// ---------------------------------------------------------------------------
// W4: one batch, concurrency 64
// ---------------------------------------------------------------------------

namespace {

// One batch on a warm channel and the allocations it made, from its
// initiation to the start of its completion.
struct batch_run {
    std::uint64_t allocations = 0;
    bool correct = false;
};

batch_run run_batch(net::io_context& io, client_type& client, const std::vector<value_type>& requests)
{
    std::optional<dx::result<std::vector<value_type>>> res;
    std::uint64_t at_end = 0;
    const std::uint64_t at_start = bench::allocations().count;
    client.async_request_batch(requests, batch_concurrency, [&](dx::result<std::vector<value_type>> r) {
        at_end = bench::allocations().count;
        res.emplace(std::move(r));
        io.stop();
    });
    batch_run out;
    const bool completed = run_until_stopped(io, [&] { return res.has_value(); });
    out.allocations = at_end - at_start;
    out.correct = completed && res->has_value() && res->value() == requests;
    return out;
}

std::vector<value_type> batch_requests(std::size_t n)
{
    std::vector<value_type> v(n);
    for (std::size_t i = 0; i != n; ++i)
        v[i] = request_value(7, i);
    return v;
}

}  // namespace

// After a warm-up batch, a batch of 20 000 allocates exactly as much as one of
// 10 000: its result vector and bookkeeping that follows the concurrency, and
// nothing per request.
BOOST_AUTO_TEST_CASE(batch_allocations_do_not_grow_with_its_size)
{
    if (!counting())
        return;
    net::io_context io;
    auto [client, responder] = dx::make_asio_channel<value_type, value_type>(io.get_executor());
    run_state run(io);
    responder.async_run(echo{}, dx::fixed_concurrency{}, run.completion());

    const auto warm = batch_requests(10'000);
    const auto small = batch_requests(10'000);
    const auto large = batch_requests(20'000);
    const batch_run w = run_batch(io, client, warm);
    const batch_run s = run_batch(io, client, small);
    const batch_run l = run_batch(io, client, large);

    BOOST_TEST(w.correct);
    BOOST_TEST(s.correct);
    BOOST_TEST(l.correct);
    BOOST_TEST(l.allocations == s.allocations);
    // A small constant: the operation, the result vectors, one record per
    // concurrent request (and its vector's growth). Not one per request.
    BOOST_TEST(s.allocations <= 2 * batch_concurrency + 32);
    BOOST_TEST_MESSAGE("allocations of a batch of 10 000: " << s.allocations << ", of 20 000: " << l.allocations
                                                            << " (warm-up batch: " << w.allocations << ")");
    BOOST_TEST(run.stop(responder));
}

// ---------------------------------------------------------------------------
// What cannot fail allocates nothing (issues #11, #12)
// ---------------------------------------------------------------------------

// The calls that are noexcept (destroying the responder, a
// cancellation, dropping the last client) carry out what the core asks for
// (a re-armed timer, a cancelled one, a woken responder, the run's end) with
// posts. They must take no memory at that point: out of memory, a noexcept
// path can only terminate. Each is measured on this thread, outside the
// io_context's run(), where Asio's recycling cache holds nothing and every
// post that allocates reaches the counter. A request with a deadline is
// pending in each, so that the timer is armed and the call disarms it.
namespace {

// The allocations the process makes while `f` runs (read into plain
// variables: Boost.Test's assertions allocate).
template <class F>
std::uint64_t allocations_during(F&& f)
{
    const std::uint64_t before = bench::allocations().count;
    f();
    return bench::allocations().count - before;
}

struct pending_request {
    pending_request(client_type& client, net::io_context& io)
    {
        client.async_request(7, 10s, net::bind_cancellation_slot(signal.slot(), [this](dx::result<value_type> r) {
                                 result.emplace(r);
                             }));
        io.poll();  // the timer is armed
        io.restart();
    }

    net::cancellation_signal signal;
    std::optional<dx::result<value_type>> result;
};

}  // namespace

BOOST_AUTO_TEST_CASE(destroying_the_responder_allocates_nothing)
{
    if (!counting())
        return;
    net::io_context io;
    auto [client, responder] = dx::make_asio_channel<value_type, value_type>(io.get_executor());
    pending_request p(client, io);
    std::optional<responder_type> gone(std::move(responder));

    const std::uint64_t allocated = allocations_during([&] { gone.reset(); });

    io.run_for(limit);
    BOOST_TEST_REQUIRE(p.result.has_value());
    BOOST_TEST((p.result->error() == dx::error::closed));
    BOOST_TEST(allocated == 0u);
}

BOOST_AUTO_TEST_CASE(a_terminal_cancellation_allocates_nothing)
{
    if (!counting())
        return;
    net::io_context io;
    auto [client, responder] = dx::make_asio_channel<value_type, value_type>(io.get_executor());
    pending_request p(client, io);

    const std::uint64_t allocated = allocations_during([&] { p.signal.emit(net::cancellation_type::terminal); });

    io.run_for(limit);
    BOOST_TEST_REQUIRE(p.result.has_value());
    BOOST_TEST((p.result->error() == dx::error::cancelled));
    BOOST_TEST(allocated == 0u);
}

// The last client goes while the run is idle: the responder is woken to end it.
BOOST_AUTO_TEST_CASE(dropping_the_last_client_allocates_nothing)
{
    if (!counting())
        return;
    net::io_context io;
    auto [client, responder] = dx::make_asio_channel<value_type, value_type>(io.get_executor());
    std::optional<dx::result<void>> ran;
    responder.async_run(echo{}, dx::fixed_concurrency{}, [&](dx::result<void> r) { ran.emplace(r); });
    {
        pending_request p(client, io);  // answered: the run goes idle with the timer armed lazily
        BOOST_TEST_REQUIRE(p.result.has_value());
    }
    std::optional<client_type> last(std::move(client));

    const std::uint64_t allocated = allocations_during([&] { last.reset(); });

    io.run_for(limit);
    BOOST_TEST_REQUIRE(ran.has_value());
    BOOST_TEST(ran->has_value());
    BOOST_TEST(allocated == 0u);
}
