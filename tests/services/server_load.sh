#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# server_load.sh SERVER DRIVE SQLITE3 [CLIENTS] [SIGNS-EACH] - 1,000
# signings (8 x 125) from 8 concurrent clients, each with its own key,
# against one server with several workers: no error, no resend, every
# signature verified, and the database agrees.  Prints the rate seen.
SERVER=$1 DRIVE=$2 SQLITE3=$3 CLIENTS=${4:-8} EACH=${5:-125}
. "$(dirname "$0")/server_lib.sh"

start_server --open-enrolment --pool-size "$CLIENTS" --pool-profiles 4K --workers 4 ||
    { echo "server did not start" >&2; exit 1; }
drive --threads "$CLIENTS" --signs "$EACH" --timeout 30000 sign >"$T/drive.out" 2>&1
rc=$?
cat "$T/drive.out"
total=$((CLIENTS * EACH))
check "all clients finished" test $rc = 0
summary=$(grep '^signed ' "$T/drive.out")
check "$total signatures" test "$(echo "$summary" | awk '{print $2}')" = "$total"
check "no request needed a resend (0 failures)" test "$(echo "$summary" | awk '{print $4}')" = 0
check "0 errors" test "$(echo "$summary" | awk '{print $6}')" = 0
check "every signature verified" test "$(echo "$summary" | awk '{print $8}')" = 0
check "the database counts $total signatures (+ $CLIENTS proofs of possession)" \
    test "$(sql "SELECT count(*) FROM events WHERE kind = 5")" = $((total + CLIENTS))
check "$CLIENTS distinct ACTIVE keys" \
    test "$(sql "SELECT count(*) FROM keys WHERE state = 3")" = "$CLIENTS"
check "no error outcome in the request log" bash -c "! grep -q 'outcome=-' '$T/server.log'"
echo "rate: $(echo "$summary" | awk '{print $12}') signings/s with $CLIENTS clients"
check "SIGTERM stops the server cleanly" stop_server
finish
