//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Move-only request and response types with the Fiber backend: requests and
// responses need only be move-constructible (std::unique_ptr, and a type that
// is neither copyable nor default-constructible nor assignable); every way a
// request ends destroys what the channel held exactly once.

#define BOOST_TEST_MODULE fiber_move_only
#include <boost/test/unit_test.hpp>

#include "common.hpp"

#include <boost/system/errc.hpp>

#include <memory>
#include <string>

using namespace fiber_test;

namespace {

// Move-constructible only: no default constructor, no copy, no assignment.
// Counts live objects, so that a leak or a double destruction shows.
struct token {
    static inline std::atomic<long> alive{0};

    explicit token(int v) : value(std::make_unique<int>(v)) { ++alive; }
    token(token&& o) noexcept : value(std::move(o.value)) { ++alive; }
    token(const token&) = delete;
    token& operator=(const token&) = delete;
    token& operator=(token&&) = delete;
    ~token() { --alive; }

    int get() const { return value ? *value : -1; }

    std::unique_ptr<int> value;
};

static_assert(!std::is_copy_constructible_v<token>);
static_assert(!std::is_default_constructible_v<token>);
static_assert(!std::is_move_assignable_v<token>);

}  // namespace

// std::unique_ptr both ways; the handler moves the request into its response.
BOOST_AUTO_TEST_CASE(unique_ptr_requests_and_responses)
{
    watchdog wd;
    channel<std::unique_ptr<int>, std::unique_ptr<std::string>> ch;
    runner run(
        *ch.responder,
        [](std::unique_ptr<int> p) { return std::make_unique<std::string>(std::to_string(*p)); },
        dx::fixed_concurrency{2});
    auto r = ch.client->request(std::make_unique<int>(5));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(*r.value() == "5");
    auto t = ch.client->request(std::make_unique<int>(6), 5s);
    BOOST_TEST((t.has_value() && *t.value() == "6"));
    std::vector<std::unique_ptr<int>> reqs;
    reqs.push_back(std::make_unique<int>(1));
    reqs.push_back(std::make_unique<int>(2));
    auto b = ch.client->request_batch(std::move(reqs), 2);
    BOOST_TEST_REQUIRE(b.has_value());
    BOOST_TEST_REQUIRE(b.value().size() == 2u);
    BOOST_TEST(*b.value()[0] == "1");
    BOOST_TEST(*b.value()[1] == "2");
    ch.client.reset();
    BOOST_TEST_REQUIRE(run.wait_done());
}

// A type with neither copy nor default constructor nor assignment, in both
// handler shapes, singly and in batches (fail-fast and settled).
BOOST_AUTO_TEST_CASE(move_constructible_only_types)
{
    watchdog wd;
    {
        channel<token, token> ch;
        runner run(
            *ch.responder,
            [](token t) -> dx::result<token> {
                if (t.get() < 0)
                    return boost::system::errc::make_error_code(boost::system::errc::io_error);
                return token(t.get() * 2);
            },
            dx::fixed_concurrency{3});
        auto r = ch.client->request(token(21));
        BOOST_TEST((r.has_value() && r.value().get() == 42));
        auto e = ch.client->request(token(-1));
        BOOST_TEST(code_of(e) == boost::system::errc::make_error_code(boost::system::errc::io_error));

        std::vector<token> reqs;
        for (int i = 0; i != 5; ++i)
            reqs.emplace_back(i);
        auto b = ch.client->request_batch(std::move(reqs), 2);
        BOOST_TEST_REQUIRE(b.has_value());
        for (int i = 0; i != 5; ++i)
            BOOST_TEST(b.value()[std::size_t(i)].get() == 2 * i);

        std::vector<token> more;
        more.emplace_back(1);
        more.emplace_back(-1);
        more.emplace_back(3);
        auto s = ch.client->request_batch_settled(std::move(more), 3);
        BOOST_TEST_REQUIRE(s.size() == 3u);
        BOOST_TEST((s[0].has_value() && s[0].value().get() == 2));
        BOOST_TEST(!s[1].has_value());
        BOOST_TEST((s[2].has_value() && s[2].value().get() == 6));
        ch.client.reset();
        BOOST_TEST_REQUIRE(run.wait_done());
    }
    {
        // The plain shape: the handler returns the response itself.
        channel<token, token> ch;
        runner run(*ch.responder, [](token t) { return t; }, dx::fixed_concurrency{1});
        auto r = ch.client->request(token(9));
        BOOST_TEST((r.has_value() && r.value().get() == 9));
        ch.client.reset();
        BOOST_TEST_REQUIRE(run.wait_done());
    }
    BOOST_TEST(token::alive == 0);
}

// Every way a request ends (a value, a late value dropped after a timeout,
// a timeout in the queue, a stop with requests queued and waiting for room,
// a full queue, a closed channel) destroys each request and response once.
BOOST_AUTO_TEST_CASE(every_ending_destroys_what_the_channel_held)
{
    watchdog wd;
    {
        gate g;
        counter entered;
        channel<token, token> ch(dx::channel_options{2, 30s, dx::overflow::wait});
        auto& responder = *ch.responder;
        runner run(
            responder,
            [&](token t) {
                entered.add();
                if (t.get() == 0)
                    g.wait();
                return token(t.get() + 100);
            },
            dx::fixed_concurrency{1});

        BOOST_TEST(ch.client->request(token(7)).has_value());
        BOOST_TEST(code_of(ch.client->request(token(0), 30ms)) == code(dx::error::timeout));  // held: late value
        BOOST_TEST(code_of(ch.client->request(token(1), 30ms)) == code(dx::error::timeout));  // queued behind it
        std::vector<std::optional<dx::result<token>>> rs(4);
        counter returned;
        std::vector<scoped_fiber> fs;
        for (int i = 0; i != 4; ++i)  // 2 queued, 2 waiting for room
            fs.emplace_back([&, i] {
                rs[std::size_t(i)].emplace(ch.client->request(token(10 + i)));
                returned.add();
            });
        BOOST_TEST_REQUIRE(poll_until([&] { return responder.stats().queued == 2; }));
        responder.stop();
        BOOST_TEST_REQUIRE(returned.wait_at_least(4));
        for (auto& r : rs)
            BOOST_TEST(code_of(*r) == code(dx::error::closed));
        BOOST_TEST(code_of(ch.client->request(token(20))) == code(dx::error::closed));
        g.open();
        BOOST_TEST_REQUIRE(run.wait_done());
        fs.clear();
        rs.clear();
    }
    BOOST_TEST(token::alive == 0);
    {
        channel<token, token> ch(dx::channel_options{0, 30s, dx::overflow::reject});
        BOOST_TEST(code_of(ch.client->request(token(1))) == code(dx::error::queue_full));
        ch.responder.reset();
        BOOST_TEST(code_of(ch.client->request(token(2))) == code(dx::error::closed));
    }
    BOOST_TEST(token::alive == 0);
}
