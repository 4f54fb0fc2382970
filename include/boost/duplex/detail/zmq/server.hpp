//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_ZMQ_SERVER_HPP
#define BOOST_DUPLEX_DETAIL_ZMQ_SERVER_HPP

#include <boost/duplex/asio_client.hpp>
#include <boost/duplex/detail/asio/completion.hpp>
#include <boost/duplex/detail/zmq/socket.hpp>
#include <boost/duplex/detail/zmq/wire.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/zmq_options.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace boost::duplex::detail::zmq_io {

// The serving side: a ROUTER socket whose requests go through `local`, a
// client of an ordinary in-process channel, with the time that remained
// when they were sent, their priority and their flow. Everything runs on a
// strand of the local client's executor.
template <class Request, class Response, class Storage, class Codec, class Handler>
class serve_op final : public std::enable_shared_from_this<serve_op<Request, Response, Storage, Codec, Handler>> {
    using clock = std::chrono::steady_clock;
    using local_client = asio_client<Request, Response, Storage>;

    struct remote_peer;

    struct entry {
        std::uint64_t id;
        net::cancellation_signal signal;  // the local request's cancellation slot
    };

    // A client process (a routing id) with requests in flight here.
    struct remote_peer {
        std::string routing_id;
        clock::time_point last_heard;
        std::unordered_map<std::uint64_t, std::unique_ptr<entry>> entries;
        bool lost = false;
    };

    enum class state { serving, draining, aborting, done };

public:
    serve_op(local_client local, zmq_serve_options opts, Handler&& h)
        : local_(std::move(local))
        , strand_(net::make_strand(local_.get_executor()))
        , opts_(std::move(opts))
        , context_(opts_.context ? opts_.context : shared_context())
        , timer_(strand_)
        , h_(std::move(h), local_.get_executor())
    {
    }

    void start(const std::string& endpoint)
    {
        std::string bound;
        try {
            ws_ = std::make_unique<watched_socket>(*context_, ZMQ_ROUTER, strand_);
            auto& s = ws_->socket();
            s.set(::zmq::sockopt::router_mandatory, 1);  // a reply for a peer gone fails, not vanishes
            s.set(::zmq::sockopt::sndhwm, opts_.send_high_water_mark);
            s.set(::zmq::sockopt::rcvhwm, opts_.receive_high_water_mark);
            s.bind(endpoint);
            bound = s.get(::zmq::sockopt::last_endpoint);
        } catch (const ::zmq::error_t& e) {
            ws_.reset();
            state_ = state::done;
            std::move(h_).post(result<void>(boost::system::error_code(e.num(), boost::system::generic_category())));
            return;
        } catch (const boost::system::system_error& e) {
            ws_.reset();
            state_ = state::done;
            std::move(h_).post(result<void>(e.code()));
            return;
        }
        auto& slot = h_.slot();
        if (slot.is_connected())
            slot.template emplace<canceller>(this->weak_from_this());
        if (opts_.on_listening)
            opts_.on_listening(bound);
        net::post(strand_, [self = this->shared_from_this()] { self->service(); });
    }

private:
    struct canceller {
        explicit canceller(std::weak_ptr<serve_op> p) noexcept : op(std::move(p)) {}
        std::weak_ptr<serve_op> op;
        void operator()(net::cancellation_type_t type)
        {
            if (auto p = op.lock())
                net::post(p->strand_, [p, type] { p->stop(type); });
        }
    };

