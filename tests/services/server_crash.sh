#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# server_crash.sh SERVER DRIVE SQLITE3 [SIGNS] - kill -9 of the share server
# at random moments during SIGNS (200) signings, restarted each time on the
# same database and port.  The device (sk_drive) resends whatever got no
# reply.  Afterwards: every signature the device got back verifies (sk_drive
# checks), the database counts exactly the signatures the device
# acknowledged, and there was no false clone alarm, no wrong PIN and no
# destroyed key.
SERVER=$1 DRIVE=$2 SQLITE3=$3 SIGNS=${4:-200}
. "$(dirname "$0")/server_lib.sh"

start_server --open-enrolment --pool-size 1 --pool-profiles 4K --workers 2 ||
    { echo "server did not start" >&2; exit 1; }

drive --timeout 1500 --give-up 300 --signs "$SIGNS" --ready "$T/enrolled" sign \
    >"$T/drive.out" 2>"$T/drive.err" &
DRIVE_PID=$!
while [ ! -e "$T/enrolled" ] && kill -0 "$DRIVE_PID" 2>/dev/null; do sleep 0.02; done

kills=0
restart_failures=0
while kill -0 "$DRIVE_PID" 2>/dev/null; do
    # a random moment: 0 to 250 ms after the server came up
    sleep "0.$(printf '%03d' $((RANDOM % 250)))"
    kill -0 "$DRIVE_PID" 2>/dev/null || break
    kill -9 "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
    SRV_PID=
    kills=$((kills + 1))
    # the same port again (a restart may race the old socket's release)
    until start_server --open-enrolment --pool-size 1 --pool-profiles 4K --workers 2; do
        restart_failures=$((restart_failures + 1))
        [ $restart_failures -gt 200 ] && { fail "the server does not restart"; break 2; }
        sleep 0.1
    done
done
wait "$DRIVE_PID"
drive_rc=$?
cat "$T/drive.out"
[ "$drive_rc" = 0 ] || { echo "--- sk_drive stderr"; cat "$T/drive.err"; }
echo "server killed $kills times"

check "the device finished all $SIGNS signings, each verified" test $drive_rc = 0
check "killed at least 5 times during the run" test $kills -ge 5
line=$(grep '^key ' "$T/drive.out")
key=$(echo "$line" | awk '{print $2}')
acked=$(echo "$line" | awk '{print $4}')
check "acknowledged $SIGNS signatures" test "$acked" = "$SIGNS"
stored=$(sql "SELECT count(*) FROM events WHERE kind = 5 AND key_id = X'$key'")
check "the database holds exactly the acknowledged signatures (+ proof of possession): $stored" \
    test "$stored" = $((SIGNS + 1))
check "no clone alarm" test "$(sql "SELECT count(*) FROM events WHERE kind = 9")" = 0
check "no wrong PIN counted" test "$(sql "SELECT count(*) FROM events WHERE kind = 6")" = 0
check "no key destroyed" test "$(sql "SELECT count(*) FROM keys WHERE state = 5")" = 0
check "the key is ACTIVE" test "$(sql "SELECT state FROM keys WHERE key_id = X'$key'")" = 3
check "every completed session is one signature event" \
    test "$(sql "SELECT count(*) FROM sessions WHERE key_id = X'$key' AND state = 2")" = "$stored"
check "the key record was updated once per stored change (version grows)" \
    test "$(sql "SELECT version FROM keys WHERE key_id = X'$key'")" -gt $((2 * SIGNS))
if ! store_pg; then # SQLite's own check of the file
    check "database integrity" test "$(sql "PRAGMA integrity_check")" = ok
fi
# the restarted server still enrols and signs
check "the restarted server still enrols and signs" drive --signs 1 sign
check "SIGTERM stops the server cleanly" stop_server
finish
