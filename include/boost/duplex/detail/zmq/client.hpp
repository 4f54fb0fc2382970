//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_ZMQ_CLIENT_HPP
#define BOOST_DUPLEX_DETAIL_ZMQ_CLIENT_HPP

#include <boost/duplex/detail/asio/completion.hpp>
#include <boost/duplex/detail/core/channel_core.hpp>
#include <boost/duplex/detail/core/hook.hpp>
#include <boost/duplex/detail/zmq/socket.hpp>
#include <boost/duplex/detail/zmq/wire.hpp>
#include <boost/duplex/error.hpp>
#include <boost/duplex/zmq_options.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/intrusive/list.hpp>
#include <boost/intrusive/set.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/system_error.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace boost::duplex::detail::zmq_io {

namespace bi = boost::intrusive;
using clock = std::chrono::steady_clock;

// A remote request from its call to its completion. Owned by the client's
// state (client_state) from submission; `call(&r)` completes it with r and
// frees it, `call(nullptr)` frees it unrun (the io_context went away).
template <class Response>
struct remote_op : hook<result<Response>*> {
    template <auto Member>
    explicit remote_op(hook_to_t<Member> h) noexcept : hook<result<Response>*>(h)
    {
    }

    bi::set_member_hook<> by_id;
    bi::set_member_hook<> by_deadline;
    bi::list_member_hook<> link;  // incoming, backlog, or the list of the peer it was sent to
    frame msg;                    // envelope space, then the payload
    std::uint64_t id = 0;
    clock::time_point deadline = clock::time_point::max();
    request_class cls;
    int peer = -1;  // where it was sent; -1: not sent yet
};

template <class Response>
struct op_id {
    using type = std::uint64_t;
    type operator()(const remote_op<Response>& o) const noexcept { return o.id; }
};

template <class Response>
struct op_deadline {
    using type = clock::time_point;
    type operator()(const remote_op<Response>& o) const noexcept { return o.deadline; }
};

// What a remote client's copies share: the sockets (one DEALER per endpoint,
// so that the client knows which serving process holds which request, and
// can close exactly those when that process is lost), the pending requests
// and the timer. Everything but submit() and cancel() runs on the strand.
template <class Response, class Codec>
class client_state : public std::enable_shared_from_this<client_state<Response, Codec>> {
public:
    using op = remote_op<Response>;

    client_state(const net::any_io_executor& ex, const zmq_client_options& opts)
        : executor_(ex)
        , strand_(net::make_strand(ex))
        , context_(opts.context ? opts.context : shared_context())
        , opts_(opts)
        , heartbeat_(opts.heartbeat_interval > clock::duration::zero() ? opts.heartbeat_interval : opts.peer_timeout / 4)
        , timer_(strand_)
    {
        if (heartbeat_ <= clock::duration::zero())
            heartbeat_ = std::chrono::milliseconds(1);
    }

    client_state(const client_state&) = delete;
    client_state& operator=(const client_state&) = delete;

    ~client_state()
    {
        // Only an io_context destroyed with requests pending gets here with
        // any: their handlers are destroyed unrun, as Asio does with its own.
        auto drop = [](op* o) { o->call(nullptr); };
        deadlines_.clear();
        backlog_.clear();
        for (auto& p : peers_)
            p->ops.clear();
        ops_.clear_and_dispose(drop);
        incoming_.clear_and_dispose(drop);
    }

    // Connects to every endpoint; the error of the first that fails.
    boost::system::error_code connect(const std::vector<std::string>& endpoints)
    {
        if (endpoints.empty())
            return make_error_code(error::invalid_argument);
        try {
            for (const auto& e : endpoints) {
                auto p = std::make_unique<peer>(*context_, strand_);
                auto& s = p->ws.socket();
                s.set(::zmq::sockopt::immediate, 1);  // queue only on live connections: see send_op
                s.set(::zmq::sockopt::sndhwm, opts_.send_high_water_mark);
                // Before connecting, so that no event is missed.
                static std::atomic<std::uint64_t> monitors{0};
                const std::string address = "inproc://boost.duplex.monitor." + std::to_string(monitors++);
                if (zmq_socket_monitor(s.handle(), address.c_str(), ZMQ_EVENT_DISCONNECTED) != 0)
                    throw ::zmq::error_t();
                p->monitor = std::make_unique<::zmq::socket_t>(*context_, ZMQ_PAIR);
                p->monitor->set(::zmq::sockopt::linger, 0);
                p->monitor->connect(address);
                s.connect(e);
                peers_.push_back(std::move(p));
            }
        } catch (const ::zmq::error_t& e) {
            return {e.num(), boost::system::generic_category()};
        } catch (const boost::system::system_error& e) {
            return e.code();
        }
        return {};
    }

