//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Shared context: one handler, state shared by all its requests.
//
// The handler numbers every request it serves (a counter) and remembers what
// it computed (a cache). Both are plain members, no mutex, no atomic, though
// two threads run the io_context and four clients send requests from both:
// a responder runs its handler on a strand, so its invocations never overlap.
// (An awaitable handler's invocations interleave at their co_awaits: the state
// is then safe between two suspension points, as with any Asio coroutine.)
//
// Exits 0 when every request got its own serial number, exactly once, and
// each word was computed once only.

#include <boost/duplex/asio.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iostream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace net = boost::asio;
namespace dx = boost::duplex;

struct reply {
    std::uint64_t serial;  // the order in which the responder served the request
    std::string value;
    bool cached;
};

using word_client = dx::asio_client<std::string, reply>;

// The state every request sees. It lives in main, outliving the run; the
// handler holds a reference to it.
struct context {
    std::uint64_t served = 0;
    std::unordered_map<std::string, std::string> cache;
    std::size_t computed = 0;
};

// The costly work that the cache saves.
std::string shout(std::string word)
{
    std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::toupper(c); });
    return word + "!";
}

// One client: 50 requests over a few words, so most of them hit the cache.
// It keeps the serial numbers it got, in a vector of its own.
net::awaitable<void> session(word_client client, int id, const std::vector<std::string>& words,
                             std::vector<std::uint64_t>& serials, std::size_t& hits)
{
    for (std::size_t i = 0; i < 50; ++i) {
        const std::string& word = words[(static_cast<std::size_t>(id) * 3 + i) % words.size()];
        dx::result<reply> r = co_await client.async_request(word, net::use_awaitable);
        if (!r || r.value().value != shout(word))
            co_return;  // missing serials make main report the failure
        serials.push_back(r.value().serial);
        hits += r.value().cached;
    }
}

int main()
{
    net::io_context io;
    auto [client, responder] = dx::make_asio_channel<std::string, reply>(io.get_executor());

    context ctx;
    bool run_ok = false;
    responder.async_run(
        [&ctx](std::string word) {
            // Runs on the responder's strand: no other invocation runs meanwhile.
            reply r{ctx.served++, {}, true};
            auto it = ctx.cache.find(word);
            if (it == ctx.cache.end()) {
                ++ctx.computed;
                it = ctx.cache.emplace(word, shout(word)).first;
                r.cached = false;
            }
            r.value = it->second;
            return r;
        },
        dx::fixed_concurrency{8}, [&run_ok](dx::result<void> r) { run_ok = r.has_value(); });

    const std::vector<std::string> words{"alpha", "bravo", "charlie", "delta", "echo",
                                         "foxtrot", "golf", "hotel", "india", "juliett"};
    constexpr int clients = 4;
    // One slot per client, each written by its own session only.
    std::vector<std::vector<std::uint64_t>> serials(clients);
    std::vector<std::size_t> hits(clients);
    for (int id = 0; id < clients; ++id)
        net::co_spawn(io, session(client, id, words, serials[id], hits[id]), [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e);
        });

    // The sessions hold copies of the client; ours goes away, so the run ends
    // by itself once the last session is done and every request is answered.
    { auto gone = std::move(client); }

    std::thread second([&io] { io.run(); });
    io.run();
    second.join();

    // Every request numbered exactly once: the serials are 0..199, no gap, no repeat.
    std::vector<std::uint64_t> all;
    std::size_t total_hits = 0;
    for (int id = 0; id < clients; ++id) {
        all.insert(all.end(), serials[id].begin(), serials[id].end());
        total_hits += hits[id];
    }
    std::sort(all.begin(), all.end());
    bool numbered_once = all.size() == clients * 50u;
    for (std::size_t i = 0; numbered_once && i < all.size(); ++i)
        numbered_once = all[i] == i;

    std::cout << "served " << ctx.served << " requests from " << clients << " clients on 2 threads\n"
              << "serial numbers unique and gap-free: " << (numbered_once ? "yes" : "no") << '\n'
              << "computed " << ctx.computed << " words, " << total_hits << " answers from the cache\n";

    const bool ok = run_ok && numbered_once && ctx.served == clients * 50u && ctx.computed == words.size() &&
                    total_hits == clients * 50u - words.size();
    std::cout << (ok ? "OK" : "FAILED") << '\n';
    return ok ? 0 : 1;
}
