//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_ZMQ_WIRE_HPP
#define BOOST_DUPLEX_DETAIL_ZMQ_WIRE_HPP

#include <boost/duplex/error.hpp>
#include <boost/duplex/priority.hpp>

#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

// The envelope of every message between a remote client and a serving side
// (doc/zmq.md, "The wire"). One ZeroMQ frame per message (a ROUTER adds the
// peer's routing id in front): the envelope, then the payload, so that a
// request costs one send. Integers are little-endian whatever the host, so
// that the envelope reads the same on every machine; the payload is the
// codec's business.
namespace boost::duplex::detail::zmq_wire {

inline constexpr std::uint8_t version = 1;

enum class kind : std::uint8_t { request = 1, reply = 2, cancel = 3, ping = 4, pong = 5 };

// request: version kind id(8) remaining_ns(8, signed; INT64_MAX: no deadline)
//          class(1: priority in bits 0-6, bit 7 set when a flow follows) [flow(8)] payload
// Flow 0, the default, is not sent: a request with a small payload then
// fits libzmq's inline message (33 bytes), which costs no allocation.
inline constexpr std::size_t request_header = 2 + 8 + 8 + 1;
inline constexpr std::size_t request_header_with_flow = request_header + 8;

inline constexpr std::size_t request_header_size(std::uint64_t flow) noexcept
{
    return flow == 0 ? request_header : request_header_with_flow;
}
// reply: version kind id(8) status(1) then status 0: payload;
//        status 1: value(4, signed) name_length(1) name
inline constexpr std::size_t reply_header = 2 + 8 + 1;
// cancel: version kind id(8) type(1: asio::cancellation_type bits)
inline constexpr std::size_t cancel_size = 2 + 8 + 1;
// ping, pong: version kind
inline constexpr std::size_t ping_size = 2;

// Little-endian, whatever the host.
template <class U>
void put_le(unsigned char* p, U v) noexcept
{
    for (std::size_t i = 0; i < sizeof(U); ++i)
        p[i] = static_cast<unsigned char>(v >> (8 * i));
}

template <class U>
U get_le(const unsigned char* p) noexcept
{
    U v = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i)
        v = static_cast<U>(v | U(p[i]) << (8 * i));
    return v;
}

inline void put_u64(unsigned char* p, std::uint64_t v) noexcept { put_le(p, v); }
inline std::uint64_t get_u64(const unsigned char* p) noexcept { return get_le<std::uint64_t>(p); }
inline void put_u32(unsigned char* p, std::uint32_t v) noexcept { put_le(p, v); }
inline std::uint32_t get_u32(const unsigned char* p) noexcept { return get_le<std::uint32_t>(p); }

inline void put_start(unsigned char* p, kind k) noexcept
{
    p[0] = version;
    p[1] = static_cast<unsigned char>(k);
}

// The kind of a message, or nothing when it is not one of ours (too short,
// another version).
inline std::optional<kind> kind_of(std::span<const unsigned char> m) noexcept
{
    if (m.size() < 2 || m[0] != version || m[1] < 1 || m[1] > 5)
        return std::nullopt;
    const auto k = static_cast<kind>(m[1]);
    const std::size_t need = k == kind::request ? request_header
                             : k == kind::reply ? reply_header
                             : k == kind::cancel ? cancel_size
                                                 : ping_size;
    if (m.size() < need || (k == kind::request && (m[18] & 0x80) && m.size() < request_header_with_flow))
        return std::nullopt;
    return k;
}

// Remaining time as sent: nanoseconds, saturated; duration::max() (no
// deadline) travels as INT64_MAX.
inline std::int64_t encode_remaining(std::chrono::steady_clock::duration d) noexcept
{
    using std::chrono::nanoseconds;
    if (d == std::chrono::steady_clock::duration::max())
        return INT64_MAX;
    if (d <= std::chrono::steady_clock::duration::zero())
        return 0;
    return std::chrono::duration_cast<nanoseconds>(d).count();
}

inline std::chrono::steady_clock::duration decode_remaining(std::int64_t ns) noexcept
{
    if (ns == INT64_MAX)
        return std::chrono::steady_clock::duration::max();
    if (ns <= 0)
        return std::chrono::steady_clock::duration::zero();
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::nanoseconds(ns));
}

struct request_envelope {
    std::uint64_t id;
    std::int64_t remaining_ns;
    priority prio;
    std::uint64_t flow;
};

// Writes request_header_size(e.flow) bytes.
inline void write_request(unsigned char* p, const request_envelope& e) noexcept
{
    put_start(p, kind::request);
    put_u64(p + 2, e.id);
    put_u64(p + 10, static_cast<std::uint64_t>(e.remaining_ns));
    p[18] = static_cast<unsigned char>(static_cast<unsigned char>(e.prio) | (e.flow != 0 ? 0x80 : 0));
    if (e.flow != 0)
        put_u64(p + 19, e.flow);
}

// The envelope of a message kind_of() took for a request.
inline request_envelope read_request(const unsigned char* p) noexcept
{
    request_envelope e;
    e.id = get_u64(p + 2);
    e.remaining_ns = static_cast<std::int64_t>(get_u64(p + 10));
    const unsigned prio = p[18] & 0x7fu;
    e.prio = prio <= static_cast<unsigned>(priority::critical) ? static_cast<priority>(prio) : priority::critical;
    e.flow = (p[18] & 0x80) ? get_u64(p + 19) : 0;
    return e;
}

// The name an error code's category travels with, and its value. Only the
// categories both ends know by name map back (error_from_wire).
inline std::size_t write_error(std::vector<unsigned char>& out, boost::system::error_code ec)
{
    const char* name = ec.category().name();
    std::size_t n = std::strlen(name);
    if (n > 255)
        n = 255;
    const std::size_t at = out.size();
    out.resize(at + 5 + n);
    put_u32(out.data() + at, static_cast<std::uint32_t>(ec.value()));
    out[at + 4] = static_cast<unsigned char>(n);
    std::memcpy(out.data() + at + 5, name, n);
    return 5 + n;
}

// The error code for a category name and value received: boost.duplex,
// system and generic map back to the same code; a value of another category,
// which this end cannot name, to error::handler_failed (doc/zmq.md); a tail
// that cannot be read, to errc::bad_message.
inline boost::system::error_code error_from_wire(std::span<const unsigned char> tail) noexcept
{
    namespace sys = boost::system;
    if (tail.size() < 5 || tail.size() < 5u + tail[4])
        return sys::errc::make_error_code(sys::errc::bad_message);
    const int value = static_cast<int>(get_u32(tail.data()));
    const std::string_view name(reinterpret_cast<const char*>(tail.data() + 5), tail[4]);
    if (name == error_category().name())
        return {value, error_category()};
    if (name == sys::system_category().name())
        return {value, sys::system_category()};
    if (name == sys::generic_category().name())
        return {value, sys::generic_category()};
    return make_error_code(error::handler_failed);
}

}  // namespace boost::duplex::detail::zmq_wire

#endif
