#!/usr/bin/env bash
#
# Copyright (c) 2026 The Boost.Duplex developers
#
# Distributed under the Boost Software License, Version 1.0. (See accompanying
# file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
#
# Installs the Debian 12 packages that building and testing Boost.Duplex
# needs, when some are missing. Idempotent; needs root only when it has to
# install something. Sourced by test.sh and demo.sh, or run on its own.

duplex_packages=(
    g++
    clang
    libclang-rt-14-dev
    cmake
    ninja-build
    libboost1.81-dev
    libboost-system1.81-dev
    libboost-context1.81-dev
    libboost-fiber1.81-dev
    libboost-test1.81-dev
    libboost1.81-tools-dev
    libboost-json1.81-dev
    libzmq3-dev
    cppzmq-dev
)

duplex_install_deps() {
    local missing=() pkg
    for pkg in "${duplex_packages[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        echo "deps: all packages present"
        return 0
    fi
    echo "deps: installing ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: not root: run as root, or install them yourself:" >&2
        echo "      apt-get install -y ${missing[*]}" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    duplex_install_deps
fi