    void service()
    {
        if (state_ == state::done)
            return;
        ws_->arm(net::bind_executor(strand_, [self = this->shared_from_this()](boost::system::error_code) {
            if (self->state_ == state::done)
                return;
            self->ws_->waited();
            self->service();
        }));
        const auto now = clock::now();
        int err = 0;
        in_service_ = true;
        struct leave {
            bool& flag;
            ~leave() { flag = false; }
        } guard{in_service_};
        // Until ZMQ_EVENTS shows nothing to read after the last send: a send
        // (a reply, a pong) processes the socket's commands and may swallow
        // the descriptor's signal of a request that arrived meanwhile.
        flush();
        while (state_ != state::done && (ws_->events() & ZMQ_POLLIN)) {
            for (;;) {
                frame id;
                if ((err = receive(ws_->handle(), id)) != 0)
                    break;
                frame body;
                if (id.more() && (err = receive(ws_->handle(), body)) != 0)
                    break;
                while (body.more()) {  // not ours: frames beyond the envelope are dropped
                    frame extra;
                    if ((err = receive(ws_->handle(), extra)) != 0)
                        break;
                    if (!extra.more())
                        break;
                }
                on_message(id, body, now);
                if (state_ == state::done)
                    return;
            }
            if (err != EAGAIN && err != EINTR)
                return fail(boost::system::error_code(err, boost::system::generic_category()));
            flush();
        }
        // Replies kept for lack of room: the last ZMQ_EVENTS may have been
        // what told of room (its signal is gone), so ask again.
        while (ws_ && !unsent_.empty() && (ws_->events() & ZMQ_POLLOUT) && flush()) {
        }
        arm_timer(now);
    }

    void on_message(frame& id, frame& body, clock::time_point now)
    {
        const auto bytes = body.bytes();
        const auto k = zmq_wire::kind_of(bytes);
        if (!k)
            return;  // not ours, or not readable: nothing to answer it with
        std::string rid(reinterpret_cast<const char*>(id.data()), id.size());
        auto pit = peers_.find(rid);
        remote_peer* peer = pit == peers_.end() ? nullptr : pit->second.get();
        if (peer) {
            peer->last_heard = now;
            peer->lost = false;
        }
        switch (*k) {
        case zmq_wire::kind::ping: {
            unsigned char pong[zmq_wire::ping_size];
            zmq_wire::put_start(pong, zmq_wire::kind::pong);
            send_to(rid, pong, sizeof pong);
            return;
        }
        case zmq_wire::kind::cancel: {
            if (!peer)
                return;
            auto e = peer->entries.find(zmq_wire::get_u64(bytes.data() + 2));
            if (e != peer->entries.end())
                e->second->signal.emit(static_cast<net::cancellation_type_t>(bytes[10]));
            return;
        }
        case zmq_wire::kind::request:
            break;
        default:
            return;
        }
        const auto env = zmq_wire::read_request(bytes.data());
        if (state_ != state::serving)
            return reply_error(rid, env.id, make_error_code(error::closed));
        if (in_flight_ >= opts_.max_in_flight)
            return reply_error(rid, env.id, make_error_code(error::queue_full));
        auto req = codec_.template decode<Request>(bytes.subspan(zmq_wire::request_header_size(env.flow)));
        if (!req)
            return reply_error(rid, env.id, req.error());
        if (!peer) {
            auto p = std::make_unique<remote_peer>();
            p->routing_id = rid;
            p->last_heard = now;
            peer = p.get();
            peers_.emplace(std::move(rid), std::move(p));
        }
        auto [it, fresh] = peer->entries.try_emplace(env.id);
        if (!fresh)
            return;  // the same id twice from one client: the first stands
        if (spare_.empty()) {
            it->second = std::make_unique<entry>();
        } else {  // with its cancellation signal's handler memory, reused too
            it->second = std::move(spare_.back());
            spare_.pop_back();
        }
        entry* e = it->second.get();
        e->id = env.id;
        ++in_flight_;
        local_.with_priority(env.prio)
            .with_flow(env.flow)
            .async_request(std::move(req).value(), zmq_wire::decode_remaining(env.remaining_ns),
                           net::bind_cancellation_slot(
                               e->signal.slot(),
                               net::bind_executor(strand_, [self = this->shared_from_this(), peer, e](result<Response> r) {
                                   self->answered(peer, e, std::move(r));
                               })));
    }

