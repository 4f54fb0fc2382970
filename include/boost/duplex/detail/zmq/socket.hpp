//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_ZMQ_SOCKET_HPP
#define BOOST_DUPLEX_DETAIL_ZMQ_SOCKET_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <zmq.h>
#include <zmq.hpp>

#include <cerrno>
#include <cstddef>
#include <memory>
#include <span>
#include <utility>

namespace boost::duplex::detail::zmq_io {

namespace net = boost::asio;

// The process's shared context, for clients and serving sides given none.
// Never destroyed: zmq_ctx_term blocks until every socket is closed, which a
// static destructor cannot promise (a client may outlive main in a detached
// thread); the I/O thread ends with the process.
inline std::shared_ptr<::zmq::context_t> shared_context()
{
    static auto* ctx = new std::shared_ptr<::zmq::context_t>(std::make_shared<::zmq::context_t>(1));
    return *ctx;
}

// A message frame owned here (zmq_msg_t with RAII).
class frame {
public:
    frame() noexcept { zmq_msg_init(&m_); }
    explicit frame(std::size_t size)
    {
        if (zmq_msg_init_size(&m_, size) != 0)
            throw std::bad_alloc();
    }
    frame(const frame&) = delete;
    frame& operator=(const frame&) = delete;
    ~frame() { zmq_msg_close(&m_); }

    zmq_msg_t* get() noexcept { return &m_; }
    unsigned char* data() noexcept { return static_cast<unsigned char*>(zmq_msg_data(&m_)); }
    std::size_t size() noexcept { return zmq_msg_size(&m_); }
    std::span<const unsigned char> bytes() noexcept { return {data(), size()}; }
    bool more() noexcept { return zmq_msg_more(&m_) != 0; }

private:
    zmq_msg_t m_;
};

// A ZeroMQ socket whose ZMQ_FD Asio watches. That descriptor only says that
// the socket's state may have changed, and only on an edge: so the wait is
// always started before ZMQ_EVENTS is read, and ZMQ_EVENTS is read after
// anything that touched the socket (a send may have swallowed the signal of
// a message that arrived meanwhile) until it shows nothing to read.
class watched_socket {
public:
    watched_socket(::zmq::context_t& ctx, int type, const net::any_io_executor& ex)
        : sock_(ctx, type)
        , fd_(ex)
    {
        sock_.set(::zmq::sockopt::linger, 0);
        fd_.assign(sock_.get(::zmq::sockopt::fd));
    }

    watched_socket(const watched_socket&) = delete;
    watched_socket& operator=(const watched_socket&) = delete;

    ~watched_socket()
    {
        // The descriptor is ZeroMQ's: Asio must forget it, not close it.
        boost::system::error_code ignored;
        fd_.cancel(ignored);
        (void)fd_.release();
    }

    ::zmq::socket_t& socket() noexcept { return sock_; }
    void* handle() noexcept { return sock_.handle(); }

    // ZMQ_EVENTS; 0 when the socket is in error.
    int events() noexcept
    {
        int ev = 0;
        std::size_t len = sizeof(ev);
        if (zmq_getsockopt(sock_.handle(), ZMQ_EVENTS, &ev, &len) != 0)
            return 0;
        return ev;
    }

    bool waiting() const noexcept { return waiting_; }

    // Starts the wait for the descriptor's next edge, unless one is pending.
    template <class Handler>
    void arm(Handler&& h)
    {
        if (waiting_)
            return;
        waiting_ = true;
        fd_.async_wait(net::posix::stream_descriptor::wait_read, std::forward<Handler>(h));
    }

    // Called first by the wait's handler.
    void waited() noexcept { waiting_ = false; }

    void cancel() noexcept
    {
        boost::system::error_code ignored;
        fd_.cancel(ignored);
    }

private:
    ::zmq::socket_t sock_;
    net::posix::stream_descriptor fd_;
    bool waiting_ = false;
};

// zmq_msg_send without blocking: 0, or the errno (EAGAIN when the socket
// cannot take it now, EHOSTUNREACH from a ROUTER for a peer gone).
inline int send(void* sock, frame& f, bool more = false) noexcept
{
    if (zmq_msg_send(f.get(), sock, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)) >= 0)
        return 0;
    return zmq_errno();
}

inline int send_bytes(void* sock, const void* p, std::size_t n, bool more = false) noexcept
{
    if (zmq_send(sock, p, n, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)) >= 0)
        return 0;
    return zmq_errno();
}

// zmq_msg_recv without blocking: 0, or the errno (EAGAIN: nothing to read).
inline int receive(void* sock, frame& f) noexcept
{
    if (zmq_msg_recv(f.get(), sock, ZMQ_DONTWAIT) >= 0)
        return 0;
    return zmq_errno();
}

}  // namespace boost::duplex::detail::zmq_io

#endif
