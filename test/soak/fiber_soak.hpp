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

// One channel's life.
struct generation {
    generation(client_type c, responder_type r) : client(std::move(c)), responder(std::make_shared<responder_type>(std::move(r))) {}

    client_type client;
    std::atomic<ending_kind> how{ending_kind::stop};
    std::atomic<bool> end_in_handler{false};
    std::atomic<bool> run_done{false};
    std::atomic<bool> run_ok{false};
    std::shared_ptr<generation> successor;
    int strategy = 0;

    std::shared_ptr<responder_type> get() const
    {
        std::lock_guard lk(mutex_);
        return responder;
    }
    void stop() const
    {
        if (auto r = get())
            r->stop();
    }
    void drop()
    {
        std::shared_ptr<responder_type> victim;
        std::lock_guard lk(mutex_);
        victim.swap(responder);
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<responder_type> responder;
};

// The fibers a thread must join before it ends: the runs its clients started.
struct thread_runs {
    std::vector<fibers::fiber> fibers;
};

class world {
public:
    world(const settings& cfg, ledger& book, stall_watch& watch, report& rep)
        : cfg(cfg), book(book), watch(watch), rep(rep), spend(cfg.requests), rng_(cfg.seed * 7919 + 29)
    {
        next_switch = cfg.switch_every;
        publish(make_generation());
    }

    std::shared_ptr<generation> current() const
    {
        std::lock_guard lk(mutex_);
        return current_;
    }

    // Starts the first channel's run on the calling thread.
    void start_first(thread_runs& runs) { start(current(), runs); }

    void switch_channel(std::uint64_t mark, thread_runs& runs)
    {
        auto fresh = make_generation();
        start(fresh, runs);
        auto old = current();
        ending_kind how;
        {
            std::lock_guard lk(mutex_);
            static constexpr ending_kind kinds[] = {ending_kind::stop, ending_kind::destroy, ending_kind::stop_from_handler};
            how = kinds[rng_() % 3];
            next_switch = mark + cfg.switch_every / 2 + rng_() % (cfg.switch_every + 1);
            ++rep.endings[int(how)];
        }
        old->how = how;
        if (how == ending_kind::stop_from_handler) {
            old->successor = fresh;
            old->end_in_handler = true;
            return;
        }
        publish(fresh);
        old->stop();  // `destroy`: the run fiber drops it once the run returns
        switching = false;
    }

    void close_all()
    {
        std::vector<std::shared_ptr<generation>> gens;
        {
            std::lock_guard lk(mutex_);
            gens = all_;
        }
        for (auto& g : gens) {
            if (g->end_in_handler.exchange(false)) {
                std::lock_guard lk(mutex_);
                --rep.endings[int(g->how.load())];
                ++rep.endings[int(ending_kind::stop)];
                g->how = ending_kind::stop;
            }
            g->stop();
        }
    }

    void finish()
    {
        std::lock_guard lk(mutex_);
        for (auto& g : all_) {
            if (!g->run_done || !g->run_ok)
                ++rep.bad_runs;
            g->successor.reset();
        }
        rep.channels = all_.size();
        rep.batches = batches.load();
        all_.clear();
        current_.reset();
    }

    const settings& cfg;
    ledger& book;
    stall_watch& watch;
    report& rep;
    budget spend;
    std::atomic<std::uint64_t> next_switch{0};
    std::atomic<bool> switching{false};
    std::atomic<std::uint32_t> clients_done{0};
    std::atomic<std::uint64_t> batches{0};

private:
    void publish(std::shared_ptr<generation> g)
    {
        std::lock_guard lk(mutex_);
        current_ = std::move(g);
    }

    std::shared_ptr<generation> make_generation()
    {
        dx::channel_options opts;
        int strategy;
        {
            std::lock_guard lk(mutex_);
            static constexpr std::size_t capacities[] = {0, 1, 4, 16, 64, 256};
            opts.capacity = capacities[rng_() % 6];
            opts.on_full = rng_() % 10 < 8 ? dx::overflow::wait : dx::overflow::reject;
            strategy = static_cast<int>(rng_() % 5);
        }
        auto [c, r] = dx::make_fiber_channel<request, response, counting_slab>(opts);
        auto g = std::make_shared<generation>(std::move(c), std::move(r));
        g->strategy = strategy;
        std::lock_guard lk(mutex_);
        all_.push_back(g);
        return g;
    }

    dx::result<response> handle(generation& g, request q)
    {
        book.invoked(q, clock_type::now());
        if (g.end_in_handler.exchange(false)) {
            auto next = g.successor;
            g.stop();
            publish(std::move(next));
            switching = false;
        }
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
            auto r = g->get();
            const dx::result<void> res = [&] {
                switch (g->strategy) {
                case 0: return run_with(g.get(), *r, dx::fixed_concurrency{1});
                case 1: return run_with(g.get(), *r, dx::fixed_concurrency{2});
                case 2: return run_with(g.get(), *r, dx::fixed_concurrency{8});
                case 3: return run_with(g.get(), *r, dx::fixed_concurrency{32});
                default: return run_with(g.get(), *r, dx::dynamic_concurrency{4, 32, 1});
                }
            }();
            g->run_ok = res.has_value();
            g->run_done = true;
            if (g->how == ending_kind::destroy) {
                // Destroyed while clients still hold the channel.
                g->drop();
                r.reset();
            }
        });
    }

    mutable std::mutex mutex_;
    std::shared_ptr<generation> current_;
    std::vector<std::shared_ptr<generation>> all_;
    std::mt19937_64 rng_;
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