    void answered(remote_peer* peer, entry* e, result<Response> r)
    {
        if (!peer->lost) {
            if (state_ == state::aborting)
                reply_error(peer->routing_id, e->id, make_error_code(error::closed));
            else if (r)
                reply_value(peer->routing_id, e->id, r.value());
            else
                reply_error(peer->routing_id, e->id, r.error());
        }
        // The peer stays (the timer forgets it once idle for peer_timeout):
        // a client that sends one request at a time would otherwise be
        // made anew for each.
        auto it = peer->entries.find(e->id);
        if (spare_.size() < 1024)
            spare_.push_back(std::move(it->second));
        peer->entries.erase(it);
        --in_flight_;
        if (state_ != state::serving && state_ != state::done && in_flight_ == 0)
            finish(state_ == state::aborting ? make_error_code(error::cancelled) : boost::system::error_code());
        else if (!in_service_ && !service_posted_) {
            // The reply was a send: ZMQ_EVENTS must be read again (see
            // service()). Once for a burst of replies, not for each: reading
            // it costs system calls.
            service_posted_ = true;
            net::post(strand_, [self = this->shared_from_this()] {
                self->service_posted_ = false;
                self->service();
            });
        }
    }

    void reply_value(const std::string& rid, std::uint64_t id, const Response& v)
    {
        auto& buf = scratch();
        buf.resize(zmq_wire::reply_header);
        write_reply_start(buf, id, 0);
        codec_.encode(v, buf);
        send_to(rid, buf.data(), buf.size());
    }

    void reply_error(const std::string& rid, std::uint64_t id, boost::system::error_code ec)
    {
        auto& buf = scratch();
        buf.resize(zmq_wire::reply_header);
        write_reply_start(buf, id, 1);
        zmq_wire::write_error(buf, ec);
        send_to(rid, buf.data(), buf.size());
    }

    static void write_reply_start(std::vector<unsigned char>& buf, std::uint64_t id, unsigned char status)
    {
        zmq_wire::put_start(buf.data(), zmq_wire::kind::reply);
        zmq_wire::put_u64(buf.data() + 2, id);
        buf[10] = status;
    }

    static std::vector<unsigned char>& scratch()
    {
        thread_local std::vector<unsigned char> buf;
        return buf;
    }

    // Sends, or keeps it for later if the peer's queue is full (in order,
    // per peer: one slow client holds up only its own replies); a peer that
    // is gone (EHOSTUNREACH: ZMQ_ROUTER_MANDATORY) gets nothing.
    void send_to(const std::string& rid, const unsigned char* p, std::size_t n)
    {
        if (!ws_)
            return;
        auto it = unsent_.find(rid);
        if (it == unsent_.end()) {
            const int err = send_frames(rid, p, n);
            if (err != EAGAIN)
                return;
            it = unsent_.try_emplace(rid).first;
        }
        it->second.emplace_back(p, p + n);
    }

    int send_frames(const std::string& rid, const unsigned char* p, std::size_t n) noexcept
    {
        const int err = send_bytes(ws_->handle(), rid.data(), rid.size(), true);
        if (err == 0)
            (void)send_bytes(ws_->handle(), p, n);  // the routing frame went: so does the rest
        return err;
    }

    // Sends what was kept; whether anything went (or was dropped).
    bool flush()
    {
        bool moved = false;
        for (auto it = unsent_.begin(); ws_ && it != unsent_.end();) {
            auto& queue = it->second;
            while (!queue.empty()) {
                const int err = send_frames(it->first, queue.front().data(), queue.front().size());
                if (err == EAGAIN)
                    break;
                queue.pop_front();
                moved = true;
                if (err != 0) {  // gone: nothing more reaches it
                    queue.clear();
                    break;
                }
            }
            it = queue.empty() ? unsent_.erase(it) : std::next(it);
        }
        return moved;
    }

