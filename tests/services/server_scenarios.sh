#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# server_scenarios.sh SERVER DRIVE SQLITE3 - lockout, clone detection,
# relying-party sessions by person id (over the HTTPS API), registration
# tokens and garbage on the socket, against a real splitkey-server; the
# outcome is checked in the SQLite database as well as in the replies.
SERVER=$1 DRIVE=$2 SQLITE3=$3
. "$(dirname "$0")/server_lib.sh"

"$SERVER" run --help >"$T/help.txt"
check "run --help lists the clean-up options" grep -q -- "--enrolling-ttl" "$T/help.txt"
"$SERVER" token --help >"$T/help.txt"
check "token --help" grep -q -- "--purpose" "$T/help.txt"
"$SERVER" token --dir "$T/srv" --purpose sign >/dev/null 2>&1
check "token without --subject is a usage error (exit 2)" test $? = 2

start_server --open-enrolment --pool-size 2 --pool-profiles 4K --workers 2 ||
    { echo "server did not start" >&2; exit 1; }

# --- three wrong PINs lock the key; the right PIN is then refused
drive lockout >"$T/lockout.out" 2>&1
check "lockout: the device saw WRONG_PIN x3, then LOCKED and TIMELOCKED" test $? = 0
key=$(sed -n 's/^key //p' "$T/lockout.out")
check "lockout: three wrong-PIN events" \
    test "$(sql "SELECT count(*) FROM events WHERE kind = 6 AND key_id = X'$key'")" = 3
check "lockout: attempts left 2, 1, then 3 before the next lock" \
    test "$(sql "SELECT group_concat(detail) FROM events WHERE kind = 6 AND key_id = X'$key'")" = "2,1,3"
check "lockout: one lock event, in the future" \
    test "$(sql "SELECT count(*) FROM events WHERE kind = 7 AND key_id = X'$key' AND detail > strftime('%s','now')")" = 1
check "lockout: no signature after the proof of possession" \
    test "$(sql "SELECT count(*) FROM events WHERE kind = 5 AND key_id = X'$key'")" = 1
check "lockout: stored base state stays ACTIVE (the lock is derived)" \
    test "$(sql "SELECT state FROM keys WHERE key_id = X'$key'")" = 3

# --- a copy of the device state signs; the original is then a clone
drive clone >"$T/clone.out" 2>&1
check "clone: the original got CLONE_DETECTED, the copy DESTROYED afterwards" test $? = 0
key=$(sed -n 's/^key //p' "$T/clone.out")
check "clone: the key is DESTROYED in the database" \
    test "$(sql "SELECT state FROM keys WHERE key_id = X'$key'")" = 5
check "clone: one clone event" \
    test "$(sql "SELECT count(*) FROM events WHERE kind = 9 AND key_id = X'$key'")" = 1
check "clone: destroyed with reason clone (3)" \
    test "$(sql "SELECT detail FROM events WHERE kind = 8 AND key_id = X'$key'")" = 3
check "clone: certificate revocation recorded with keyCompromise (1)" \
    test "$(sql "SELECT detail FROM events WHERE kind = 10 AND key_id = X'$key'")" = 1
check "clone: the revocation reached the certificate hook" \
    grep -q "key ${key:0:8}: revoke certificate (reason 1)" "$T/server.log"
check "clone: the copy signed once before (2 signatures + proof of possession)" \
    test "$(sql "SELECT count(*) FROM events WHERE kind = 5 AND key_id = X'$key'")" = 3

# --- a relying party on the HTTPS API asks for a signature by person id
drive "${RP_API_ARGS[@]}" rp >"$T/rp.out" 2>&1
check "rp: session by person id, fetched, approved, collected" test $? = 0
key=$(sed -n 's/^key //p' "$T/rp.out")
check "rp: the person id is indexed from the subject's serialNumber" \
    test "$(sql "SELECT count(*) FROM keys WHERE key_id = X'$key' AND person_id GLOB 'PNOLV-[0-9]*-00007'")" = 1