    const net::any_io_executor& executor() const noexcept { return executor_; }
    const zmq_client_options& options() const noexcept { return opts_; }
    const Codec& codec() const noexcept { return codec_; }
    std::uint64_t next_id() noexcept { return next_id_.fetch_add(1, std::memory_order_relaxed); }

    // From any thread: hands a new request to the strand.
    void submit(op& o)
    {
        bool post_drain;
        {
            std::lock_guard lock(mutex_);
            incoming_.push_back(o);
            post_drain = !drain_posted_;
            drain_posted_ = true;
        }
        if (post_drain)
            net::post(strand_, [self = this->shared_from_this()] { self->drain(); });
    }

    // From any thread (a cancellation slot's handler).
    void cancel(std::uint64_t id, net::cancellation_type_t type)
    {
        net::post(strand_, [self = this->shared_from_this(), id, type] { self->cancel_on_strand(id, type); });
    }

private:
    struct peer {
        peer(::zmq::context_t& ctx, const net::any_io_executor& ex) : ws(ctx, ZMQ_DEALER, ex) {}
        peer(const peer&) = delete;
        peer& operator=(const peer&) = delete;
        ~peer()
        {
            // Monitoring stops before its socket closes (libzmq's order:
            // the other way round can leave its I/O thread stuck).
            if (monitor) {
                zmq_socket_monitor(ws.handle(), nullptr, 0);
                monitor.reset();
            }
        }

        watched_socket ws;
        // ZeroMQ's monitor of ws: tells when the connection drops (the
        // process was killed, or the network cut), so that what it held
        // is closed at the next heartbeat tick rather than at the peer-loss
        // bound, and before a restarted process on the same endpoint is
        // heard from (which would otherwise vouch for requests the killed
        // one took with it). Read, not watched: see read_monitor().
        // Destroyed first (declared after ws).
        std::unique_ptr<::zmq::socket_t> monitor;
        bi::list<op, bi::member_hook<op, bi::list_member_hook<>, &op::link>> ops;  // sent here, pending
        clock::time_point last_heard{};
        clock::time_point last_ping{};
        bool lost = false;  // timed out; until heard from again, only pinged
    };

    using id_set = bi::set<op, bi::member_hook<op, bi::set_member_hook<>, &op::by_id>, bi::key_of_value<op_id<Response>>>;
    using deadline_set = bi::multiset<op, bi::member_hook<op, bi::set_member_hook<>, &op::by_deadline>,
                                      bi::key_of_value<op_deadline<Response>>>;
    using op_list = bi::list<op, bi::member_hook<op, bi::list_member_hook<>, &op::link>>;

    bool active() const noexcept { return !ops_.empty(); }

    void drain()
    {
        op_list batch;
        {
            std::lock_guard lock(mutex_);
            batch.swap(incoming_);
            drain_posted_ = false;
        }
        if (batch.empty())
            return;
        const auto now = clock::now();
        if (!active())  // a drop seen while idle concerns no request: forget it before sending
            for (std::size_t i = 0; i < peers_.size(); ++i)
                read_monitor(i);
        while (!batch.empty()) {
            op& o = batch.front();
            batch.pop_front();
            ops_.insert_unique(o);
            if (o.deadline != clock::time_point::max())
                deadlines_.insert(o);
            if (o.deadline <= now) {
                finish(o, make_error_code(error::timeout));
                continue;
            }
            if (backlog_.empty() && send_op(o, now))
                continue;
            if (opts_.on_full == overflow::reject)
                finish(o, make_error_code(error::queue_full));
            else
                backlog_.push_back(o);
        }
        service_all(now);
    }

