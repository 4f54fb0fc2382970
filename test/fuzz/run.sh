#!/bin/sh
# Builds the sans-io core fuzzer (test/fuzz/core_fuzzer.cpp) with clang's
# libFuzzer + ASan + UBSan and runs it for a bounded time, starting from the
# committed seed corpus (test/fuzz/corpus/core, never written to).
#
#   test/fuzz/run.sh [SECONDS]          # default 60
#
# Environment: CXX (default clang++), BUILD_DIR (default build/fuzz),
# DUPLEX_FUZZ_RELAXED_FIFO=1 (do not check take() order across the queue and
# the waiting-for-room list), DUPLEX_FUZZ_TRACE=1 (print every step; use it to
# replay one input: $BUILD_DIR/core_fuzzer FILE).
# Exit status: 0 when nothing was found; non-zero on a finding (the input is
# left in $BUILD_DIR/artifacts/) or a build failure.
# Needs libclang-rt-14-dev (Debian) for -fsanitize=fuzzer.
set -eu
seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
cxx=${CXX:-clang++}
build=${BUILD_DIR:-$root/build/fuzz}
mkdir -p "$build/corpus" "$build/artifacts"
"$cxx" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root/include" "$root/test/fuzz/core_fuzzer.cpp" -o "$build/core_fuzzer"
# New inputs go to $build/corpus (first directory); the seed corpus is only read.
exec "$build/core_fuzzer" -max_total_time="$seconds" -max_len=512 -timeout=10 -rss_limit_mb=1024 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/" \
    "$build/corpus" "$root/test/fuzz/corpus/core"
