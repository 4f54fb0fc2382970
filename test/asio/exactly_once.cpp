//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Guarantee 1, exactly once: every request that was called completes exactly
// once, with a response or an error, whatever happens to it.
//
// 20 000 requests from 8 client copies, each sending from a strand of its own
// with a window of outstanding requests, on an io_context run by 4 threads.
// The mix: plain requests, short deadlines (some zero), cancellations of
// every type at different moments, handlers that throw or return an error,
// handlers that suspend; and a stop() once three quarters have completed.
// Every request id must complete once: no duplicate, none missing, each with
// an outcome its kind allows; and the responder's counters must agree with
// what the clients saw.

#define BOOST_TEST_MODULE asio_exactly_once
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/duplex/asio.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/errc.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

using namespace duplex_test;

namespace {

enum class kind { plain, short_deadline, cancelled };

kind kind_of(int id)
{
    switch (id % 10) {
    case 3:
    case 7: return kind::short_deadline;
    case 5:
    case 9: return kind::cancelled;
    default: return kind::plain;
    }
}

// What the handler does with request `id` (whatever its kind).
bool throws(int id) { return id % 97 == 0; }
bool fails(int id) { return !throws(id) && id % 89 == 0; }
bool suspends(int id) { return id % 4 == 1; }

boost::system::error_code handler_error()
{
    return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
}

// What the clients saw, per outcome.
enum outcome_index { o_value, o_handler_failed, o_handler_error, o_timeout, o_cancelled, o_closed, o_other, o_count };

struct tally {
    explicit tally(int n) : completions(std::size_t(n)), outcome(std::size_t(n)) {}

    std::vector<std::atomic<int>> completions;
    std::vector<std::atomic<int>> outcome;
    std::atomic<int> totals[o_count] = {};
    std::atomic<int> done{0};
    std::atomic<int> bad_value{0};
};

int classify(int id, const dx::result<int>& r, tally& t)
{
    if (r.has_value()) {
        if (r.value() != id * 2)
            ++t.bad_value;
        return o_value;
    }
    const auto ec = r.error();
    if (ec == dx::error::handler_failed)
        return o_handler_failed;
    if (ec == handler_error())
        return o_handler_error;
    if (ec == dx::error::timeout)
        return o_timeout;
    if (ec == dx::error::cancelled)
        return o_cancelled;
    if (ec == dx::error::closed)
        return o_closed;
    return o_other;
}

// One client copy sending ids first, first + step, ... below `end`, keeping
// up to `window` outstanding, from a strand of its own.
template <class Client>
class sender : public std::enable_shared_from_this<sender<Client>> {
public:
    sender(Client c, net::io_context& io, int first, int step, int end, int window, tally& t, std::function<void()> on_done)
        : client_(std::move(c))
        , strand_(net::make_strand(io))
        , next_(first)
        , step_(step)
        , end_(end)
        , window_(window)
        , tally_(t)
        , on_done_(std::move(on_done))
    {
    }

    void start()
    {
        net::post(strand_, [self = this->shared_from_this()] { self->pump(); });
    }

private:
    // On the strand.
    void pump()
    {
        while (outstanding_ < window_ && next_ < end_) {
            ++outstanding_;
            send(next_);
            next_ += step_;
        }
    }

    // `keep` holds what must live until the completion (a cancellation signal).
    auto completion(int id, std::shared_ptr<void> keep = nullptr)
    {
        return net::bind_executor(strand_, [self = this->shared_from_this(), id, keep = std::move(keep)](dx::result<int> r) {
            self->tally_.completions[std::size_t(id)]++;
            const int o = classify(id, r, self->tally_);
            self->tally_.outcome[std::size_t(id)] = o;
            self->tally_.totals[o]++;
            --self->outstanding_;
            self->pump();
            self->on_done_();
        });
    }

    void send(int id)
    {
        switch (kind_of(id)) {
        case kind::plain:
            client_.async_request(id, completion(id));
            break;
        case kind::short_deadline:
            // 0 .. 2.9 ms: some expire at once, some queued, some in flight.
            // One in 20 of them has no time at all (the very first, id 3, included).
            client_.async_request(id, id % 100 == 3 ? std::chrono::microseconds(0) : std::chrono::microseconds(id * 37 % 3000),
                                  completion(id));
            break;
        case kind::cancelled: {
            static const net::cancellation_type types[] = {net::cancellation_type::terminal,
                                                           net::cancellation_type::partial,
                                                           net::cancellation_type::total};
            const auto type = types[id / 10 % 3];
            // The signal lives until the completion and any later emission are done.
            auto sig = std::make_shared<net::cancellation_signal>();
            client_.async_request(id, net::bind_cancellation_slot(sig->slot(), completion(id, sig)));
            switch (id / 30 % 3) {
            case 0:  // at once, from inside the initiating strand turn
                sig->emit(type);
                break;
            case 1:  // a little later, on the strand (the completion's executor)
                net::post(strand_, [sig, type] { sig->emit(type); });
                break;
            default: {  // after a short wait: often while the handler runs
                auto t = std::make_shared<net::steady_timer>(strand_, std::chrono::microseconds(id * 53 % 2000));
                t->async_wait([sig, type, t](boost::system::error_code) { sig->emit(type); });
                break;
            }
            }
            break;
        }
        }
    }

