//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_ZMQ_BATCH_HPP
#define BOOST_DUPLEX_DETAIL_ZMQ_BATCH_HPP

#include <boost/duplex/detail/asio/completion.hpp>
#include <boost/duplex/detail/core/batch.hpp>
#include <boost/duplex/detail/core/request_source.hpp>
#include <boost/duplex/error.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace boost::duplex::detail::zmq_io {

// A batch of a remote client: at most `concurrency` of its requests
// outstanding, each an ordinary async_request of the client, whose
// completions (and the batch's cancellation) are serialised on a strand of
// the batch's own. Fail-fast (the first error ends the batch and cancels the
// rest, terminally) or settled (every request ends on its own).
template <class Client, class Source, bool Settled, class Handler>
class remote_batch final : public std::enable_shared_from_this<remote_batch<Client, Source, Settled, Handler>> {
    using response = typename Client::response_type;
    using duration = std::chrono::steady_clock::duration;
    using clock = std::chrono::steady_clock;

public:
    template <class Range>
    remote_batch(Client c, Handler&& h, Range&& r, std::size_t concurrency, std::optional<duration> timeout)
        : client_(std::move(c))
        , strand_(net::make_strand(client_.get_executor()))
        , source_(std::forward<Range>(r))
        , concurrency_(concurrency)
        , h_(std::move(h), client_.get_executor())
    {
        if (timeout) {
            const auto now = clock::now();
            deadline_ = *timeout >= clock::time_point::max() - now ? clock::time_point::max() : now + *timeout;
        }
        results_.resize(source_.size());
        const std::size_t lanes = std::min(concurrency_, source_.size());
        signals_ = std::make_unique<net::cancellation_signal[]>(lanes);
        for (std::size_t i = 0; i < lanes; ++i)
            free_.push_back(lanes - 1 - i);
    }

    void start()
    {
        auto& slot = h_.slot();
        if (slot.is_connected())
            slot.template emplace<canceller>(this->weak_from_this());
        net::post(strand_, [self = this->shared_from_this()] { self->launch(); });
    }

private:
    struct canceller {
        explicit canceller(std::weak_ptr<remote_batch> p) noexcept : op(std::move(p)) {}
        std::weak_ptr<remote_batch> op;
        void operator()(net::cancellation_type_t type)
        {
            if (auto p = op.lock())
                net::post(p->strand_, [p, type] { p->stop(make_error_code(error::cancelled), type, true); });
        }
    };

    void launch()
    {
        const std::size_t n = results_.size();
        if (concurrency_ == 0) {
            complete();
            return;
        }
        while (!stopped_ && next_ < n && !free_.empty()) {
            const std::size_t i = next_++;
            std::optional<typename Client::request_type> req;
            try {
                req.emplace(source_.next());
            } catch (const std::bad_alloc&) {
                throw;
            } catch (...) {
                results_[i].emplace(make_error_code(error::invalid_argument));
                if constexpr (!Settled)
                    stop(make_error_code(error::invalid_argument), net::cancellation_type::terminal, false);
                continue;
            }
            const std::size_t lane = free_.back();
            free_.pop_back();
            ++running_;
            duration timeout = client_.default_timeout();
            if (deadline_) {
                const auto now = clock::now();
                timeout = *deadline_ == clock::time_point::max() ? duration::max()
                          : *deadline_ > now                     ? *deadline_ - now
                                                                 : duration::zero();
            }
            client_.async_request(
                std::move(*req), timeout,
                net::bind_cancellation_slot(
                    signals_[lane].slot(),
                    net::bind_executor(strand_, [self = this->shared_from_this(), i, lane](result<response> r) {
                        self->settled(i, lane, std::move(r));
                    })));
        }
        if (running_ == 0 && (stopped_ || next_ == n))
            complete();
    }

    void settled(std::size_t i, std::size_t lane, result<response> r)
    {
        --running_;
        free_.push_back(lane);
        const bool failed = !r;
        const auto ec = failed ? r.error() : boost::system::error_code();
        results_[i].emplace(std::move(r));
        if constexpr (!Settled)
            if (failed)
                stop(ec, net::cancellation_type::terminal, false);
        if (!done_)
            launch();
    }

    void stop(boost::system::error_code ec, net::cancellation_type_t type, bool cancelled)
    {
        if (done_ || stopped_)
            return;
        stopped_ = true;
        cancelled_ = cancelled;
        first_ = ec;
        for (std::size_t lane = 0, lanes = std::min(concurrency_, results_.size()); lane < lanes; ++lane)
            signals_[lane].emit(type);
        if (running_ == 0)
            complete();
    }

    void complete()
    {
        if (done_)
            return;
        done_ = true;
        auto keep = this->shared_from_this();
        const auto unsent = make_error_code(cancelled_ ? error::cancelled : error::invalid_argument);
        if constexpr (Settled) {
            std::vector<result<response>> out;
            out.reserve(results_.size());
            for (auto& r : results_)
                out.push_back(r ? std::move(*r) : result<response>(unsent));
            std::move(h_).post(std::move(out));
        } else {
            if (concurrency_ == 0 && !results_.empty())
                first_ = make_error_code(error::invalid_argument);
            if (first_) {
                std::move(h_).post(result<std::vector<response>>(first_));
                return;
            }
            std::vector<response> out;
            out.reserve(results_.size());
            for (auto& r : results_)
                out.push_back(std::move(r->value()));
            std::move(h_).post(result<std::vector<response>>(std::move(out)));
        }
    }

    Client client_;
    net::strand<net::any_io_executor> strand_;
    Source source_;
    std::size_t concurrency_;
    std::optional<clock::time_point> deadline_;
    std::vector<std::optional<result<response>>> results_;
    std::unique_ptr<net::cancellation_signal[]> signals_;
    std::vector<std::size_t> free_;
    std::size_t next_ = 0;
    std::size_t running_ = 0;
    bool stopped_ = false;
    bool cancelled_ = false;
    bool done_ = false;
    boost::system::error_code first_;
    asio::handler_holder<Handler, net::any_io_executor> h_;
};

}  // namespace boost::duplex::detail::zmq_io

#endif
