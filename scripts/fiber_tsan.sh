#!/usr/bin/env bash
#
# Copyright (c) 2026 The Boost.Duplex developers
#
# Distributed under the Boost Software License, Version 1.0. (See accompanying
# file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
#
# Builds Boost.Context and Boost.Fiber 1.81 from Debian's source package with
# ThreadSanitizer, for the tsan build of the test command (scripts/test.sh),
# which then runs the Fiber backend's tests under TSan (test/sanitizers/
# README.md says why and what this covers):
#
#   bash scripts/fiber_tsan.sh [DIR]     (default DIR: build/fiber-tsan)
#
# Result: DIR/lib/libboost_context.a and DIR/lib/libboost_fiber.a, to be given
# to CMake as -DBOOST_DUPLEX_FIBER_TSAN_ROOT=DIR. Both are compiled with
#
#   clang++ -std=c++20 -O1 -g -fsanitize=thread -fno-omit-frame-pointer -fPIC
#           -DBOOST_USE_UCONTEXT -DBOOST_USE_TSAN
#
# i.e. Boost.Context's ucontext implementation (makecontext/swapcontext, whose
# switches <boost/context/fiber_ucontext.hpp> announces to TSan with
# __tsan_create_fiber/__tsan_switch_to_fiber under BOOST_USE_TSAN) instead of
# Debian's fcontext assembler, and every line of Boost.Fiber instrumented.
# Every program linked against them must be compiled with the same two
# macros (they change the layout of Boost.Context's records), which
# BOOST_DUPLEX_FIBER_TSAN_ROOT does.
#
# Sources: `apt-get source --download-only boost1.81` (the version of the
# installed libboost1.81-dev; a deb-src entry for bookworm is added under
# /etc/apt/sources.list.d/ when apt has none, which needs root); only
# libs/context/src and libs/fiber/src are taken from the orig tarball (no
# Debian patch touches them). The headers are the installed ones
# (/usr/include/boost), identical to the tarball's for both libraries, so
# that the libraries and the tests see the same declarations.
#
# Idempotent: nothing is done when DIR/stamp records the same inputs (this
# script, the compiler, the Boost package version). About 2 minutes the
# first time on 2 cores (most of it compiling), nothing afterwards.
#
# Environment: CXX (default clang++), DUPLEX_JOBS (default 2).

