//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// The three baselines' entries in the contender table.

#include "baselines/asio_fresh_reply.hpp"
#include "baselines/asio_tuned.hpp"
#include "baselines/fiber_promise.hpp"
#include "bench.hpp"

namespace boost::duplex::bench {

contender baseline_asio_fresh_reply()
{
    namespace b = baselines::asio_fresh_reply;
    return {"baseline_a_asio_fresh_reply", "(a) Asio channel, fresh reply", "(a) fresh reply", false, b::latency, b::throughput, b::batch};
}

contender baseline_asio_tuned()
{
    namespace b = baselines::asio_tuned;
    return {"baseline_b_asio_tuned", "(b) Asio channel, tuned", "(b) tuned", false, b::latency, b::throughput, b::batch};
}

contender baseline_fiber_promise()
{
    namespace b = baselines::fiber_promise;
    return {"baseline_c_fiber_promise", "(c) Fiber channel + promise", "(c) fiber promise", false, b::latency, b::throughput, b::batch};
}

}  // namespace boost::duplex::bench
