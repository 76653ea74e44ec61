#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e_longpoll.sh - the relying-party API's long poll (GET session/ID?
# timeoutMs=) against a real splitkey-server whose relying-party listener
# has 4 workers, so one relying party may park one status request at a
# time (a quarter of them):
#   - a status request parked while the person approves returns COMPLETE,
#     and splitkey-rp, which long-polls, gets its signature;
#   - with its one place taken by a parked request, the relying party's
#     second status request is answered at once (RUNNING), long before the
#     wait it asked for, and the device is still served meanwhile;
#   - SIGTERM while a status request is parked: the server answers or
#     closes it before its wait ends, and exits 0.
# The bounds below are the waits the requests asked for (60 s), so each
# says which way a request ended, not how fast the machine is.
. "$(dirname "$0")/e2e_lib.sh"
V2_CLIENT="$(dirname "$0")/../rp/v2_client.py"
e2e_pins
SERVER_ARGS=(--rp-workers 4)
e2e_start_server
RP_API_ARGS+=(--level advanced) # openly enrolled keys are ADVANCED
DEV="$T/dev"
check "enrol sign" e2e_enrol "$DEV" sign "$T/pin2"
check "pubkey sign" "$CLIENT" pubkey --state "$DEV" --purpose sign --out "$T/sign.pub"

# status SID TIMEOUT_MS OUT: one status request as the test relying party;
# OUT gets the HTTP status, the JSON body and the seconds it took
status() {
  local t0=$SECONDS
  python3 "$V2_CLIENT" --base "$RPURL" --pin "$RP_PIN" --cert "$T/rp-test.crt" \
    --key "$T/rp-test.key" --uuid "$RP_TEST_UUID" --name Bank \
    status "$1" --timeout-ms "$2" >"$3" 2>"$3.err"
  echo "$((SECONDS - t0))" >>"$3"
}
state_of() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("state", ""))' "$(sed -n 2p "$1")"; }
uuid_of() { sed -n 's/^session \([0-9a-f-]\{36\}\) for .*$/\1/p' "$T/$1.out"; }

# wait_gone PID: the process ends; the bound (120 s) is only there so a hang
# fails instead of blocking: a stop waits for the server-key pool filler to
# finish the key it is making, which under a sanitizer on a loaded machine
# can take tens of seconds.
wait_gone() {
  local i
  for i in $(seq 1 1200); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

# --- a parked status request woken by the approval ----------------------------
rp_start lp sign --person "$PERSON" --purpose sign --in "$T/doc.txt" --out "$T/lp.sig" \
  --pub "$T/sign.pub"
SID=$(uuid_of lp)
assert "splitkey-rp printed the session" -n "$SID"
# splitkey-rp itself long-polls: its place is taken, so this one (another
# connection of the same relying party) is answered at once
status "$SID" 60000 "$T/second"
assert "a second status request is answered with 200" "$(sed -n 1p "$T/second")" = 200
assert "it says RUNNING" "$(state_of "$T/second")" = RUNNING
assert "it was not held for its 60 s wait ($(sed -n 3p "$T/second") s)" "$(sed -n 3p "$T/second")" -lt 60
check "the device is served while a status request is parked" \
  "$CLIENT" approve "$RP_SID" --state "$DEV" --pin-file "$T/pin2"
rp_wait
assert "splitkey-rp gets the signature (exit $RP_EXIT)" "$RP_EXIT" -eq 0
check "openssl verifies the signature" openssl_verify "$T/sign.pub" pkcs1 sha256 "$T/doc.txt" "$T/lp.sig"

# the same with a status request of our own parked before the approval
rp_start lp2 sign --person "$PERSON" --purpose sign --in "$T/doc.txt" --out "$T/lp2.sig" \
  --pub "$T/sign.pub" --timeout 3
SID=$(uuid_of lp2)
rp_wait # splitkey-rp gives up after 3 s: the place is free again
assert "splitkey-rp gave up (exit $RP_EXIT)" "$RP_EXIT" -eq 6
status "$SID" 60000 "$T/parked" &
LP=$!
sleep 1
check "approve while our status request is parked" \
  "$CLIENT" approve "$RP_SID" --state "$DEV" --pin-file "$T/pin2"
wait "$LP"
assert "the parked request returns 200" "$(sed -n 1p "$T/parked")" = 200
assert "it returns COMPLETE: woken by the approval" "$(state_of "$T/parked")" = COMPLETE
assert "before its 60 s wait ended ($(sed -n 3p "$T/parked") s)" "$(sed -n 3p "$T/parked")" -lt 60

# --- SIGTERM while a status request is parked -------------------------------------
rp_start term sign --person "$PERSON" --purpose sign --in "$T/doc.txt" --out "$T/term.sig" \
  --pub "$T/sign.pub" --timeout 2
SID=$(uuid_of term)
rp_wait
status "$SID" 60000 "$T/term-status" &
LP=$!
sleep 1.5 # parked now
t0=$SECONDS
kill -TERM "$SERVER_PID"
if wait_gone "$SERVER_PID"; then
  wait "$SERVER_PID"
  assert "the server exits 0 on SIGTERM with a parked status request" "$?" -eq 0
else
  fail "the server did not stop with a parked status request"
  kill -KILL "$SERVER_PID" 2>/dev/null
fi
SERVER_PID=
assert "the stop did not wait for the parked request's 60 s ($((SECONDS - t0)) s)" \
  "$((SECONDS - t0))" -lt 60
check "the server logged its stop" grep -q "stopped" "$T/server.log"
wait "$LP"
assert "the parked request ended before its wait ($(sed -n 3p "$T/term-status") s)" \
  "$(sed -n 3p "$T/term-status")" -lt 60
assert "no signature without an answer" ! -e "$T/term.sig"
e2e_finish
