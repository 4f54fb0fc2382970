//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The chaos soak on the Asio backend: clients are callback chains, each on a
// strand of its own, over one io_context run by two threads; the responder's
// strand shares them. Each client makes one call at a time (a request or a
// batch), draws what it does, and may cancel it with a signal emitted on its
// strand. Every few thousand requests the client that crosses the mark
// replaces the channel and ends the old one.

#ifndef BOOST_DUPLEX_TEST_SOAK_ASIO_SOAK_HPP
#define BOOST_DUPLEX_TEST_SOAK_ASIO_SOAK_HPP

#include "channels.hpp"
#include "plan.hpp"

#include <boost/duplex/asio.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace soak::asio_backend {

namespace net = boost::asio;
using client_type = dx::asio_client<request, response, counting_slab>;
using responder_type = dx::asio_responder<request, response, counting_slab>;

using generation = soak::generation<client_type, responder_type>;

class world : public channels<generation> {
public:
    world(net::io_context& io, const settings& cfg, ledger& book, stall_watch& watch, report& rep)
        : channels(cfg, rep, 17), io(io), cfg(cfg), book(book), watch(watch), spend(cfg.requests)
    {
    }

    // The first channel.
    void open() { publish(make_generation()); }

    // Replaces the channel and ends the old one one of four ways. Called by
    // the client whose call crossed the mark, at most one at a time.
    void switch_channel(std::uint64_t mark) { hand_over(current(), make_generation(), 4, mark, true); }

    net::io_context& io;
    const settings& cfg;
    ledger& book;
    stall_watch& watch;
    budget spend;

private:
    std::shared_ptr<generation> make_generation()
    {
        const channel_draw d = draw();
        auto [c, r] = dx::make_asio_channel<request, response, counting_slab>(io.get_executor(), d.opts);
        auto g = std::make_shared<generation>(std::move(c), std::move(r), d);
        add(g);
        switch (d.strategy) {
        case 0: start(g, dx::fixed_concurrency{1}); break;
        case 1: start(g, dx::fixed_concurrency{2}); break;
        case 2: start(g, dx::fixed_concurrency{8}); break;
        case 3: start(g, dx::fixed_concurrency{32}); break;
        default: start(g, dx::dynamic_concurrency{4, 32, 1}); break;
        }
        return g;
    }

    template <class Strategy>
    void start(const std::shared_ptr<generation>& g, Strategy strategy)
    {
        auto responder = g->responder();
        generation* raw = g.get();  // generations outlive the io_context's run
        auto done = [raw](dx::result<void> r) {
            raw->run_ok = run_result_ok(raw->how, r);
            raw->run_done = true;
        };
        if (g->drawn.awaitable) {
            responder->async_run(
                [this, raw](request q) -> net::awaitable<dx::result<response>> {
                    book.invoked(q, clock_type::now());
                    end_from_handler(*raw);
                    if (q.delay_us) {
                        net::steady_timer t(co_await net::this_coro::executor, std::chrono::microseconds(q.delay_us));
                        co_await t.async_wait(net::as_tuple(net::use_awaitable));
                    }
                    if (q.act == action::throws)
                        throw std::runtime_error("the soak's throwing handler");
                    if (q.act == action::fails)
                        co_return handler_error();
                    co_return answer(q);
                },
                strategy, std::move(done));
        } else {
            // A synchronous handler cannot wait without blocking the
            // responder: it answers at once (short deadlines then rarely pass).
            responder->async_run(
                [this, raw](request q) -> dx::result<response> {
                    book.invoked(q, clock_type::now());
                    end_from_handler(*raw);
                    if (q.act == action::throws)
                        throw std::runtime_error("the soak's throwing handler");
                    if (q.act == action::fails)
                        return handler_error();
                    return answer(q);
                },
                strategy, std::move(done));
        }
    }
};

// One client: a chain of calls on its own strand.
class client_task : public std::enable_shared_from_this<client_task> {
public:
    client_task(world& w, std::uint32_t id)
        : w_(w), id_(id), strand_(net::make_strand(w.io)), timer_(strand_), rng_(w.cfg.seed * 1000003 + id)
    {
    }

    void start()
    {
        net::post(strand_, [self = shared_from_this()] { self->next(); });
    }

