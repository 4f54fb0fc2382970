#!/usr/bin/env bash
#
# Copyright (c) 2026 The Boost.Duplex developers
#
# Distributed under the Boost Software License, Version 1.0. (See accompanying
# file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
#
# The remote example as the test command runs it: two serving processes on
# free ports, the client process against both, then a graceful stop.
#   bash example/zmq/run.sh <example_zmq_server> <example_zmq_client>
set -u
server=$1 client=$2
dir=$(mktemp -d)
trap 'kill $p1 $p2 2>/dev/null; rm -rf "$dir"' EXIT
"$server" 'tcp://127.0.0.1:*' > "$dir/s1" 2> "$dir/e1" & p1=$!
"$server" 'tcp://127.0.0.1:*' > "$dir/s2" 2> "$dir/e2" & p2=$!
endpoint() {
    for _ in $(seq 100); do
        line=$(head -n 1 "$1" 2>/dev/null)
        [ -n "$line" ] && { echo "${line#listening }"; return 0; }
        sleep 0.1
    done
    return 1
}
e1=$(endpoint "$dir/s1") && e2=$(endpoint "$dir/s2") || { echo "servers did not start"; exit 1; }
echo "servers at $e1 and $e2"
"$client" "$e1" "$e2"; rc=$?
kill -TERM $p1 $p2
wait $p1; r1=$?
wait $p2; r2=$?
cat "$dir/e1" "$dir/e2"
echo "client exit $rc, servers exit $r1 $r2"
[ $rc -eq 0 ] && [ $r1 -eq 0 ] && [ $r2 -eq 0 ]
