//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The W2 workload alone (64 clients and the responder on one thread, an echo
// handler, fixed_concurrency{64}), for counting instructions per request
// under callgrind, whose counts repeat on a noisy machine where times do not:
//
//   valgrind --tool=callgrind --callgrind-out-file=cg.64k  duplex_instructions asio 64000
//   valgrind --tool=callgrind --callgrind-out-file=cg.128k duplex_instructions asio 128000
//
// (the same with `fiber`; `asio-batch` and `fiber-batch` count W4: one
// request_batch of REQUESTS, at most 64 outstanding; a third argument sets
// the number of clients, 1 for W1's lone client). The difference of the two totals over 64 000 is
// the cost of one request without the start-up; doc/performance.md holds
// the figures. It checks every answer and exits non-zero on a wrong one.

#include <boost/duplex.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/fiber/fiber.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace dx = boost::duplex;
namespace net = boost::asio;

namespace {

int clients = 64;  // W1 when 1 (the optional third argument)

// One callback client: sends its next request from the completion of the last.
struct asio_client_loop {
    dx::asio_client<std::uint64_t, std::uint64_t>* client = nullptr;
    net::io_context* io = nullptr;
    int* running = nullptr;
    std::uint64_t left = 0, seq = 0;

    void next()
    {
        client->async_request(seq, [this](dx::result<std::uint64_t> r) {
            if (!r || r.value() != seq)
                std::exit(1);
            ++seq;
            if (--left != 0)
                next();
            else if (--*running == 0)
                io->stop();
        });
    }
};

void run_asio(std::uint64_t per_client)
{
    net::io_context io(1);
    auto [client, responder] = dx::make_asio_channel<std::uint64_t, std::uint64_t>(io.get_executor());
    responder.async_run([](std::uint64_t v) { return v; }, dx::fixed_concurrency{static_cast<std::size_t>(clients)}, net::detached);
    std::vector<asio_client_loop> loops(clients);
    int running = clients;
    for (auto& l : loops) {
        l.client = &client;
        l.io = &io;
        l.running = &running;
        l.left = per_client;
        l.next();
    }
    io.run();
}

void run_fiber(std::uint64_t per_client)
{
    auto [client, responder] = dx::make_fiber_channel<std::uint64_t, std::uint64_t>();
    boost::fibers::fiber run([&] { (void)responder.run([](std::uint64_t v) { return v; }, dx::fixed_concurrency{static_cast<std::size_t>(clients)}); });
    std::vector<boost::fibers::fiber> fs;
    for (int i = 0; i != clients; ++i)
        fs.emplace_back([&] {
            for (std::uint64_t k = 0; k != per_client; ++k)
                if (client.request(k).value() != k)
                    std::exit(1);
        });
    for (auto& f : fs)
        f.join();
    responder.stop();
    run.join();
}

// W4: one batch of `n` requests, at most 64 outstanding.
std::vector<std::uint64_t> batch_requests(std::uint64_t n)
{
    std::vector<std::uint64_t> v(n);
    for (std::uint64_t i = 0; i != n; ++i)
        v[i] = i;
    return v;
}

void run_asio_batch(std::uint64_t n)
{
    net::io_context io(1);
    auto [client, responder] = dx::make_asio_channel<std::uint64_t, std::uint64_t>(io.get_executor());
    responder.async_run([](std::uint64_t v) { return v; }, dx::fixed_concurrency{static_cast<std::size_t>(clients)}, net::detached);
    const auto reqs = batch_requests(n);
    client.async_request_batch(reqs, static_cast<std::size_t>(clients), [&](dx::result<std::vector<std::uint64_t>> r) {
        if (!r || r.value() != reqs)
            std::exit(1);
        io.stop();
    });
    io.run();
}

void run_fiber_batch(std::uint64_t n)
{
    auto [client, responder] = dx::make_fiber_channel<std::uint64_t, std::uint64_t>();
    boost::fibers::fiber run([&] { (void)responder.run([](std::uint64_t v) { return v; }, dx::fixed_concurrency{static_cast<std::size_t>(clients)}); });
    const auto reqs = batch_requests(n);
    auto r = client.request_batch(reqs, static_cast<std::size_t>(clients));
    if (!r || r.value() != reqs)
        std::exit(1);
    responder.stop();
    run.join();
}

}  // namespace

int main(int argc, char** argv)
{
    const char* const modes[] = {"asio", "fiber", "asio-batch", "fiber-batch"};
    int mode = -1;
    for (int i = 0; (argc == 3 || argc == 4) && i != 4; ++i)
        if (std::strcmp(argv[1], modes[i]) == 0)
            mode = i;
    if (mode < 0) {
        std::fprintf(stderr, "usage: duplex_instructions asio|fiber|asio-batch|fiber-batch REQUESTS [CLIENTS]\n");
        return 2;
    }
    const std::uint64_t n = std::strtoull(argv[2], nullptr, 10);
    if (argc == 4)
        clients = std::max(1, std::atoi(argv[3]));
    switch (mode) {
    case 0: run_asio(n / clients); break;
    case 1: run_fiber(n / clients); break;
    case 2: run_asio_batch(n); break;
    default: run_fiber_batch(n); break;
    }
    return 0;
}
