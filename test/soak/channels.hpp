//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The soak's succession of channels, the same for both backends: which one
// the clients call now, what each new one draws, how the old one ends, and the
// accounting of their runs at the end. The backends add how a run is started
// and what its handler does.

#ifndef BOOST_DUPLEX_TEST_SOAK_CHANNELS_HPP
#define BOOST_DUPLEX_TEST_SOAK_CHANNELS_HPP

#include "ledger.hpp"

#include <boost/duplex/options.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <vector>

namespace soak {

// What a new channel draws.
struct channel_draw {
    dx::channel_options opts;
    int strategy = 0;        // fixed 1, 2, 8, 32, or dynamic 1-32
    bool awaitable = false;  // Asio: an awaitable handler (else a synchronous one)
};

// One channel's life.
template <class Client, class Responder>
struct generation {
    generation(Client c, Responder r, const channel_draw& d)
        : client(std::move(c)), drawn(d), responder_(std::make_shared<Responder>(std::move(r)))
    {
    }

    Client client;
    const channel_draw drawn;
    std::atomic<ending_kind> how{ending_kind::stop};
    std::atomic<bool> end_in_handler{false};
    std::atomic<bool> run_done{false};
    std::atomic<bool> run_ok{false};
    std::shared_ptr<generation> successor;  // published by the handler that ends this one

    std::shared_ptr<Responder> responder() const
    {
        std::lock_guard lk(mutex_);
        return responder_;
    }
    void stop() const
    {
        if (auto r = responder())
            r->stop();
    }
    // Drops the channel's responder; its destructor runs wherever the last
    // reference goes (here, in a concurrent stop() that holds one, or in the
    // run that keeps it alive).
    void drop()
    {
        std::shared_ptr<Responder> victim;
        std::lock_guard lk(mutex_);
        victim.swap(responder_);
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<Responder> responder_;
};

template <class Generation>
class channels {
public:
    channels(const settings& cfg, report& rep, std::uint64_t salt) : cfg_(cfg), rep_(rep), rng_(cfg.seed * 7919 + salt)
    {
        next_switch = cfg.switch_every;
    }

    std::shared_ptr<Generation> current() const
    {
        std::lock_guard lk(mutex_);
        return current_;
    }

    void publish(std::shared_ptr<Generation> g)
    {
        std::lock_guard lk(mutex_);
        current_ = std::move(g);
    }

    // Draws a new channel's settings.
    channel_draw draw()
    {
        std::lock_guard lk(mutex_);
        static constexpr std::size_t capacities[] = {0, 1, 4, 16, 64, 256};
        channel_draw d;
        d.opts.capacity = capacities[rng_() % 6];
        d.opts.on_full = rng_() % 10 < 8 ? dx::overflow::wait : dx::overflow::reject;
        d.strategy = static_cast<int>(rng_() % 5);
        d.awaitable = rng_() % 10 < 7;
        return d;
    }

    // Keeps every channel until the end, for its accounting.
    void add(const std::shared_ptr<Generation>& g)
    {
        std::lock_guard lk(mutex_);
        all_.push_back(g);
    }

    // Sends the clients from `old` to `fresh` and ends `old` in one of the
    // first `kinds` ways (ending_kind's order), drawn at random; the next
    // switch comes around `switch_every` requests after `mark`. `destroy`
    // drops the responder at once when `destroy_at_once`, else only stops it
    // (the backend drops it when its run ends). An ending from a handler
    // leaves the clients on `old` until one of its handlers calls
    // end_from_handler().
    void hand_over(const std::shared_ptr<Generation>& old, std::shared_ptr<Generation> fresh, int kinds,
                   std::uint64_t mark, bool destroy_at_once)
    {
        ending_kind how;
        {
            std::lock_guard lk(mutex_);
            how = static_cast<ending_kind>(rng_() % static_cast<unsigned>(kinds));
            next_switch = mark + cfg_.switch_every / 2 + rng_() % (cfg_.switch_every + 1);
            ++rep_.endings[int(how)];
        }
        old->how = how;
        if (how == ending_kind::stop_from_handler || how == ending_kind::destroy_from_handler) {
            old->successor = std::move(fresh);
            old->end_in_handler = true;
            return;
        }
        publish(std::move(fresh));
        if (how == ending_kind::destroy && destroy_at_once)
            old->drop();
        else
            old->stop();
        switching = false;
    }

    // Called by each handler invocation of `g`: ends it, if that was asked
    // for, and sends the clients to its successor.
    void end_from_handler(Generation& g)
    {
        if (!g.end_in_handler.exchange(false))
            return;
        auto next = g.successor;
        if (g.how == ending_kind::stop_from_handler)
            g.stop();
        else
            g.drop();
        publish(std::move(next));
        switching = false;
    }

    // Ends every channel still running, once every client is done. An ending
    // from a handler still waiting for one becomes a stop.
    void close_all()
    {
        std::vector<std::shared_ptr<Generation>> gens;
        {
            std::lock_guard lk(mutex_);
            gens = all_;
        }
        for (auto& g : gens) {
            if (g->end_in_handler.exchange(false)) {
                std::lock_guard lk(mutex_);
                --rep_.endings[int(g->how.load())];
                ++rep_.endings[int(ending_kind::stop)];
                g->how = ending_kind::stop;
            }
            g->stop();
        }
    }

    // Once every thread is done: checks every run's end and lets the
    // channels go (their tables count the slots left in them).
    void finish()
    {
        std::lock_guard lk(mutex_);
        for (auto& g : all_) {
            if (!g->run_done || !g->run_ok)
                ++rep_.bad_runs;
            g->successor.reset();
        }
        rep_.channels = all_.size();
        rep_.batches = batches.load();
        all_.clear();
        current_.reset();
    }

    std::atomic<std::uint64_t> next_switch{0};
    std::atomic<bool> switching{false};  // a client is replacing the channel
    std::atomic<std::uint32_t> clients_done{0};
    std::atomic<std::uint64_t> batches{0};

private:
    const settings& cfg_;
    report& rep_;
    mutable std::mutex mutex_;
    std::mt19937_64 rng_;
    std::shared_ptr<Generation> current_;
    std::vector<std::shared_ptr<Generation>> all_;
};

// Whether a run's result is the one its ending calls for: success when
// stopped, closed when destroyed.
inline bool run_result_ok(ending_kind how, const dx::result<void>& r)
{
    const bool destroyed = how == ending_kind::destroy || how == ending_kind::destroy_from_handler;
    return destroyed ? (!r && r.error() == dx::make_error_code(dx::error::closed)) : r.has_value();
}

}  // namespace soak

#endif
