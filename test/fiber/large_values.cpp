//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Large requests and responses: the handler fibers' default stack grows with
// the types (a 64 KiB request and response overflowed the fixed 128 KiB stack:
// SIGSEGV in the worker), fiber_run_options::stack_size sets it outright, and
// the run loop keeps no response on its frames (a 256 KiB one overflowed the
// default stack of the fiber calling run(), through a failure path never
// taken).

#define BOOST_TEST_MODULE fiber_large_values
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <array>
#include <cstddef>
#include <cstring>
#include <memory>

#include <boost/fiber/fixedsize_stack.hpp>

using namespace fiber_test;

namespace {

template <std::size_t Size>
struct big {
    std::array<unsigned char, Size> bytes{};
};

template <std::size_t Size>
void echo_through(std::optional<dx::fiber_run_options> options)
{
    using value = big<Size>;
    channel<value, value> ch;
    auto handler = [](value v) {
        for (auto& b : v.bytes)
            b = static_cast<unsigned char>(b + 1);
        return v;
    };
    std::optional<boost::system::error_code> ended;
    // run() runs on the calling fiber, whose stack is the user's: the run
    // loop completes requests that end early (expired, closed) on it, which
    // takes room for a response or two (documented with fiber_run_options).
    fibers::fiber run(std::allocator_arg, boost::fibers::fixedsize_stack(Size * 8 + 256 * 1024), [&] {
        auto r = options ? ch.responder->run(handler, dx::fixed_concurrency{4}, *options)
                         : ch.responder->run(handler, dx::fixed_concurrency{4});
        ended = r ? boost::system::error_code() : r.error();
    });
    // The clients' fibers are the user's: their stacks, the user's choice.
    std::vector<fibers::fiber> clients;
    counter ok;
    for (int c = 0; c != 4; ++c)
        clients.emplace_back(std::allocator_arg, boost::fibers::fixedsize_stack(Size * 8 + 256 * 1024), [&, c] {
            auto v = std::make_unique<value>();
            v->bytes.fill(static_cast<unsigned char>(c));
            auto r = ch.client->request(*v);
            if (r.has_value() && r.value().bytes.front() == c + 1 && r.value().bytes.back() == c + 1)
                ok.add();
        });
    for (auto& f : clients)
        f.join();
    BOOST_TEST(ok.get() == 4u);
    ch.client.reset();
    run.join();
    BOOST_TEST_REQUIRE(ended.has_value());
    BOOST_TEST(!*ended);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_64_kib_request_and_response_with_the_default_stack)
{
    watchdog wd;
    echo_through<64 * 1024>(std::nullopt);
}

BOOST_AUTO_TEST_CASE(a_256_kib_request_and_response_with_a_stack_size_of_ones_own)
{
    watchdog wd;
    echo_through<256 * 1024>(dx::fiber_run_options{.stack_size = 4 * 1024 * 1024});
}
