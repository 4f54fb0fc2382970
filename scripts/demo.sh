#!/usr/bin/env bash
#
# Copyright (c) 2026 The Boost.Duplex developers
#
# Distributed under the Boost Software License, Version 1.0. (See accompanying
# file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
#
# The demo command: bash scripts/demo.sh [demo arguments]
#
# Installs the Debian 12 packages that are missing (as root), builds
# example/demo.cpp (target duplex_demo) with g++ in Release mode under
# build/demo, and runs it.
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
    -DBOOST_DUPLEX_BUILD_EXAMPLES=ON

cmake --build build/demo --parallel 2 --target duplex_demo

echo
echo "=== build/demo/example/duplex_demo $*"
exec build/demo/example/duplex_demo "$@"
