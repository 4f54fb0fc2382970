//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#include <boost/duplex/error.hpp>

#include <cstring>
#include <iostream>

int main()
{
    boost::system::error_code ec = boost::duplex::error::timeout;
    std::cout << ec.category().name() << ": " << ec.message() << '\n';
    if (std::strcmp(boost::duplex::error_category().name(), "boost.duplex") != 0
        || ec != boost::duplex::make_error_code(boost::duplex::error::timeout)) {
        return 1;
    }
    boost::duplex::result<int> r = boost::duplex::make_error_code(boost::duplex::error::closed);
    return r.has_error() ? 0 : 1;
}