    Client client_;
    net::strand<net::io_context::executor_type> strand_;
    int next_;
    const int step_, end_, window_;
    int outstanding_ = 0;
    tally& tally_;
    std::function<void()> on_done_;
};

template <class Storage>
void run_mixed_load(int requests, int copies, int threads, int window)
{
    net::io_context io;
    event ev;
    tally t(requests);
    dx::channel_options opts;
    opts.timeout = 30s;  // plain requests never time out: only short-deadline ones may
    opts.capacity = 64;
    auto ch = dx::make_asio_channel<int, int, Storage>(io.get_executor(), opts);
    auto& responder = ch.second;

    std::atomic<bool> run_done{false};
    std::atomic<int> run_result{-1};
    responder.async_run(
        [](int id) -> net::awaitable<dx::result<int>> {
            if (throws(id))
                throw std::runtime_error("handler failure");
            if (suspends(id)) {
                net::steady_timer tm(co_await net::this_coro::executor, std::chrono::microseconds(id * 31 % 1500));
                co_await tm.async_wait(net::use_awaitable);
            }
            if (fails(id))
                co_return handler_error();
            co_return id * 2;
        },
        dx::fixed_concurrency{16}, [&](dx::result<void> r) {
            run_result = r.has_value() ? 0 : r.error().value();
            run_done = true;
            ev.notify();
        });

    std::atomic<bool> stopped{false};
    auto on_done = [&] {
        // Stop once three quarters have completed (from whichever thread gets there).
        if (++t.done >= requests * 3 / 4 && !stopped.exchange(true))
            responder.stop();
        ev.notify();
    };
    {
        using client_type = dx::asio_client<int, int, Storage>;
        std::vector<std::shared_ptr<sender<client_type>>> senders;
        for (int c = 0; c != copies; ++c)
            senders.push_back(std::make_shared<sender<client_type>>(ch.first, io, c, copies, requests, window, t, on_done));
        for (auto& s : senders)
            s->start();
        auto gone = std::move(ch.first);  // only the senders' copies remain
    }

    const bool finished = run_threads_until(io, threads, ev, [&] { return t.done >= requests && run_done; }, 8s);

    BOOST_TEST_REQUIRE(finished, "only " << t.done << " of " << requests << " completed, run done: " << run_done);
    BOOST_TEST(run_result == 0);  // stop() ends the run with success
    int missing = 0, duplicated = 0, wrong_outcome = 0;
    for (int id = 0; id != requests; ++id) {
        const int n = t.completions[std::size_t(id)];
        missing += n == 0;
        duplicated += n > 1;
        if (n != 1)
            continue;
        const int o = t.outcome[std::size_t(id)];
        bool allowed = false;
        switch (o) {
        case o_value: allowed = !throws(id) && !fails(id); break;
        case o_handler_failed: allowed = throws(id); break;
        case o_handler_error: allowed = fails(id); break;
        case o_timeout: allowed = kind_of(id) == kind::short_deadline; break;
        case o_cancelled: allowed = kind_of(id) == kind::cancelled; break;
        case o_closed: allowed = true; break;
        default: allowed = false; break;
        }
        if (!allowed) {
            ++wrong_outcome;
            BOOST_TEST_MESSAGE("request " << id << " ended with outcome " << o);
        }
    }
    BOOST_TEST(missing == 0);
    BOOST_TEST(duplicated == 0);
    BOOST_TEST(wrong_outcome == 0);
    BOOST_TEST(t.bad_value == 0);
    BOOST_TEST(t.totals[o_other] == 0);

    // The mix really happened.
    BOOST_TEST(t.totals[o_value] > 0);
    BOOST_TEST(t.totals[o_handler_failed] > 0);
    BOOST_TEST(t.totals[o_handler_error] > 0);
    BOOST_TEST(t.totals[o_timeout] > 0);
    BOOST_TEST(t.totals[o_cancelled] > 0);
    BOOST_TEST(t.totals[o_closed] > 0);

    // The responder counted each ended request once, as the clients saw it
    // (closed ones are in none of its totals).
    const auto st = responder.stats();
    BOOST_TEST(st.completed == std::uint64_t(t.totals[o_value]));
    BOOST_TEST(st.failed == std::uint64_t(t.totals[o_handler_failed] + t.totals[o_handler_error]));
    BOOST_TEST(st.timed_out == std::uint64_t(t.totals[o_timeout]));
    BOOST_TEST(st.cancelled == std::uint64_t(t.totals[o_cancelled]));
    BOOST_TEST(st.in_flight == 0u);
    BOOST_TEST(st.queued == 0u);
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_request_completes_exactly_once_under_a_mixed_load)
{
    run_mixed_load<dx::sharded_slab>(20000, 8, 4, 32);
}

BOOST_AUTO_TEST_CASE(every_request_completes_exactly_once_under_a_mixed_load_with_locked_slab)
{
    run_mixed_load<dx::locked_slab>(20000, 8, 4, 32);
}
