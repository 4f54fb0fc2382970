#!/usr/bin/env bash
#
# Copyright (c) 2026 The Boost.Duplex developers
#
# Distributed under the Boost Software License, Version 1.0. (See accompanying
# file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
#
# The test command: bash scripts/test.sh
#
# 1. installs the Debian 12 packages that are missing (as root);
# 2. for each compiler: CMake configure (Ninja, -DBOOST_DUPLEX_WERROR=ON),
#    build, and ctest (unit tests, examples, CMake integration tests; with
#    gcc also the benchmark, smoke-run on a hundredth of its counts);
# 3. b2: builds the library, tests and examples, and runs the tests;
# 4. the sans-io core fuzzer (libFuzzer, ASan, UBSan) for a bounded time.
# Exits non-zero when any step failed, after a summary.
#
# Environment (all optional):
#   DUPLEX_COMPILERS="gcc clang"  compilers to use (gcc, clang)
#   DUPLEX_BUILD_TYPE=...         CMake build type for every compiler
#                                 (default: Release for gcc, Debug for clang,
#                                 so both optimised code and assertions are tested)
#   DUPLEX_SKIP_B2=1              skip the b2 build
#   DUPLEX_B2_TOOLSET=gcc         b2 toolset (gcc or clang)
#   DUPLEX_SKIP_DEPS=1            do not check the installed packages
#   DUPLEX_CTEST_ARGS="-R asio"   extra ctest arguments
#   DUPLEX_JOBS=2                 parallel build and test jobs
#   DUPLEX_FUZZ_SECONDS=60        how long the fuzzer runs (0 skips it)

set -uo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

compilers=${DUPLEX_COMPILERS:-gcc clang}
jobs=${DUPLEX_JOBS:-2}
ctest_args=${DUPLEX_CTEST_ARGS:-}

summary=()
failed=0

note() { printf '\n=== %s\n' "$*"; }
pass() { summary+=("PASS  $*"); }
fail() { summary+=("FAIL  $*"); failed=1; }
summary_detail() { local d; for d in "$@"; do summary+=("        ${d#"${d%%[![:space:]]*}"}"); done; }

print_summary() {
    printf '\n================ scripts/test.sh summary ================\n'
    local line
    for line in "${summary[@]}"; do
        printf '%s\n' "$line"
    done
    if [ "$failed" -eq 0 ]; then
        printf 'RESULT: all steps passed\n'
    else
        printf 'RESULT: FAILED\n'
    fi
}

# --- 1. dependencies ---------------------------------------------------------

if [ "${DUPLEX_SKIP_DEPS:-0}" != 1 ]; then
    note "dependencies"
    # shellcheck source=deps.sh
    source "$root/scripts/deps.sh"
    if duplex_install_deps; then
        pass "deps"
    else
        fail "deps (could not install the missing packages)"
        print_summary
        exit 1
    fi
fi

# --- 2. CMake + CTest, per compiler --------------------------------------------

for compiler in $compilers; do
    # The benchmark is built (and smoke-run) with the optimised gcc build.
    case "$compiler" in
        gcc)   cxx=g++;     default_type=Release; bench=ON ;;
        clang) cxx=clang++; default_type=Debug;   bench=OFF ;;
        *)     fail "$compiler: unknown compiler (use gcc or clang)"; continue ;;
    esac
    build_type=${DUPLEX_BUILD_TYPE:-$default_type}
    dir="build/$compiler"

    note "$compiler: configure ($build_type, $dir)"
    if ! cmake -S . -B "$dir" -G Ninja \
            -DCMAKE_CXX_COMPILER="$cxx" \
            -DCMAKE_BUILD_TYPE="$build_type" \
            -DBOOST_DUPLEX_WERROR=ON \
            -DBOOST_DUPLEX_BUILD_TESTS=ON \
            -DBOOST_DUPLEX_BUILD_EXAMPLES=ON \
            -DBOOST_DUPLEX_BUILD_BENCH="$bench"; then
        fail "$compiler: configure"
        continue
    fi

    # -k 0: report every compile error at once. The tests run even after a
    # failed build, so that one broken file does not hide the others' results
    # (a test whose executable is missing then fails).
    note "$compiler: build"
    start=$SECONDS
    if cmake --build "$dir" --parallel "$jobs" -- -k 0; then
        pass "$compiler: build ($((SECONDS - start))s)"
    else
        fail "$compiler: build ($((SECONDS - start))s): see the compiler errors above"
    fi

    note "$compiler: ctest"
    # shellcheck disable=SC2086
    ctest --test-dir "$dir" --output-on-failure -j"$jobs" $ctest_args 2>&1 | tee "$dir/ctest.log"
    rc=${PIPESTATUS[0]}
    ctest_line=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$dir/ctest.log" | tail -n 1)
    if [ "$rc" -eq 0 ] && [ -n "$ctest_line" ]; then
        pass "$compiler: ctest: $ctest_line"
    else
        fail "$compiler: ctest (exit $rc): ${ctest_line:-no tests ran}"
        # The names of the failed tests, as ctest lists them at its end.
        mapfile -t details < <(sed -n '/^The following tests FAILED:/,$p' "$dir/ctest.log" |
            grep -E '^[[:space:]]+[0-9]+ - ')
        summary_detail "${details[@]}"
    fi
done

# --- 3. b2 ---------------------------------------------------------------------

if [ "${DUPLEX_SKIP_B2:-0}" != 1 ]; then
    toolset=${DUPLEX_B2_TOOLSET:-gcc}
    note "b2 ($toolset): library, examples, tests (built and run)"
    start=$SECONDS
    mkdir -p build
    # -l600: no single action (a compile or a test run) may take over 600 s.
    b2 -j"$jobs" -l600 toolset="$toolset" warnings-as-errors=on --build-dir=build/b2 2>&1 | tee build/b2.log
    rc=${PIPESTATUS[0]}
    # b2 runs a test again only when it or what it depends on changed.
    b2_passed="$(grep -c '^\*\*passed\*\*' build/b2.log) tests run and passed (unchanged passed tests are not rerun)"
    if [ "$rc" -eq 0 ]; then
        pass "b2 ($toolset): $((SECONDS - start))s; $b2_passed"
    else
        fail "b2 ($toolset, exit $rc): $b2_passed; $(grep -E '^\.\.\.failed updating' build/b2.log | tail -n 1)"
        mapfile -t details < <(grep -E '^\.\.\.failed ' build/b2.log | grep -v '^\.\.\.failed updating' |
            sed -E 's/^\.\.\.failed ([^ ]+) .*\/([^/]+)\.\.\.$/\1 \2/')
        summary_detail "${details[@]}"
    fi
fi

# --- 4. the core fuzzer ---------------------------------------------------------

fuzz_seconds=${DUPLEX_FUZZ_SECONDS:-60}
if [ "$fuzz_seconds" != 0 ]; then
    note "fuzz: the sans-io core against its model, ${fuzz_seconds}s"
    start=$SECONDS
    mkdir -p build
    bash test/fuzz/run.sh "$fuzz_seconds" > build/fuzz.log 2>&1
    rc=$?
    tail -n 12 build/fuzz.log
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' build/fuzz.log | grep -oE '[0-9]+$' || true)
    if [ "$rc" -eq 0 ]; then
        pass "fuzz: $((SECONDS - start))s; ${runs:-?} inputs, no finding"
    else
        fail "fuzz (exit $rc): see build/fuzz.log; the input is in build/fuzz/artifacts/"
    fi
fi

print_summary
exit "$failed"
