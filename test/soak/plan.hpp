//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// What a soak client does next, drawn at random, and how its outcome is
// written to the ledger: the same for both backends, which only differ in how
// they make the call and wait for it.

#ifndef BOOST_DUPLEX_TEST_SOAK_PLAN_HPP
#define BOOST_DUPLEX_TEST_SOAK_PLAN_HPP

#include "ledger.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace soak {

// The budget of requests of one backend's run, shared by its clients.
struct budget {
    explicit budget(std::uint64_t total) : total(total) {}

    // Claims up to `want` requests; returns how many were granted (0 when spent)
    // and the number of requests claimed before them.
    std::uint32_t claim(std::uint32_t want, std::uint64_t& before)
    {
        before = used.fetch_add(want, std::memory_order_relaxed);
        if (before >= total)
            return 0;
        return static_cast<std::uint32_t>(std::min<std::uint64_t>(want, total - before));
    }

    const std::uint64_t total;
    std::atomic<std::uint64_t> used{0};
};

enum class op_kind : std::uint8_t { single, fail_fast_batch, settled_batch };

// Asio per-operation cancellation, as a client may apply it.
enum class cancel_how : std::uint8_t { none, at_once, after_delay };

// One call a client is about to make.
struct planned_op {
    op_kind kind = op_kind::single;
    std::uint32_t client = 0;
    std::uint32_t first_seq = 0;
    std::uint32_t count = 0;          // requests in the call
    std::vector<request> requests;  // moved into the call
    std::optional<clock_type::duration> timeout;  // single: its own; fail-fast batch: the whole batch's
    std::size_t concurrency = 1;
    cancel_how cancel = cancel_how::none;
    int cancel_type = 0;  // 0 terminal, 1 partial, 2 total
    clock_type::duration cancel_delay{};
    std::uint64_t claimed_before = 0;  // requests claimed by everyone before this call
};

inline std::uint32_t handler_delay_us(std::mt19937_64& rng, action a)
{
    if (a == action::short_deadline)
        return 5000;
    return rng() % 5 == 0 ? static_cast<std::uint32_t>(1 + rng() % 200) : 0;
}

inline request make_request(std::uint32_t client, std::uint32_t seq, action a, std::mt19937_64& rng)
{
    return request{client, seq, a, handler_delay_us(rng, a), text_of(client, seq)};
}

// Draws the client's next call and fills in its records. False when the
// budget is spent or the client's share of the ledger is full.
inline bool plan_next(budget& b, ledger& book, std::uint32_t client, std::uint32_t& next_seq, std::mt19937_64& rng,
                      bool cancellation, planned_op& op)
{
    const auto x = rng() % 100;
    op.kind = x < 86 ? op_kind::single : x < 93 ? op_kind::fail_fast_batch : op_kind::settled_batch;
    std::uint32_t want = op.kind == op_kind::single ? 1 : static_cast<std::uint32_t>(2 + rng() % 11);
    want = std::min(want, book.per_client() - next_seq);
    if (want == 0)
        return false;
    const std::uint32_t n = b.claim(want, op.claimed_before);
    if (n == 0)
        return false;

    op.client = client;
    op.first_seq = next_seq;
    op.count = n;
    next_seq += n;
    op.requests.clear();
    op.timeout.reset();
    op.cancel = cancel_how::none;
    op.cancel_type = 0;
    op.concurrency = 1 + rng() % 4;
    if (op.kind != op_kind::single && rng() % 50 == 0)
        op.concurrency = 0;  // bad input: every request gets invalid_argument

    const auto now = clock_type::now();
    if (op.kind == op_kind::single) {
        const action a = draw_action(rng, cancellation);
        record& rec = book.at(client, op.first_seq);
        rec.act = a;
        if (a == action::short_deadline)
            op.timeout = std::chrono::milliseconds(rng() % 3);
        else if (rng() % 4 == 0)
            op.timeout = std::chrono::milliseconds(200 + rng() % 1000);
        // Requests without a timeout of their own take the channel's (2 s).
        rec.deadline = now + op.timeout.value_or(std::chrono::seconds(2));
        if (a == action::cancel) {
            op.cancel = rng() % 3 == 0 ? cancel_how::at_once : cancel_how::after_delay;
            op.cancel_type = static_cast<int>(rng() % 3);
            op.cancel_delay = std::chrono::microseconds(rng() % 500);
            rec.partial_cancel = op.cancel_type != 0;
        }
        op.requests.push_back(make_request(client, op.first_seq, a, rng));
        return true;
    }

    if (op.kind == op_kind::fail_fast_batch && rng() % 2 == 0)
        op.timeout = std::chrono::milliseconds(20 + rng() % 1000);
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint32_t seq = op.first_seq + i;
        const action a = draw_action(rng, false);
        record& rec = book.at(client, seq);
        rec.act = a;
        rec.in_fail_fast_batch = op.kind == op_kind::fail_fast_batch;
        rec.batch_allows_invalid = op.concurrency == 0;
        // A batch reads its range lazily, so a request without the batch's
        // timeout gets its deadline only when it is made: no bound known here.
        if (op.timeout)
            rec.deadline = now + *op.timeout;
        op.requests.push_back(make_request(client, seq, a, rng));
    }
    return true;
}

// Writes a single request's outcome.
inline void settle_single(ledger& book, const planned_op& op, const dx::result<response>& r)
{
    book.completed(book.at(op.client, op.first_seq), op.client, op.first_seq, r);
}

// Writes a fail-fast batch's outcome: the responses in input order, or one
// error for all of its requests, which one of them must be able to explain.
inline void settle_fail_fast(ledger& book, const planned_op& op, const dx::result<std::vector<response>>& r)
{
    const std::uint32_t n = op.count;
    if (r.has_value()) {
        const auto& v = r.value();
        for (std::uint32_t i = 0; i < n; ++i) {
            record& rec = book.at(op.client, op.first_seq + i);
            if (v.size() != n) {
                rec.misrouted = true;
                book.completed_with(rec, {});
                continue;
            }
            book.completed(rec, op.client, op.first_seq + i, dx::result<response>(v[i]));
        }
        return;
    }
    const ending e = ending_of(r.error());
    bool explained = true;
    // (The requests themselves were moved into the call: read the records.)
    auto any = [&](action a) {
        for (std::uint32_t i = 0; i < n; ++i)
            if (book.at(op.client, op.first_seq + i).act == a)
                return true;
        return false;
    };
    if (e == ending::handler_failed)
        explained = any(action::throws);
    else if (e == ending::handler_error)
        explained = any(action::fails);
    else if (e == ending::invalid_argument)
        explained = op.concurrency == 0;
    for (std::uint32_t i = 0; i < n; ++i) {
        record& rec = book.at(op.client, op.first_seq + i);
        if (!explained)
            rec.impossible = true;
        book.completed_with(rec, r.error());
    }
}

// Writes a settled batch's outcome: one result per request, in input order.
inline void settle_settled(ledger& book, const planned_op& op, const std::vector<dx::result<response>>& rs)
{
    const std::uint32_t n = op.count;
    for (std::uint32_t i = 0; i < n; ++i) {
        record& rec = book.at(op.client, op.first_seq + i);
        if (rs.size() != n) {
            rec.misrouted = true;
            book.completed_with(rec, {});
            continue;
        }
        book.completed(rec, op.client, op.first_seq + i, rs[i]);
    }
}

}  // namespace soak

#endif
