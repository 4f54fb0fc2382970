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
# 2. CMake configure (Ninja, -DBOOST_DUPLEX_WERROR=ON), build and ctest, once
#    per build of DUPLEX_BUILDS:
#      gcc   g++ Release: unit tests, examples, the chaos soak, CMake
#            integration tests, and the benchmark smoke-run on a hundredth of
#            its counts (build/gcc);
#      asan  clang++ Debug with AddressSanitizer + UndefinedBehaviorSanitizer
#            (-DBOOST_DUPLEX_SANITIZE=address,undefined): every test of the
#            tree, the soak included (build/asan);
#      tsan  clang++ Debug with ThreadSanitizer (-DBOOST_DUPLEX_SANITIZE=thread):
#            first scripts/fiber_tsan.sh builds Boost.Context (its ucontext
#            implementation) and Boost.Fiber 1.81 from Debian's source package
#            with -fsanitize=thread -DBOOST_USE_UCONTEXT -DBOOST_USE_TSAN
#            (build/fiber-tsan, once: cached), for TSan to follow the fiber
#            switches and the library's locks (Debian's libraries switch
#            with fcontext, uninstrumented); then every test, the Fiber
#            backend's included, against them
#            (-DBOOST_DUPLEX_FIBER_TSAN_ROOT=build/fiber-tsan), with the soak's
#            halves as two tests (soak_short_asio, soak_short_fiber), but for
#            the CMake integration tests (asan runs them); built are only the
#            executables of the tests it runs (build/tsan). See
#            test/sanitizers/README.md. Should the Boost build fail, the
#            Fiber backend is left out of this build (and the step fails);
#      clang plain clang++ Debug (not in the default list: asan covers it).
#    A sanitizer report fails its test: zero reports is the only pass, and
#    no report is suppressed.
# 3. b2: builds the library, tests and examples, and runs the tests;
# 4. the sans-io core fuzzer (libFuzzer, ASan, UBSan) for a bounded time.
# Exits non-zero when any step failed, after a summary.
#
# Environment (all optional):
#   DUPLEX_BUILDS="gcc asan tsan" the CMake builds to run (gcc, asan, tsan, clang);
#                                 DUPLEX_COMPILERS, its old name, is still read
#   DUPLEX_BUILD_TYPE=...         CMake build type for every build
#                                 (default: Release for gcc, Debug for the
#                                 clang ones, so both optimised code and
#                                 assertions are tested)
#   DUPLEX_SKIP_B2=1              skip the b2 build
#   DUPLEX_B2_TOOLSET=gcc         b2 toolset (gcc or clang)
#   DUPLEX_SKIP_DEPS=1            do not check the installed packages
#   DUPLEX_CTEST_ARGS="-R asio"   extra ctest arguments (every build)
#   DUPLEX_JOBS=2                 parallel build and test jobs
#   DUPLEX_FUZZ_SECONDS=60        how long the fuzzer runs (0 skips it)
#   DUPLEX_FIBER_TSAN=0           tsan: leave the Fiber backend out (no
#                                 Boost build from source)
# Sanitizer run-time options: the test command sets these for the asan and
# tsan builds unless they are already set (see test/sanitizers/README.md):
#   ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0:strict_init_order=1
#                 (stack-use-after-return detection stays off: Boost.Fiber
#                 switches stacks without telling ASan, which then reports
#                 false stack-use-after-return in the fiber tests)
#   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
#   TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

set -uo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

builds=${DUPLEX_BUILDS:-${DUPLEX_COMPILERS:-gcc asan tsan}}
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

# --- 2. CMake + CTest, per build ---------------------------------------------

: "${ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0:strict_init_order=1}"
: "${UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1}"
: "${TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1}"
export ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS

