//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// Shared context with Boost.Fiber: one handler, state shared by all its requests.
//
// The handler numbers every request it serves (a counter) and remembers what
// it fetched (a cache), for clients on two threads. Unlike an Asio responder,
// whose invocations never overlap, a fiber responder runs each invocation in a
// fiber of its own, and these interleave wherever one blocks. So:
//
// - the counter is read and written with no blocking call in between, and
//   every invocation runs on the responder's thread (the default scheduler
//   never moves a fiber), so no other invocation can see it half-updated: a
//   plain integer will do. (Under a work-sharing scheduler, which moves
//   fibers between threads, it would have to be an atomic.)
// - filling the cache blocks (a slow fetch), so two invocations could both
//   miss the same word and fetch it twice; a boost::fibers::mutex held across
//   the fetch prevents that. A std::mutex would be wrong here: held across a
//   blocking call, it would block the whole thread, every invocation on it.
//
// Exits 0 when every request got its own serial number, exactly once, and
// each word was fetched once only.

#include <boost/duplex/fiber.hpp>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/mutex.hpp>
#include <boost/fiber/operations.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace dx = boost::duplex;
namespace fibers = boost::fibers;
using namespace std::chrono_literals;

struct reply {
    std::uint64_t serial;  // the order in which the responder took the request
    std::string value;
    bool cached;
};

using word_client = dx::fiber_client<std::string, reply>;

// The state every request sees; it lives in main, outliving the run.
struct context {
    std::uint64_t served = 0;
    fibers::mutex cache_mutex;  // guards `cache` and `fetched`
    std::unordered_map<std::string, std::string> cache;
    std::size_t fetched = 0;
};

// The slow backend that the cache saves trips to.
std::string fetch(std::string word)
{
    boost::this_fiber::sleep_for(10ms);
    std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::toupper(c); });
    return word + "!";
}

// One client: 50 requests over a few words, so most of them hit the cache.
void session(word_client client, int id, const std::vector<std::string>& words, std::vector<std::uint64_t>& serials,
             std::size_t& hits)
{
    for (std::size_t i = 0; i < 50; ++i) {
        const std::string& word = words[(static_cast<std::size_t>(id) * 3 + i) % words.size()];
        dx::result<reply> r = client.request(word);
        if (!r || r.value().value.size() != word.size() + 1)
            return;  // missing serials make main report the failure
        serials.push_back(r.value().serial);
        hits += r.value().cached;
    }
}

int main()
{
    auto channel = dx::make_fiber_channel<std::string, reply>();
    word_client client = std::move(channel.first);
    dx::fiber_responder<std::string, reply> responder = std::move(channel.second);

    context ctx;
    auto handler = [&ctx](std::string word) {
        reply r{ctx.served++, {}, true};  // no blocking call between the read and the write

        std::unique_lock lock(ctx.cache_mutex);  // blocks this fiber only, while another fetches
        auto it = ctx.cache.find(word);
        if (it == ctx.cache.end()) {
            ++ctx.fetched;
            it = ctx.cache.emplace(word, fetch(word)).first;
            r.cached = false;
        }
        r.value = it->second;
        return r;
    };
    // The responder gets a thread of its own (its invocations' fibers are
    // launched there), so that main can block in std::thread::join below:
    // blocking a thread blocks every fiber on it, a responder included.
    dx::result<void> run_result = dx::make_error_code(dx::error::closed);
    std::thread server([&] { run_result = responder.run(handler, dx::fixed_concurrency{8}); });

    const std::vector<std::string> words{"alpha", "bravo", "charlie", "delta", "echo",
                                         "foxtrot", "golf", "hotel", "india", "juliett"};
    constexpr int clients = 4;
    std::vector<std::vector<std::uint64_t>> serials(clients);  // one slot per client
    std::vector<std::size_t> hits(clients);

    // Two clients on a third thread (each a fiber there), two here.
    std::thread other([&] {
        fibers::fiber a(session, client, 0, std::cref(words), std::ref(serials[0]), std::ref(hits[0]));
        fibers::fiber b(session, client, 1, std::cref(words), std::ref(serials[1]), std::ref(hits[1]));
        a.join();
        b.join();
    });
    fibers::fiber c(session, client, 2, std::cref(words), std::ref(serials[2]), std::ref(hits[2]));
    fibers::fiber d(session, client, 3, std::cref(words), std::ref(serials[3]), std::ref(hits[3]));
    c.join();
    d.join();
    other.join();
    responder.stop();
    server.join();

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
              << "fetched " << ctx.fetched << " words, " << total_hits << " answers from the cache\n";

    const bool ok = run_result && numbered_once && ctx.served == clients * 50u && ctx.fetched == words.size() &&
                    total_hits == clients * 50u - words.size();
    std::cout << (ok ? "OK" : "FAILED") << '\n';
    return ok ? 0 : 1;
}
