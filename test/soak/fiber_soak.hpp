//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The chaos soak on the Boost.Fiber backend: two threads, each running half
// of the clients as fibers; each channel's responder runs in a fiber on the
// thread of the client that opened it. Fiber requests cannot be cancelled, so
// the clients draw every other kind of trouble. Every few thousand requests
// the client that crosses the mark replaces the channel and ends the old one:
// stopped; stopped and then destroyed while its clients still call it (a
// fiber_responder must outlive its own run, so that is as far as destruction
// goes here); or stopped from inside one of its handlers.

#ifndef BOOST_DUPLEX_TEST_SOAK_FIBER_SOAK_HPP
#define BOOST_DUPLEX_TEST_SOAK_FIBER_SOAK_HPP

#include "channels.hpp"
#include "plan.hpp"

#include <boost/duplex/fiber.hpp>

#include <boost/fiber/all.hpp>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace soak::fiber_backend {

namespace fibers = boost::fibers;
using client_type = dx::fiber_client<request, response, counting_slab>;
using responder_type = dx::fiber_responder<request, response, counting_slab>;

using generation = soak::generation<client_type, responder_type>;

// The fibers a thread must join before it ends: the runs its clients started.
struct thread_runs {
    std::vector<fibers::fiber> fibers;
};

class world : public channels<generation> {
public:
    world(const settings& cfg, ledger& book, stall_watch& watch, report& rep)
        : channels(cfg, rep, 29), cfg(cfg), book(book), watch(watch), spend(cfg.requests)
    {
        publish(make_generation());
    }

    // Starts the first channel's run on the calling thread.
    void start_first(thread_runs& runs) { start(current(), runs); }

    // Replaces the channel, whose run starts on the calling thread, and ends
    // the old one: stopped; stopped and dropped once its run has returned; or
    // stopped from a handler.
    void switch_channel(std::uint64_t mark, thread_runs& runs)
    {
        auto fresh = make_generation();
        start(fresh, runs);
        hand_over(current(), std::move(fresh), 3, mark, false);
    }

    const settings& cfg;
    ledger& book;
    stall_watch& watch;
    budget spend;

private:
    std::shared_ptr<generation> make_generation()
    {
        const channel_draw d = draw();
        auto [c, r] = dx::make_fiber_channel<request, response, counting_slab>(d.opts);
        auto g = std::make_shared<generation>(std::move(c), std::move(r), d);
        add(g);
        return g;
    }

    dx::result<response> handle(generation& g, request q)
    {
        book.invoked(q, clock_type::now());
        end_from_handler(g);
        if (q.delay_us)
            boost::this_fiber::sleep_for(std::chrono::microseconds(q.delay_us));
        if (q.act == action::throws)
            throw std::runtime_error("the soak's throwing handler");
        if (q.act == action::fails)
            return handler_error();
        return answer(q);
    }

    template <class Strategy>
    dx::result<void> run_with(generation* g, responder_type& r, Strategy s)
    {
        return r.run([this, g](request q) { return handle(*g, std::move(q)); }, s);
    }

    // The channel's run, in a fiber of the calling thread.
    void start(std::shared_ptr<generation> g, thread_runs& runs)
    {
        runs.fibers.emplace_back([this, g = std::move(g)] {
            // This reference keeps the responder alive for its whole run.
            auto r = g->responder();
            const dx::result<void> res = [&] {
                switch (g->drawn.strategy) {
                case 0: return run_with(g.get(), *r, dx::fixed_concurrency{1});
                case 1: return run_with(g.get(), *r, dx::fixed_concurrency{2});
                case 2: return run_with(g.get(), *r, dx::fixed_concurrency{8});
                case 3: return run_with(g.get(), *r, dx::fixed_concurrency{32});
                default: return run_with(g.get(), *r, dx::dynamic_concurrency{4, 32, 1});
                }
            }();
            // Every ending stops the run (destruction comes after it).
            g->run_ok = res.has_value();
            g->run_done = true;
            if (g->how == ending_kind::destroy) {
                // Destroyed while clients still hold the channel.
                g->drop();
                r.reset();
            }
        });
    }
};

inline void client_loop(world& w, std::uint32_t id, thread_runs& runs, std::uint32_t& issued)
{
    std::mt19937_64 rng(w.cfg.seed * 1000003 + id);
    planned_op op;
    std::uint32_t next_seq = 0;
    while (plan_next(w.spend, w.book, id, next_seq, rng, false, op)) {
        if (op.claimed_before >= w.next_switch && !w.switching.exchange(true))
            w.switch_channel(op.claimed_before, runs);
        auto g = w.current();
        switch (op.kind) {
        case op_kind::single: {
            request q = std::move(op.requests.front());
            auto r = op.timeout ? g->client.request(std::move(q), *op.timeout) : g->client.request(std::move(q));
            settle_single(w.book, op, r);
            break;
        }
        case op_kind::fail_fast_batch: {
            w.batches.fetch_add(1, std::memory_order_relaxed);
            auto r = op.timeout ? g->client.request_batch(std::move(op.requests), op.concurrency, *op.timeout)
                                : g->client.request_batch(std::move(op.requests), op.concurrency);
            settle_fail_fast(w.book, op, r);
            break;
        }
        case op_kind::settled_batch: {
            w.batches.fetch_add(1, std::memory_order_relaxed);
            auto rs = g->client.request_batch_settled(std::move(op.requests), op.concurrency);
            settle_settled(w.book, op, rs);
            break;
        }
        }
        w.watch.progress();
        // Fibers are scheduled cooperatively: a client whose calls all fail
        // at once (a closed channel, a full queue) would never let the other
        // fibers of its thread, a responder among them, run.
        boost::this_fiber::yield();
    }
    issued = next_seq;
    if (w.clients_done.fetch_add(1) + 1 == w.cfg.clients)
        w.close_all();
}

// Runs the soak on the Fiber backend and adds up its report.
inline report run(const settings& cfg, ledger& book, stall_watch& watch)
{
    report rep;
    rep.backend = "fiber";
    const auto t0 = clock_type::now();
    std::vector<std::uint32_t> issued(cfg.clients, 0);
    {
        world w(cfg, book, watch, rep);
        auto thread_main = [&](std::uint32_t k) {
            thread_runs runs;
            if (k == 0)
                w.start_first(runs);
            std::vector<fibers::fiber> clients;
            for (std::uint32_t c = k; c < cfg.clients; c += 2)
                clients.emplace_back([&w, c, &runs, &issued] { client_loop(w, c, runs, issued[c]); });
            for (auto& f : clients)
                f.join();
            // Every client is done; close_all() has stopped every channel, so
            // each run started on this thread returns.
            for (std::size_t i = 0; i < runs.fibers.size(); ++i)
                runs.fibers[i].join();
        };
        std::thread second(thread_main, 1u);
        thread_main(0);
        second.join();
        w.finish();
    }
    rep.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
    tally(book, cfg.clients, issued, rep);
    return rep;
}

}  // namespace soak::fiber_backend

#endif
