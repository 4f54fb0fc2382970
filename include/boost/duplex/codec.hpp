//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_CODEC_HPP
#define BOOST_DUPLEX_CODEC_HPP

#include <boost/duplex/error.hpp>

#include <boost/system/errc.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace boost::duplex {

// The codec concept (doc/zmq.md, "Codecs"). A codec C for a type T is a
// default-constructible type whose const members
//
//     void c.encode(const T& value, std::vector<unsigned char>& out) const;
//          // appends the encoding of value to out (may throw only std::bad_alloc)
//     result<T> c.template decode<T>(std::span<const unsigned char> in) const;
//          // the value encoded in exactly `in`, or an error (errc::bad_message)
//
// may be called from any thread at once. A remote client and the serving
// side it talks to must use the same codec for the request and the response
// types.

/// The default codec: raw bytes for `std::string`, `std::vector` of
/// `char`, `unsigned char` or `std::byte`, and the object representation of
/// any other trivially copyable type (so both ends must share its layout:
/// the same type, compiler ABI and endianness).
struct binary_codec {
    /// Whether this codec can carry a T.
    template <class T>
    static constexpr bool supports =
        std::is_same_v<T, std::string> || std::is_same_v<T, std::vector<char>> ||
        std::is_same_v<T, std::vector<unsigned char>> || std::is_same_v<T, std::vector<std::byte>> ||
        std::is_trivially_copyable_v<T>;

    template <class T>
        requires supports<T>
    void encode(const T& value, std::vector<unsigned char>& out) const
    {
        const std::size_t at = out.size();
        if constexpr (is_bytes<T>) {
            out.resize(at + value.size());
            if (!value.empty())
                std::memcpy(out.data() + at, value.data(), value.size());
        } else {
            out.resize(at + sizeof(T));
            std::memcpy(out.data() + at, &value, sizeof(T));
        }
    }

    template <class T>
        requires supports<T>
    result<T> decode(std::span<const unsigned char> in) const
    {
        if constexpr (is_bytes<T>) {
            using char_type = typename T::value_type;
            const auto* p = reinterpret_cast<const char_type*>(in.data());
            return T(p, p + in.size());
        } else {
            if (in.size() != sizeof(T))
                return boost::system::errc::make_error_code(boost::system::errc::bad_message);
            std::array<unsigned char, sizeof(T)> bytes;
            std::memcpy(bytes.data(), in.data(), sizeof(T));
            return std::bit_cast<T>(bytes);
        }
    }

private:
    template <class T>
    static constexpr bool is_bytes = !std::is_trivially_copyable_v<T> || std::is_same_v<T, std::string>;
};

}  // namespace boost::duplex

#endif