    // Withdraws the requests of clients not heard from within peer_timeout.
    void on_timer()
    {
        const auto now = clock::now();
        withdraw([&](remote_peer& p) {
            if (p.lost || p.entries.empty() || now - p.last_heard < opts_.peer_timeout)
                return false;
            p.lost = true;
            return true;
        });
        std::erase_if(peers_, [&](const auto& kv) {
            return kv.second->entries.empty() && now - kv.second->last_heard >= opts_.peer_timeout;
        });
        arm_timer(now);
    }

    void arm_timer(clock::time_point now)
    {
        if (peers_.empty() || timer_armed_ || state_ == state::done)
            return;
        timer_armed_ = true;
        auto tick = opts_.peer_timeout / 4;
        if (tick <= clock::duration::zero())
            tick = std::chrono::milliseconds(1);
        timer_.expires_at(now + tick);
        timer_.async_wait(net::bind_executor(strand_, [self = this->shared_from_this()](boost::system::error_code) {
            self->timer_armed_ = false;
            if (self->state_ != state::done)
                self->on_timer();
        }));
    }

    // A terminal cancellation of the local requests of every peer that
    // `pick` selects. Found again by key before each emit: whether a
    // cancellation completes its request at once is the local channel's
    // business, and a completion erases the entry (and maybe its peer).
    template <class Pick>
    void withdraw(Pick pick)
    {
        std::vector<std::pair<std::string, std::uint64_t>> keys;
        for (auto& [rid, p] : peers_)
            if (pick(*p))
                for (auto& [id, e] : p->entries)
                    keys.emplace_back(rid, id);
        for (auto& [rid, id] : keys) {
            auto p = peers_.find(rid);
            if (p == peers_.end())
                continue;
            auto e = p->second->entries.find(id);
            if (e != p->second->entries.end())
                e->second->signal.emit(net::cancellation_type::terminal);
        }
    }

    void stop(net::cancellation_type_t type)
    {
        if (state_ == state::done || state_ == state::aborting)
            return;
        if ((type & net::cancellation_type::terminal) != net::cancellation_type::none) {
            state_ = state::aborting;
            withdraw([](remote_peer&) { return true; });
        } else {
            state_ = state::draining;
        }
        if (in_flight_ == 0)
            finish(state_ == state::aborting ? make_error_code(error::cancelled) : boost::system::error_code());
    }

    void fail(boost::system::error_code ec)
    {
        state_ = state::aborting;
        withdraw([](remote_peer&) { return true; });
        fatal_ = ec;
        if (in_flight_ == 0)
            finish(ec);
    }

    void finish(boost::system::error_code ec)
    {
        if (state_ == state::done)
            return;
        state_ = state::done;
        if (fatal_)
            ec = fatal_;
        flush();
        timer_.cancel();
        if (ws_) {
            // Replies already handed to ZeroMQ still go out while the context lives.
            ws_->socket().set(::zmq::sockopt::linger, 1000);
            ws_.reset();
        }
        auto keep = this->shared_from_this();
        if (ec)
            std::move(h_).post(result<void>(ec));
        else
            std::move(h_).post(result<void>(outcome_v2::success()));
    }

    local_client local_;
    net::strand<net::any_io_executor> strand_;
    zmq_serve_options opts_;
    std::shared_ptr<::zmq::context_t> context_;
    Codec codec_;
    std::unique_ptr<watched_socket> ws_;
    net::steady_timer timer_;
    bool timer_armed_ = false;
    bool in_service_ = false;
    bool service_posted_ = false;  // service() is on the stack: it reads ZMQ_EVENTS again before it ends
    std::unordered_map<std::string, std::unique_ptr<remote_peer>> peers_;
    std::vector<std::unique_ptr<entry>> spare_;  // entries of answered requests, for the next ones
    std::unordered_map<std::string, std::deque<std::vector<unsigned char>>> unsent_;
    std::size_t in_flight_ = 0;
    state state_ = state::serving;
    boost::system::error_code fatal_;
    asio::handler_holder<Handler, net::any_io_executor> h_;
};

}  // namespace boost::duplex::detail::zmq_io

#endif