duplex_fiber_tsan_build() {
    local root dest cxx jobs
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    dest=$(mkdir -p "${1:-$root/build/fiber-tsan}" && cd "${1:-$root/build/fiber-tsan}" && pwd)
    cxx=${CXX:-clang++}
    jobs=${DUPLEX_JOBS:-2}

    local version
    version=$(dpkg-query -W -f='${Version}' libboost1.81-dev 2>/dev/null || true)
    if [ -z "$version" ]; then
        echo "fiber-tsan: libboost1.81-dev is not installed" >&2
        return 1
    fi

    local flags=(-std=c++20 -O1 -g -fsanitize=thread -fno-omit-frame-pointer -fPIC
                 -DBOOST_USE_UCONTEXT -DBOOST_USE_TSAN)
    local key
    key=$( { cat "${BASH_SOURCE[0]}" "$root/scripts/fiber_tsan_check.cpp"; "$cxx" --version | head -n 1; echo "$version ${flags[*]}"; } | sha256sum | cut -d' ' -f1)
    if [ -f "$dest/stamp" ] && [ "$(cat "$dest/stamp")" = "$key" ] &&
       [ -f "$dest/lib/libboost_fiber.a" ] && [ -f "$dest/lib/libboost_context.a" ]; then
        echo "fiber-tsan: up to date ($dest/lib, Boost $version)"
        return 0
    fi
    rm -rf "${dest:?}/lib" "${dest:?}/obj" "${dest:?}/stamp"

    # --- the sources -------------------------------------------------------
    local src=$dest/src
    mkdir -p "$src"
    local orig
    orig=$(find "$src" -maxdepth 1 -name 'boost1.81_*.orig.tar.xz' | head -n 1)
    if [ -z "$orig" ]; then
        if ! apt-cache showsrc boost1.81 2>/dev/null | grep -q '^Package: boost1.81'; then
            if [ "$(id -u)" -ne 0 ]; then
                echo "fiber-tsan: apt knows no source package boost1.81 and this is not root:" >&2
                echo "            add a deb-src entry for bookworm and run apt-get update" >&2
                return 1
            fi
            echo "fiber-tsan: adding /etc/apt/sources.list.d/duplex-deb-src.sources (deb-src, bookworm)"
            cat > /etc/apt/sources.list.d/duplex-deb-src.sources <<'EOF'
# Added by Boost.Duplex's scripts/fiber_tsan.sh: Debian's source packages
# (apt-get source boost1.81), for the ThreadSanitizer build of Boost.Fiber.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
            apt-get update -q
        fi
        # The version installed, not whatever is newest.
        (cd "$src" && apt-get source -q --download-only "boost1.81=$version")
        orig=$(find "$src" -maxdepth 1 -name 'boost1.81_*.orig.tar.xz' | head -n 1)
        [ -n "$orig" ] || { echo "fiber-tsan: apt-get source left no orig tarball in $src" >&2; return 1; }
    fi
    if [ ! -f "$src/boost/libs/fiber/src/fiber.cpp" ]; then
        echo "fiber-tsan: extracting libs/context/src and libs/fiber/src from $(basename "$orig")"
        tar -xJf "$orig" -C "$src" boost/libs/context/src boost/libs/fiber/src
    fi

    # --- the headers: five patched copies over /usr/include ------------------
    # ThreadSanitizer (clang 14 and later) does not model std::atomic_thread_
    # fence: its runtime's AtomicFence is a plain barrier ("FIXME: not
    # implemented"). Boost.Fiber synchronises with fences in two idioms, so
    # TSan misses a happens-before that the C++ memory model guarantees and
    # reports the accesses it orders (seen: a worker fiber's context destroyed
    # by fiber::join() on one thread after the other thread's dispatcher
    # stored its continuation, in fiber_threads' work_stealing test):
    #  - the reference counts: fetch_sub(1, release), then, by the thread that
    #    drops the last reference, atomic_thread_fence(acquire) before the
    #    destruction. Made fetch_sub(1, acq_rel) (the fence stays): the same
    #    synchronisation for the last decrement, which TSan sees;
    #  - work_stealing's Chase-Lev deque: push() publishes with
    #    atomic_thread_fence(release) then bottom_.store(relaxed), steal()
    #    reads bottom_ with acquire. Made bottom_.store(release) after the
    #    fence: the same ordering of the pushed context's writes before a
    #    thief's read, as a store TSan sees.
    # Nothing else differs from the installed headers, which the libraries
    # and the tests both use (the copies come first on the include path).
    local inc=$dest/include
    rm -rf "$inc"
    local h
    for h in context.hpp algo/algorithm.hpp future/detail/shared_state.hpp detail/fss.hpp; do
        mkdir -p "$(dirname "$inc/boost/fiber/$h")"
        sed 's/use_count_\.fetch_sub( 1, std::memory_order_release)/use_count_.fetch_sub( 1, std::memory_order_acq_rel)/' \
            "/usr/include/boost/fiber/$h" > "$inc/boost/fiber/$h"
        if ! grep -q 'fetch_sub( 1, std::memory_order_acq_rel)' "$inc/boost/fiber/$h"; then
            echo "fiber-tsan: patching boost/fiber/$h found nothing to patch" >&2
            return 1
        fi
    done
    mkdir -p "$inc/boost/fiber/detail"
    awk '/std::atomic_thread_fence\( std::memory_order_release\);/ { print; fence = 1; next }
         fence && /bottom_\.store\( bottom \+ 1, std::memory_order_relaxed\);/ {
             sub(/std::memory_order_relaxed/, "std::memory_order_release"); n++ }
         { fence = 0; print }
         END { exit n == 1 ? 0 : 1 }' /usr/include/boost/fiber/detail/context_spmc_queue.hpp \
        > "$inc/boost/fiber/detail/context_spmc_queue.hpp" || {
        echo "fiber-tsan: patching boost/fiber/detail/context_spmc_queue.hpp did not find push()'s store" >&2
        return 1
    }
    flags+=(-isystem "$inc")

    # --- the build ------------------------------------------------------------
    # What b2 builds for link=static context-impl=ucontext on Linux (the
    # Jamfiles of libs/context and libs/fiber): no assembler, no NUMA.
    local context_srcs=(continuation.cpp fiber.cpp posix/stack_traits.cpp)
    local fiber_srcs=(algo/algorithm.cpp algo/round_robin.cpp algo/shared_work.cpp
                      algo/work_stealing.cpp barrier.cpp condition_variable.cpp context.cpp
                      fiber.cpp waker.cpp future.cpp mutex.cpp properties.cpp
                      recursive_mutex.cpp recursive_timed_mutex.cpp timed_mutex.cpp scheduler.cpp)
    mkdir -p "$dest/obj/context" "$dest/obj/fiber" "$dest/lib"
    local jobs_list=() s
    for s in "${context_srcs[@]}"; do
        jobs_list+=("-DBOOST_CONTEXT_SOURCE $src/boost/libs/context/src/$s $dest/obj/context/${s//\//_}.o")
    done
    for s in "${fiber_srcs[@]}"; do
        jobs_list+=("-DBOOST_FIBERS_SOURCE $src/boost/libs/fiber/src/$s $dest/obj/fiber/${s//\//_}.o")
    done
    echo "fiber-tsan: compiling ${#jobs_list[@]} files ($jobs at a time): $cxx ${flags[*]}"
    local job def in out running=0 status=0
    for job in "${jobs_list[@]}"; do
        read -r def in out <<< "$job"
        if [ "$running" -ge "$jobs" ]; then
            wait -n || status=1
            running=$((running - 1))
        fi
        echo "  ${in#"$src/boost/"}"
        "$cxx" "${flags[@]}" "$def" -c "$in" -o "$out" &
        running=$((running + 1))
    done
    while [ "$running" -gt 0 ]; do
        wait -n || status=1
        running=$((running - 1))
    done
    if [ "$status" -ne 0 ]; then
        echo "fiber-tsan: compilation failed" >&2
        return 1
    fi
    ar rcs "$dest/lib/libboost_context.a" "$dest"/obj/context/*.o
    ar rcs "$dest/lib/libboost_fiber.a" "$dest"/obj/fiber/*.o

    # --- the check: TSan follows the fibers --------------------------------
    # scripts/fiber_tsan_check.cpp: a race between fibers on two threads must
    # be reported, the same under a fibers::mutex must not.
    local race
    for race in 1 0; do
        "$cxx" "${flags[@]}" -DRACE=$race "$root/scripts/fiber_tsan_check.cpp" \
            "$dest/lib/libboost_fiber.a" "$dest/lib/libboost_context.a" -pthread \
            -o "$dest/obj/check_race$race" || { echo "fiber-tsan: the check does not build" >&2; return 1; }
        # (exit status 66 when TSan reported: the log says which)
        TSAN_OPTIONS=halt_on_error=0 "$dest/obj/check_race$race" > "$dest/obj/check_race$race.log" 2>&1 || true
        if [ "$race" = 1 ] && ! grep -q 'WARNING: ThreadSanitizer: data race' "$dest/obj/check_race1.log"; then
            echo "fiber-tsan: check failed: TSan missed a race between fibers on two threads ($dest/obj/check_race1.log)" >&2
            return 1
        fi
        if [ "$race" = 0 ] && grep -q 'ThreadSanitizer' "$dest/obj/check_race0.log"; then
            echo "fiber-tsan: check failed: TSan reported fibers synchronised by a fibers::mutex ($dest/obj/check_race0.log)" >&2
            return 1
        fi
    done
    echo "fiber-tsan: check passed (a race between fibers is reported, fibers::mutex is understood)"

    echo "$key" > "$dest/stamp"
    echo "fiber-tsan: built $dest/lib/libboost_context.a and $dest/lib/libboost_fiber.a"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    duplex_fiber_tsan_build "$@"
fi