check "rp: a relying-party session was recorded" \
    test "$(sql "SELECT count(*) FROM events WHERE kind = 4 AND detail = 2 AND key_id = X'$key'")" = 1

# --- certificate level and interaction of a relying party's request
drive "${RP_API_ARGS[@]}" --level 2 --expect-level rp >"$T/level.out" 2>&1
check "level: a QUALIFIED request on an openly enrolled key is refused (LEVEL)" test $? = 0
key=$(sed -n 's/^key //p' "$T/level.out")
check "level: one level event (41), detail advanced" \
    test "$(sql "SELECT group_concat(detail) FROM events WHERE kind = 41 AND key_id = X'$key'")" = 1
check "level: no relying-party session was made" \
    test "$(sql "SELECT count(*) FROM events WHERE kind = 4 AND detail = 2 AND key_id = X'$key'")" = 0
drive "${RP_API_ARGS[@]}" --interaction 4 rp >"$T/vc.out" 2>&1
check "interaction: confirmation and VC choice, the relying party's code picked" test $? = 0

# --- garbage, truncated and oversized requests; the server keeps serving
before=$(sql "SELECT count(*) FROM events")
drive --max-request 65536 garbage >"$T/garbage.out" 2>&1
check "garbage: error replies, and the key still signs" test $? = 0
key_events=$(sql "SELECT count(*) FROM events WHERE seq > $before")
check "garbage: bad requests logged no event (only the enrolment and one signing did)" \
    test "$key_events" = "$(sql "SELECT count(*) FROM events WHERE seq > $before AND kind IN (1,2,3,4,5,11)")"
check "garbage: one signing after the proof of possession" \
    test "$(sql "SELECT count(*) FROM events WHERE seq > $before AND kind = 5")" = 2
check "garbage: unknown tags were logged as unknown requests" \
    grep -q 'req kind=unknown key=- outcome=-60' "$T/server.log"
check "garbage: oversized request refused" grep -q 'outcome=-75' "$T/server.log"
check "the server is still running" kill -0 "$SRV_PID"
check "SIGTERM stops the server cleanly" stop_server

# --- registration tokens: without --open-enrolment a token is required,
# works once, and binds the subject
start_server --pool-size 1 --pool-profiles 4K --workers 2 ||
    { echo "server did not restart" >&2; exit 1; }
subject="C=LV,GN=JANIS,SN=OZOLS,serialNumber=PNOLV-$RANDOM$RANDOM-00001"
tok=$(four_eyes_token "$T/srv" "$subject" sign "sqlite:$T/server.db")
check "token: minted" test "${tok:0:5}" = skt2.
"$SERVER" token --dir "$T/srv" --subject x --purpose banana >/dev/null 2>&1
check "token: a bad purpose is a usage error (exit 2)" test $? = 2
drive --give-up 5 sign >/dev/null 2>&1
check "token: enrolment without a token is refused" test $? != 0
check "token: ... and stored no key" \
    test "$(sql "SELECT count(*) FROM keys WHERE person_id LIKE 'PNOLV-%' AND state = 1")" = 0
drive "${RP_API_ARGS[@]}" --token "$tok" --level 2 --interaction 2 rp >"$T/tok.out" 2>&1
check "token: enrolment with the token, then a QUALIFIED VC-choice relying-party signature" test $? = 0
person=${subject##*serialNumber=}
check "token: the key is registered for the token's subject" \
    test "$(sql "SELECT count(*) FROM keys WHERE person_id = '$person' AND state = 3")" = 1
drive --give-up 5 --token "$tok" sign >/dev/null 2>&1
check "token: a second enrolment with the same token is refused" test $? != 0
check "token: exactly one token use recorded" test "$(sql "SELECT count(*) FROM used_tokens")" = 1
check "SIGTERM stops the server cleanly" stop_server
finish