    // Sends o to the least loaded serving process that can take it now
    // (ZMQ_IMMEDIATE: only live connections take messages, so that nothing
    // is left queued for a process that is not there). false: none can.
    bool send_op(op& o, clock::time_point now)
    {
        const std::size_t n = peers_.size();
        std::uint32_t tried = 0;  // bit per peer (the first 32; more are tried in order)
        for (std::size_t attempt = 0; attempt < n; ++attempt) {
            std::size_t best = n;
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t k = (rotor_ + i) % n;
                if (k < 32 && (tried >> k) & 1u)
                    continue;
                if (best == n || better(*peers_[k], *peers_[best]))
                    best = k;
            }
            if (best == n)
                break;
            if (best < 32)
                tried |= 1u << best;
            peer& p = *peers_[best];
            zmq_wire::write_request(o.msg.data(),
                                    {o.id, zmq_wire::encode_remaining(o.deadline == clock::time_point::max()
                                                                          ? clock::duration::max()
                                                                          : o.deadline - now),
                                     o.cls.prio, o.cls.flow});
            const int err = send(p.ws.handle(), o.msg);
            if (err == 0) {
                if (p.ops.empty()) {
                    // The peer's liveness is judged from now on.
                    p.last_heard = std::max(p.last_heard, now);
                    p.last_ping = now;
                }
                p.ops.push_back(o);
                o.peer = static_cast<int>(best);
                rotor_ = (best + 1) % n;
                return true;
            }
            if (err != EAGAIN)
                break;
            if (best >= 32)  // cannot mark it tried: give up rather than loop
                break;
        }
        return false;
    }

    static bool better(const peer& a, const peer& b) noexcept
    {
        if (a.lost != b.lost)
            return !a.lost;
        return a.ops.size() < b.ops.size();
    }

    // Reads and handles every message waiting on every socket, and keeps the
    // descriptors watched while requests are pending.
    //
    // Sends come before the reads that end this: a send processes the
    // socket's commands, and may swallow the descriptor's signal of a
    // message that arrived, which only ZMQ_EVENTS then tells of. And a read
    // may tell that there is room again, so requests waiting for it are
    // sent, and so on, until nothing moves.
    void service_all(clock::time_point now)
    {
        for (int stuck = 0;;) {
            const std::size_t waiting = backlog_.size();
            retry_backlog(now);
            for (std::size_t i = 0; i < peers_.size(); ++i)
                service(i, now);
            // A read may have been what told of room (its signal is gone):
            // ask, rather than wait for an edge that will not come.
            if (backlog_.empty() || !any_writable())
                break;
            if (backlog_.size() == waiting && ++stuck > 2)
                break;  // writable, yet nothing goes: an error, not a lack of room
        }
        arm_timer(now);
    }

    bool any_writable() noexcept
    {
        for (auto& p : peers_)
            if (p->ws.events() & ZMQ_POLLOUT)
                return true;
        return false;
    }

    void service(std::size_t index, clock::time_point now)
    {
        peer& p = *peers_[index];
        if (active())
            p.ws.arm(net::bind_executor(strand_, [self = this->shared_from_this(), index](boost::system::error_code ec) {
                self->peers_[index]->ws.waited();
                if (ec == net::error::operation_aborted && !self->active())
                    return;
                self->service_all(clock::now());
            }));
        while (p.ws.events() & ZMQ_POLLIN) {
            frame m;
            while (receive(p.ws.handle(), m) == 0) {
                on_message(index, m, now);
                // The same frame object is reused: zmq_msg_recv closes what it held.
            }
        }
    }

    // Reads the monitor's events (each two frames: event and value, then
    // the endpoint) without waiting; on a dropped connection, closes what
    // was sent on it. Called from the heartbeat tick, which runs while
    // anything is pending: a second descriptor per connection for Asio to
    // watch (edge-triggered too) is not worth a faster answer than that.
    void read_monitor(std::size_t index)
    {
        peer& p = *peers_[index];
        bool dropped = false;
        for (;;) {
            frame event, where;
            if (receive(p.monitor->handle(), event) != 0)
                break;
            if (event.more())
                (void)receive(p.monitor->handle(), where);
            if (event.size() >= 2 && zmq_wire::get_le<std::uint16_t>(event.data()) == ZMQ_EVENT_DISCONNECTED)
                dropped = true;
        }
        if (dropped)
            // What was sent on that connection will not be answered: ZeroMQ
            // dropped its queue with it. (A request sent on the next
            // connection before this event was read is closed too: it may
            // be handled there, and its answer is then dropped.)
            while (!p.ops.empty())
                finish(p.ops.front(), make_error_code(error::closed));
    }

    void on_message(std::size_t index, frame& m, clock::time_point now)
    {
        peer& p = *peers_[index];
        const auto bytes = m.bytes();
        const auto k = zmq_wire::kind_of(bytes);
        if (!k)
            return;  // not ours: nothing to attribute it to
        p.last_heard = now;
        p.lost = false;
        if (*k != zmq_wire::kind::reply)
            return;  // a pong: being heard was the point
        const std::uint64_t id = zmq_wire::get_u64(bytes.data() + 2);
        auto it = ops_.find(id);
        if (it == ops_.end() || it->peer != static_cast<int>(index))
            return;  // late (it timed out or was cancelled), or not this process's to answer
        op& o = *it;
        const auto tail = bytes.subspan(zmq_wire::reply_header);
        if (bytes[10] == 0) {
            auto r = codec_.template decode<Response>(tail);
            finish(o, std::move(r));
        } else {
            finish(o, zmq_wire::error_from_wire(tail));
        }
    }

    void retry_backlog(clock::time_point now)
    {
        while (!backlog_.empty()) {
            op& o = backlog_.front();
            backlog_.pop_front();
            if (!send_op(o, now)) {
                backlog_.push_front(o);
                return;
            }
        }
    }

    void cancel_on_strand(std::uint64_t id, net::cancellation_type_t type)
    {
        drain();  // it may still be in the incoming list
        auto it = ops_.find(id);
        if (it == ops_.end())
            return;
        op& o = *it;
        const bool terminal = (type & net::cancellation_type::terminal) != net::cancellation_type::none;
        if (o.peer < 0) {  // waiting for room here: any type withdraws it
            finish(o, make_error_code(error::cancelled));
        } else if (terminal) {
            send_cancel(o, net::cancellation_type::terminal);
            finish(o, make_error_code(error::cancelled));
        } else {
            // Only the serving side knows whether it is still queued there;
            // its answer (cancelled, or the response) completes it.
            send_cancel(o, type);
        }
        service_all(clock::now());
    }

    void send_cancel(op& o, net::cancellation_type_t type)
    {
        unsigned char buf[zmq_wire::cancel_size];
        zmq_wire::put_start(buf, zmq_wire::kind::cancel);
        zmq_wire::put_u64(buf + 2, o.id);
        buf[10] = static_cast<unsigned char>(type);
        // Best effort: if it cannot be sent, the serving side's deadline
        // (the same as this one) still ends the request there.
        (void)send_bytes(peers_[static_cast<std::size_t>(o.peer)]->ws.handle(), buf, sizeof buf);
    }

    void send_ping(peer& p, clock::time_point now)
    {
        unsigned char buf[zmq_wire::ping_size];
        zmq_wire::put_start(buf, zmq_wire::kind::ping);
        (void)send_bytes(p.ws.handle(), buf, sizeof buf);
        p.last_ping = now;
    }

    void finish(op& o, result<Response> r)
    {
        ops_.erase(ops_.iterator_to(o));
        if (o.deadline != clock::time_point::max())
            deadlines_.erase(deadlines_.iterator_to(o));
        if (o.link.is_linked()) {
            if (o.peer >= 0)
                peers_[static_cast<std::size_t>(o.peer)]->ops.erase(op_list::s_iterator_to(o));
            else
                backlog_.erase(backlog_.iterator_to(o));
        }
        o.call(&r);
        if (!active() && !idle_check_posted_) {
            // Not at once: a caller that makes its next request from the
            // completion handler just posted would find the timer and the
            // socket waits to be started again, a system call or two per
            // request. This check runs after that handler.
            idle_check_posted_ = true;
            net::post(strand_, [self = this->shared_from_this()] {
                self->idle_check_posted_ = false;
                if (!self->active() && !self->has_incoming())
                    self->go_idle();
            });
        }
    }

    bool has_incoming()
    {
        std::lock_guard lock(mutex_);
        return !incoming_.empty();
    }

    // Nothing pending: nothing may keep the io_context's run() going, as
    // with an asio_client that has nothing pending.
    void go_idle()
    {
        if (armed_ != clock::time_point::max()) {
            armed_ = clock::time_point::max();
            timer_.cancel();
        }
        for (auto& p : peers_)
            if (p->ws.waiting())
                p->ws.cancel();
    }

    void on_timer()
    {
        const auto now = clock::now();
        // Deadlines first: a request past its deadline ends with timeout.
        // The serving side needs no word of it: it was given the time that
        // remained, so its own deadline ends the request there as well.
        while (!deadlines_.empty() && deadlines_.begin()->deadline <= now)
            finish(*deadlines_.begin(), make_error_code(error::timeout));
        for (std::size_t i = 0; i < peers_.size(); ++i)
            read_monitor(i);
        for (auto& pp : peers_) {
            peer& p = *pp;
            if (!p.ops.empty() && now - p.last_heard >= opts_.peer_timeout) {
                // Lost: what it holds will not be answered.
                p.lost = true;
                while (!p.ops.empty())
                    finish(p.ops.front(), make_error_code(error::closed));
            }
        }
        for (auto& pp : peers_) {
            peer& p = *pp;
            if ((!p.ops.empty() || (p.lost && active())) && now - p.last_ping >= heartbeat_)
                send_ping(p, now);
        }
        service_all(now);
    }

    void arm_timer(clock::time_point now)
    {
        if (!active())
            return;
        auto due = deadlines_.empty() ? clock::time_point::max() : deadlines_.begin()->deadline;
        for (auto& pp : peers_) {
            peer& p = *pp;
            if (!p.ops.empty()) {
                due = std::min(due, p.last_ping + heartbeat_);
                due = std::min(due, p.last_heard + opts_.peer_timeout);
            } else if (p.lost) {
                due = std::min(due, p.last_ping + heartbeat_);
            }
        }
        if (due >= armed_)
            return;
        (void)now;
        armed_ = due;
        timer_.expires_at(due);
        timer_.async_wait(net::bind_executor(strand_, [self = this->shared_from_this(), due](boost::system::error_code) {
            if (self->armed_ != due)
                return;  // re-armed (or idle) since: that wait is the one that counts
            self->armed_ = clock::time_point::max();
            self->on_timer();
        }));
    }

    net::any_io_executor executor_;
    net::strand<net::any_io_executor> strand_;
    std::shared_ptr<::zmq::context_t> context_;
    zmq_client_options opts_;
    clock::duration heartbeat_;
    Codec codec_;
    std::vector<std::unique_ptr<peer>> peers_;
    id_set ops_;
    deadline_set deadlines_;
    op_list backlog_;
    net::steady_timer timer_;
    clock::time_point armed_ = clock::time_point::max();
    std::size_t rotor_ = 0;
    bool idle_check_posted_ = false;
    std::atomic<std::uint64_t> next_id_{1};

    std::mutex mutex_;
    op_list incoming_;
    bool drain_posted_ = false;
};

