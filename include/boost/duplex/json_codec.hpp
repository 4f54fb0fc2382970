//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_JSON_CODEC_HPP
#define BOOST_DUPLEX_JSON_CODEC_HPP

#include <boost/duplex/error.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>
#include <boost/system/errc.hpp>

#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace boost::duplex {

/// A codec (see <boost/duplex/codec.hpp>) for any type that Boost.JSON
/// converts both ways (`value_from` / `try_value_to`: standard containers,
/// strings, numbers, types described with Boost.Describe, or with
/// `tag_invoke` overloads). The payload is JSON text, so the two ends may run
/// on different architectures. Needs Boost.JSON (link `Boost::json`, or
/// include `<boost/json/src.hpp>` in one translation unit).
struct json_codec {
    template <class T>
    void encode(const T& value, std::vector<unsigned char>& out) const
    {
        const std::string text = boost::json::serialize(boost::json::value_from(value));
        const std::size_t at = out.size();
        out.resize(at + text.size());
        std::memcpy(out.data() + at, text.data(), text.size());
    }

    template <class T>
    result<T> decode(std::span<const unsigned char> in) const
    {
        boost::system::error_code ec;
        const boost::json::value v =
            boost::json::parse(std::string_view(reinterpret_cast<const char*>(in.data()), in.size()), ec);
        if (ec)
            return boost::system::errc::make_error_code(boost::system::errc::bad_message);
        auto r = boost::json::try_value_to<T>(v);
        if (!r)
            return boost::system::errc::make_error_code(boost::system::errc::bad_message);
        return std::move(*r);
    }
};

}  // namespace boost::duplex

#endif
