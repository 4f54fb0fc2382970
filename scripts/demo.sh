#!/usr/bin/env bash
#
# Copyright (c) 2026 The Boost.Duplex developers
#
# Distributed under the Boost Software License, Version 1.0. (See accompanying
# file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
#
# The demo command: bash scripts/demo.sh [duplex_bench arguments]
#
# Installs the Debian 12 packages that are missing (as root), builds
# example/demo.cpp (target duplex_demo) and the benchmark bench/ (target
# duplex_bench) with g++ in Release mode under build/demo, runs the demo,
# then the short benchmark, `duplex_bench --quick` (other arguments, when
# given, replace --quick; see bench/README.md), then the short overload
# benchmark, `duplex_overload --quick` (doc/overload.md). Their files go to
# build/demo/bench_results and build/demo/overload_results.
#
# Environment (optional): DUPLEX_SKIP_DEPS=1 skips the package check.

set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

if [ "${DUPLEX_SKIP_DEPS:-0}" != 1 ]; then
    # shellcheck source=deps.sh
    source "$root/scripts/deps.sh"
    duplex_install_deps
fi

if [ ! -f example/demo.cpp ]; then
    echo "demo.sh: example/demo.cpp does not exist yet, so there is no duplex_demo target to run." >&2
    exit 1
fi

cmake -S . -B build/demo -G Ninja \
    -DCMAKE_CXX_COMPILER=g++ \
    -DCMAKE_BUILD_TYPE=Release \
    -DBOOST_DUPLEX_BUILD_TESTS=OFF \
    -DBOOST_DUPLEX_BUILD_EXAMPLES=ON \
    -DBOOST_DUPLEX_BUILD_BENCH=ON

zmq_targets=()
if grep -q '^BOOST_DUPLEX_ZMQ:BOOL=ON' build/demo/CMakeCache.txt; then
    zmq_targets=(example_zmq_server example_zmq_client duplex_zmq_bench)
fi
cmake --build build/demo --parallel 2 --target duplex_demo duplex_bench duplex_overload "${zmq_targets[@]}"

bench_args=("$@")
if [ "${#bench_args[@]}" -eq 0 ]; then
    bench_args=(--quick)
fi

echo
echo "=== build/demo/example/duplex_demo"
demo_status=0
build/demo/example/duplex_demo || demo_status=$?

echo
echo "=== build/demo/bench/duplex_bench --out build/demo/bench_results ${bench_args[*]}"
bench_status=0
build/demo/bench/duplex_bench --out build/demo/bench_results "${bench_args[@]}" || bench_status=$?

echo
echo "=== build/demo/bench/duplex_overload --quick --out build/demo/overload_results"
overload_status=0
build/demo/bench/duplex_overload --quick --out build/demo/overload_results || overload_status=$?

zmq_status=0
if [ "${#zmq_targets[@]}" -gt 0 ]; then
    echo
    echo "=== example/zmq/run.sh: two serving processes and a client process (remote responders over ZeroMQ)"
    bash example/zmq/run.sh build/demo/example/example_zmq_server build/demo/example/example_zmq_client || zmq_status=$?
    echo
    echo "=== build/demo/bench/duplex_zmq_bench --quick --out build/demo/zmq_bench_results"
    build/demo/bench/duplex_zmq_bench --quick --out build/demo/zmq_bench_results || zmq_status=$?
fi

if [ "$demo_status" -ne 0 ] || [ "$bench_status" -ne 0 ] || [ "$overload_status" -ne 0 ] || [ "$zmq_status" -ne 0 ]; then
    echo "demo.sh: duplex_demo exited with $demo_status, duplex_bench with $bench_status, duplex_overload with $overload_status, the remote example or benchmark with $zmq_status" >&2
    exit 1
fi
