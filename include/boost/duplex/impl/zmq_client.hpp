//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_IMPL_ZMQ_CLIENT_HPP
#define BOOST_DUPLEX_IMPL_ZMQ_CLIENT_HPP

#include <boost/duplex/detail/asio/batch_op.hpp>
#include <boost/duplex/detail/zmq/batch.hpp>

#include <cstring>
#include <memory>
#include <utility>

namespace boost::duplex {

template <class Request, class Response, class Codec>
struct zmq_client<Request, Response, Codec>::initiate_request {
    std::shared_ptr<state_type> state;
    detail::request_class cls;

    template <class Handler>
    void operator()(Handler&& h, Request req, std::chrono::steady_clock::duration timeout) const
    {
        using clock = std::chrono::steady_clock;
        using op_type = detail::zmq_io::remote_request_op<Response, std::decay_t<Handler>>;
        const auto now = clock::now();
        const auto deadline = timeout == clock::duration::max()     ? clock::time_point::max()
                              : timeout <= clock::duration::zero()  ? now
                              : timeout >= clock::time_point::max() - now ? clock::time_point::max()
                                                                    : now + timeout;
        std::decay_t<Handler> handler(std::forward<Handler>(h));
        op_type* op = op_type::make(std::move(handler), state->executor());
        try {
            // Encoded here, on the caller's thread, into the frame that will
            // be sent: the envelope is written in front when it is sent.
            thread_local std::vector<unsigned char> scratch;
            scratch.resize(detail::zmq_wire::request_header_size(cls.flow));
            state->codec().encode(req, scratch);
            detail::zmq_io::frame f(scratch.size());
            std::memcpy(f.data(), scratch.data(), scratch.size());
            zmq_msg_move(op->msg.get(), f.get());
        } catch (...) {
            op->discard();
            throw;
        }
        op->id = state->next_id();
        op->deadline = deadline;
        op->cls = cls;
        auto& slot = op->slot();
        if (slot.is_connected())
            slot.template emplace<detail::zmq_io::remote_canceller<state_type>>(state, op->id);
        state->submit(*op);
    }
};

template <class Request, class Response, class Codec>
template <bool Settled>
struct zmq_client<Request, Response, Codec>::initiate_batch {
    zmq_client client;

    template <class Handler, class Range>
    void operator()(Handler&& h, detail::asio::range_ref<Range> reqs, std::size_t concurrency,
                    std::optional<std::chrono::steady_clock::duration> timeout) const
    {
        using source = detail::request_source<Request, Range>;
        using op = detail::zmq_io::remote_batch<zmq_client, source, Settled, std::decay_t<Handler>>;
        std::decay_t<Handler> handler(std::forward<Handler>(h));
        auto p = std::make_shared<op>(client, std::move(handler), reqs.forward(), concurrency, timeout);
        p->start();
    }
};

template <class Request, class Response, class Codec>
template <class CompletionToken>
auto zmq_client<Request, Response, Codec>::async_request(Request req, CompletionToken&& token)
{
    return async_request(std::move(req), state_->options().timeout, std::forward<CompletionToken>(token));
}

template <class Request, class Response, class Codec>
template <class CompletionToken>
auto zmq_client<Request, Response, Codec>::async_request(Request req, std::chrono::steady_clock::duration timeout,
                                                         CompletionToken&& token)
{
    return boost::asio::async_initiate<CompletionToken, void(result<Response>)>(initiate_request{state_, cls_}, token,
                                                                                std::move(req), timeout);
}

template <class Request, class Response, class Codec>
template <bool Settled, class Range, class CompletionToken>
auto zmq_client<Request, Response, Codec>::batch(Range&& reqs, std::size_t concurrency,
                                                 std::optional<std::chrono::steady_clock::duration> timeout,
                                                 CompletionToken&& token)
{
    using signature = void(detail::batch_value_t<Response, Settled>);
    return boost::asio::async_initiate<CompletionToken, signature>(
        initiate_batch<Settled>{*this}, token, detail::asio::range_ref<Range>{std::forward<Range>(reqs)}, concurrency,
        timeout);
}

template <class Request, class Response, class Codec>
template <class Range, class CompletionToken>
auto zmq_client<Request, Response, Codec>::async_request_batch(Range&& reqs, std::size_t concurrency,
                                                               CompletionToken&& token)
{
    return batch<false>(std::forward<Range>(reqs), concurrency, std::nullopt, std::forward<CompletionToken>(token));
}

template <class Request, class Response, class Codec>
template <class Range, class CompletionToken>
auto zmq_client<Request, Response, Codec>::async_request_batch(Range&& reqs, std::size_t concurrency,
                                                               std::chrono::steady_clock::duration timeout,
                                                               CompletionToken&& token)
{
    return batch<false>(std::forward<Range>(reqs), concurrency, timeout, std::forward<CompletionToken>(token));
}

template <class Request, class Response, class Codec>
template <class Range, class CompletionToken>
auto zmq_client<Request, Response, Codec>::async_request_batch_settled(Range&& reqs, std::size_t concurrency,
                                                                       CompletionToken&& token)
{
    return batch<true>(std::forward<Range>(reqs), concurrency, std::nullopt, std::forward<CompletionToken>(token));
}

template <class Request, class Response, class Codec, class Executor>
result<zmq_client<Request, Response, Codec>> make_zmq_client(const Executor& ex,
                                                             const std::vector<std::string>& endpoints,
                                                             zmq_client_options opts)
{
    using state_type = detail::zmq_io::client_state<Response, Codec>;
    auto s = std::make_shared<state_type>(boost::asio::any_io_executor(ex), opts);
    if (auto ec = s->connect(endpoints))
        return ec;
    return zmq_client<Request, Response, Codec>(std::move(s));
}

}  // namespace boost::duplex

#endif