    std::uint32_t issued() const { return next_seq_; }

private:
    void next()
    {
        if (!plan_next(w_.spend, w_.book, id_, next_seq_, rng_, true, op_)) {
            if (w_.clients_done.fetch_add(1) + 1 == w_.cfg.clients)
                w_.close_all();
            return;
        }
        if (op_.claimed_before >= w_.next_switch && !w_.switching.exchange(true))
            w_.switch_channel(op_.claimed_before);
        auto g = w_.current();
        ++op_no_;
        switch (op_.kind) {
        case op_kind::single: single(*g); break;
        case op_kind::fail_fast_batch: fail_fast(*g); break;
        case op_kind::settled_batch: settled(*g); break;
        }
    }

    // Back on the strand with the outcome written down.
    void done()
    {
        pending_ = false;
        timer_.cancel();
        w_.watch.progress();
        next();
    }

    void single(generation& g)
    {
        auto on_done = [self = shared_from_this()](dx::result<response> r) {
            settle_single(self->w_.book, self->op_, r);
            self->done();
        };
        request q = std::move(op_.requests.front());
        pending_ = true;
        if (op_.cancel == cancel_how::none) {
            if (op_.timeout)
                g.client.async_request(std::move(q), *op_.timeout, net::bind_executor(strand_, std::move(on_done)));
            else
                g.client.async_request(std::move(q), net::bind_executor(strand_, std::move(on_done)));
            return;
        }
        auto token = net::bind_cancellation_slot(signal_.slot(), net::bind_executor(strand_, std::move(on_done)));
        if (op_.timeout)
            g.client.async_request(std::move(q), *op_.timeout, std::move(token));
        else
            g.client.async_request(std::move(q), std::move(token));
        // The handler has not run (it never runs inside the initiating
        // function), so the request is still pending here.
        if (op_.cancel == cancel_how::at_once) {
            emit();
            return;
        }
        timer_.expires_after(op_.cancel_delay);
        timer_.async_wait([self = shared_from_this(), no = op_no_](boost::system::error_code ec) {
            if (!ec && self->pending_ && self->op_no_ == no)
                self->emit();
        });
    }

    void emit()
    {
        static constexpr net::cancellation_type types[] = {net::cancellation_type::terminal, net::cancellation_type::partial,
                                                           net::cancellation_type::total};
        signal_.emit(types[op_.cancel_type]);
    }

    void fail_fast(generation& g)
    {
        auto on_done = net::bind_executor(strand_, [self = shared_from_this()](dx::result<std::vector<response>> r) {
            settle_fail_fast(self->w_.book, self->op_, r);
            self->done();
        });
        pending_ = true;
        w_.batches.fetch_add(1, std::memory_order_relaxed);
        if (op_.timeout)
            g.client.async_request_batch(std::move(op_.requests), op_.concurrency, *op_.timeout, std::move(on_done));
        else
            g.client.async_request_batch(std::move(op_.requests), op_.concurrency, std::move(on_done));
    }

    void settled(generation& g)
    {
        auto on_done = net::bind_executor(strand_, [self = shared_from_this()](std::vector<dx::result<response>> rs) {
            settle_settled(self->w_.book, self->op_, rs);
            self->done();
        });
        pending_ = true;
        w_.batches.fetch_add(1, std::memory_order_relaxed);
        g.client.async_request_batch_settled(std::move(op_.requests), op_.concurrency, std::move(on_done));
    }

    world& w_;
    std::uint32_t id_;
    net::strand<net::io_context::executor_type> strand_;
    net::steady_timer timer_;
    net::cancellation_signal signal_;
    std::mt19937_64 rng_;
    std::uint32_t next_seq_ = 0;
    std::uint64_t op_no_ = 0;
    bool pending_ = false;
    planned_op op_;
};

// Runs the soak on the Asio backend and adds up its report.
inline report run(const settings& cfg, ledger& book, stall_watch& watch)
{
    report rep;
    rep.backend = "asio";
    const auto t0 = clock_type::now();
    std::vector<std::uint32_t> issued(cfg.clients, 0);
    {
        net::io_context io(2);
        world w(io, cfg, book, watch, rep);
        w.open();
        std::vector<std::shared_ptr<client_task>> clients;
        for (std::uint32_t c = 0; c < cfg.clients; ++c) {
            clients.push_back(std::make_shared<client_task>(w, c));
            clients.back()->start();
        }
        std::thread second([&io] { io.run(); });
        io.run();
        second.join();
        for (std::uint32_t c = 0; c < cfg.clients; ++c)
            issued[c] = clients[c]->issued();
        clients.clear();
        w.finish();
    }
    rep.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
    tally(book, cfg.clients, issued, rep);
    return rep;
}

}  // namespace soak::asio_backend

#endif