# The executables that the tests ctest would run (with the given selection)
# start: the targets to build, so that a new test needs no change here.
# (ctest -N -V names each test's command, or, before the build, the
# executable it could not find.)
ctest_targets() {
    local dir=$1; shift
    # shellcheck disable=SC2086
    ctest --test-dir "$dir" -N -V "$@" $ctest_args 2>&1 |
        sed -n -E -e 's/^[0-9]+: Test command: "?([^" ]+).*/\1/p' -e 's/^Could not find executable ([^ ]+).*/\1/p' |
        while read -r exe; do
            case "$exe" in
                "$root/$dir"/*) basename "$exe" ;;  # our executables, not cmake -P
            esac
        done | sort -u
}

for build in $builds; do
    # The benchmark is built (and smoke-run) with the optimised gcc build.
    sanitize=""
    extra=()    # more CMake arguments
    select=()   # ctest selection; empty: every test
    case "$build" in
        gcc)   cxx=g++;     default_type=Release; bench=ON;  dir=build/gcc ;;
        clang) cxx=clang++; default_type=Debug;   bench=OFF; dir=build/clang ;;
        asan)  cxx=clang++; default_type=Debug;   bench=OFF; dir=build/asan; sanitize="address,undefined" ;;
        tsan)  cxx=clang++; default_type=Debug;   bench=OFF; dir=build/tsan; sanitize="thread"
               # Boost.Context (ucontext) and Boost.Fiber built with TSan
               # (scripts/fiber_tsan.sh, cached in build/fiber-tsan): every
               # test but the CMake integration tests, which build without
               # sanitizers (asan runs them), and soak_short, whose halves run
               # as soak_short_asio and soak_short_fiber. Should that build
               # fail, the Fiber backend is left out as it was before
               # (DUPLEX_FIBER_TSAN=0 does so on purpose): its tests, its
               # examples and the soak's Fiber half.
               start=$SECONDS
               if [ "${DUPLEX_FIBER_TSAN:-1}" = 0 ]; then
                   note "tsan: the Fiber backend is left out (DUPLEX_FIBER_TSAN=0)"
                   summary+=("SKIP  tsan: Fiber backend (DUPLEX_FIBER_TSAN=0)")
                   fiber_tsan_root=""
               elif note "tsan: Boost.Context and Boost.Fiber with ThreadSanitizer (build/fiber-tsan)" &&
                    CXX=$cxx DUPLEX_JOBS=$jobs bash "$root/scripts/fiber_tsan.sh" "$root/build/fiber-tsan"; then
                   pass "tsan: Boost.Context + Boost.Fiber with TSan ($((SECONDS - start))s)"
                   fiber_tsan_root=$root/build/fiber-tsan
               else
                   fail "tsan: Boost.Context + Boost.Fiber with TSan ($((SECONDS - start))s): the Fiber backend is left out"
                   fiber_tsan_root=""
               fi
               # The remote part's tests (label zmq) are left out too:
               # libzmq is not built with TSan, and message buffers cross
               # threads through its lock-free pipes, which TSan cannot see
               # (it reports the hand-off itself as a race). asan and gcc run them.
               extra=(-DBOOST_DUPLEX_FIBER_TSAN_ROOT="$fiber_tsan_root")
               if [ -n "$fiber_tsan_root" ]; then
                   select=(-LE 'cmake|zmq' -E '^soak_short$')
               else
                   select=(-LE 'fiber|cmake|zmq' -E '^(example_fiber_.*|soak_short)$')
               fi ;;
        *)     fail "$build: unknown build (use gcc, asan, tsan or clang)"; continue ;;
    esac
    build_type=${DUPLEX_BUILD_TYPE:-$default_type}

    note "$build: configure ($cxx $build_type${sanitize:+, sanitizers $sanitize}, $dir)"
    if ! cmake -S . -B "$dir" -G Ninja \
            -DCMAKE_CXX_COMPILER="$cxx" \
            -DCMAKE_BUILD_TYPE="$build_type" \
            -DBOOST_DUPLEX_WERROR=ON \
            -DBOOST_DUPLEX_SANITIZE="$sanitize" \
            -DBOOST_DUPLEX_BUILD_TESTS=ON \
            -DBOOST_DUPLEX_BUILD_EXAMPLES=ON \
            -DBOOST_DUPLEX_BUILD_BENCH="$bench" \
            "${extra[@]}"; then
        fail "$build: configure"
        continue
    fi

    # -k 0: report every compile error at once. The tests run even after a
    # failed build, so that one broken file does not hide the others' results
    # (a test whose executable is missing then fails).
    targets=()
    if [ "${#select[@]}" -gt 0 ]; then
        mapfile -t targets < <(ctest_targets "$dir" "${select[@]}")
        if [ "${#targets[@]}" -eq 0 ]; then
            fail "$build: no test selected"
            continue
        fi
        note "$build: build ${#targets[@]} targets: ${targets[*]}"
        targets=(--target "${targets[@]}")
    else
        note "$build: build"
    fi
    start=$SECONDS
    if cmake --build "$dir" --parallel "$jobs" "${targets[@]}" -- -k 0; then
        pass "$build: build ($((SECONDS - start))s)"
    else
        fail "$build: build ($((SECONDS - start))s): see the compiler errors above"
    fi

    note "$build: ctest"
    start=$SECONDS
    # shellcheck disable=SC2086
    ctest --test-dir "$dir" --output-on-failure -j"$jobs" "${select[@]}" $ctest_args 2>&1 | tee "$dir/ctest.log"
    rc=${PIPESTATUS[0]}
    ctest_line=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$dir/ctest.log" | tail -n 1)
    # A sanitizer report fails its test (exit code), but say so in the summary too.
    reports=$(grep -cE '^(==[0-9]+==ERROR: [A-Za-z]+Sanitizer|WARNING: ThreadSanitizer|SUMMARY: [A-Za-z]+Sanitizer)|runtime error: ' "$dir/ctest.log")
    if [ "$rc" -eq 0 ] && [ -n "$ctest_line" ] && [ "$reports" -eq 0 ]; then
        pass "$build: ctest ($((SECONDS - start))s): $ctest_line"
    else
        fail "$build: ctest (exit $rc, ${reports} sanitizer report lines): ${ctest_line:-no tests ran}"
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