// The cancellation slot's handler of a remote request: it may outlive both
// the request and the client's state, so it holds neither.
template <class State>
class remote_canceller {
public:
    remote_canceller(std::weak_ptr<State> s, std::uint64_t id) noexcept : state_(std::move(s)), id_(id) {}
    void operator()(net::cancellation_type_t type)
    {
        if (auto s = state_.lock())
            s->cancel(id_, type);
    }

private:
    std::weak_ptr<State> state_;
    std::uint64_t id_;
};

// A remote request with its completion handler, allocated with the
// handler's allocator.
template <class Response, class Handler>
class remote_request_op final : public remote_op<Response> {
    using holder_type = asio::handler_holder<Handler, net::any_io_executor>;
    using alloc_type = asio::rebound_allocator_t<Handler, remote_request_op>;

public:
    remote_request_op(Handler&& h, const net::any_io_executor& ex)
        : remote_op<Response>(hook_to<&remote_request_op::complete>)
        , h_(std::move(h), ex)
    {
    }

    static remote_request_op* make(Handler&& h, const net::any_io_executor& ex)
    {
        alloc_type alloc(asio::handler_allocator(h));
        remote_request_op* p = std::allocator_traits<alloc_type>::allocate(alloc, 1);
        try {
            std::allocator_traits<alloc_type>::construct(alloc, p, std::move(h), ex);
        } catch (...) {
            std::allocator_traits<alloc_type>::deallocate(alloc, p, 1);
            throw;
        }
        return p;
    }

    // Frees an operation that was never submitted (its encoding threw).
    void discard() noexcept { complete(nullptr); }

    net::associated_cancellation_slot_t<Handler>& slot() noexcept { return h_.slot(); }

private:
    void complete(result<Response>* r) noexcept
    {
        alloc_type alloc(asio::handler_allocator(h_.handler()));
        holder_type h(std::move(h_));
        std::allocator_traits<alloc_type>::destroy(alloc, this);
        std::allocator_traits<alloc_type>::deallocate(alloc, this, 1);
        if (r)
            std::move(h).post(std::move(*r));
    }

    holder_type h_;
};

}  // namespace boost::duplex::detail::zmq_io

#endif
