//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// <boost/duplex/error.hpp>: the category, its messages, make_error_code, the
// is_error_code_enum specialisation and the result<T> alias.

#define BOOST_TEST_MODULE core_error
#include <boost/test/unit_test.hpp>

#include <boost/duplex/error.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/is_error_code_enum.hpp>

#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <type_traits>

namespace dx = boost::duplex;
using boost::system::error_code;

namespace {

constexpr dx::error all_errors[] = {dx::error::timeout,    dx::error::cancelled,      dx::error::closed,
                                    dx::error::queue_full, dx::error::handler_failed, dx::error::invalid_argument};

}  // namespace

static_assert(boost::system::is_error_code_enum<dx::error>::value);
static_assert(std::is_convertible_v<dx::error, error_code>);
static_assert(std::is_same_v<dx::result<int>, boost::outcome_v2::result<int, error_code>>);
static_assert(std::is_same_v<dx::result<void>, boost::outcome_v2::result<void, error_code>>);
static_assert(noexcept(dx::error_category()));
static_assert(noexcept(dx::make_error_code(dx::error::timeout)));
static_assert(static_cast<int>(dx::error::timeout) == 1);  // 0 stays "no error"

BOOST_AUTO_TEST_CASE(category_is_named_boost_duplex_and_unique)
{
    BOOST_TEST(std::strcmp(dx::error_category().name(), "boost.duplex") == 0);
    BOOST_TEST(&dx::error_category() == &dx::error_category());
    BOOST_TEST((dx::error_category() != boost::system::generic_category()));
}

BOOST_AUTO_TEST_CASE(every_value_has_its_own_non_empty_message)
{
    std::set<std::string> seen;
    for (dx::error e : all_errors) {
        const std::string m = dx::error_category().message(static_cast<int>(e));
        BOOST_TEST(!m.empty(), "value " << static_cast<int>(e));
        BOOST_TEST(seen.insert(m).second, "duplicate message: " << m);
        BOOST_TEST(dx::make_error_code(e).message() == m);
        // The non-allocating overload says the same.
        char buf[128];
        BOOST_TEST(std::string(dx::error_category().message(static_cast<int>(e), buf, sizeof buf)) == m);
    }
    BOOST_TEST(seen.size() == std::size(all_errors));
    // An unknown value still gets a message.
    BOOST_TEST(!dx::error_category().message(1000).empty());
}

BOOST_AUTO_TEST_CASE(make_error_code_and_implicit_conversion)
{
    for (dx::error e : all_errors) {
        const error_code ec = dx::make_error_code(e);
        BOOST_TEST(ec.value() == static_cast<int>(e));
        BOOST_TEST(&ec.category() == &dx::error_category());
        BOOST_TEST(static_cast<bool>(ec));  // every value is a failure
        error_code implicit = e;            // is_error_code_enum
        BOOST_TEST(implicit == ec);
        BOOST_TEST((ec == e));
        BOOST_TEST((e == ec));
    }
    BOOST_TEST((dx::make_error_code(dx::error::timeout) != dx::error::cancelled));
    // Same value, other category: not equal.
    BOOST_TEST((error_code(1, boost::system::generic_category()) != dx::error::timeout));
}

BOOST_AUTO_TEST_CASE(result_holds_a_value_or_an_error_code)
{
    dx::result<int> v = 5;
    BOOST_TEST(v.has_value());
    BOOST_TEST(v.value() == 5);

    dx::result<int> e = dx::make_error_code(dx::error::closed);
    BOOST_TEST(e.has_error());
    BOOST_TEST((e.error() == dx::error::closed));

    dx::result<int> from_enum = error_code(dx::error::queue_full);
    BOOST_TEST((from_enum.error() == dx::error::queue_full));

    // A handler's own code is kept as it is.
    dx::result<int> own = error_code(ENOENT, boost::system::generic_category());
    BOOST_TEST(own.error() == error_code(ENOENT, boost::system::generic_category()));

    // Move-only values.
    dx::result<std::unique_ptr<int>> p = std::make_unique<int>(3);
    BOOST_TEST(*p.value() == 3);
    std::unique_ptr<int> q = std::move(p).value();
    BOOST_TEST(*q == 3);

    dx::result<void> ok = boost::outcome_v2::success();
    BOOST_TEST(ok.has_value());
}
