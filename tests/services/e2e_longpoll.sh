#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e_longpoll.sh - the relying party's long poll (SessionPoll.wait_ms)
# against a real splitkey-server with two workers, so at most one poll is
# parked at a time:
#   - a signature approved while splitkey-rp's poll is parked reaches it
#     with a handful of polls, not one every 300 ms;
#   - with the one parkable worker taken by a poll, the device is still
#     served (its approval goes through the other worker);
#   - a second relying party beyond the cap is answered at once and still
#     gets its result;
#   - SIGTERM while a poll is parked: the poll is answered before its wait
#     ends, and the server exits 0.
. "$(dirname "$0")/e2e_lib.sh"
e2e_pins
SERVER_ARGS=(--workers 2)
LEGACY_RP=(--legacy-rp) # splitkey-rp --server still speaks the old frames
e2e_start_server
DEV="$T/dev"
check "enrol sign" e2e_enrol "$DEV" sign "$T/pin2"
check "pubkey sign" "$CLIENT" pubkey --state "$DEV" --purpose sign --out "$T/sign.pub"
check "two workers" grep -q "with 2 workers" "$T/server.log"

# polls logged so far (one "kind=session-result" line per relying-party poll;
# the device never sends one of that kind here: no refusals)
polls() { grep -c "req kind=session-result" "$T/server.log"; }

rp_start() {
  local name=$1
  shift
  "$RP" "$@" >"$T/$name.out" 2>"$T/$name.err" &
  RP_PID=$!
  if ! wait_for_line "$T/$name.out" "verification code:" "$RP_PID"; then
    fail "$name: no verification code printed"
    cat "$T/$name.out" "$T/$name.err" >&2
  fi
  RP_SID=$(sed -n 's/^session \([0-9a-f]\{32\}\) for .*$/\1/p' "$T/$name.out")
}

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

# --- one signature, the poll parked while the person approves -----------------
before=$(polls)
rp_start lp sign --server "$URL" --person "$PERSON" --purpose sign --in "$T/doc.txt" \
  --out "$T/lp.sig" --pub "$T/sign.pub"
assert "session listed" -n "$RP_SID"
sleep 1.5 # the person takes a while; a 300 ms loop would poll five times meanwhile
check "approve while the poll is parked" "$CLIENT" approve "$RP_SID" --state "$DEV" --pin-file "$T/pin2"
wait "$RP_PID"
assert "splitkey-rp exits 0" "$?" -eq 0
check "openssl verifies the signature" openssl_verify "$T/sign.pub" pss sha256 "$T/doc.txt" "$T/lp.sig"
n=$(( $(polls) - before ))
assert "at most 3 polls for one signing (got $n)" "$n" -le 3
assert "at least one poll (got $n)" "$n" -ge 1

# --- two relying parties: one parks, the other is beyond the cap --------------
before=$(polls)
rp_start a sign --server "$URL" --person "$PERSON" --purpose sign --in "$T/doc.txt" \
  --out "$T/a.sig" --pub "$T/sign.pub"
PID_A=$RP_PID SID_A=$RP_SID
rp_start b sign --server "$URL" --person "$PERSON" --purpose sign --in "$T/doc.txt" \
  --out "$T/b.sig" --pub "$T/sign.pub" --scheme pkcs1
PID_B=$RP_PID SID_B=$RP_SID
sleep 2 # one poll parks, the other is answered at once and comes back every 300 ms
check "approve the first (a poll parked, the other answered at once)" \
  "$CLIENT" approve "$SID_A" --state "$DEV" --pin-file "$T/pin2"
check "approve the second" "$CLIENT" approve "$SID_B" --state "$DEV" --pin-file "$T/pin2"
wait "$PID_A"
assert "first relying party exits 0" "$?" -eq 0
wait "$PID_B"
assert "second relying party exits 0" "$?" -eq 0
check "first signature verifies" openssl_verify "$T/sign.pub" pss sha256 "$T/doc.txt" "$T/a.sig"
check "second signature verifies" openssl_verify "$T/sign.pub" pkcs1 sha256 "$T/doc.txt" "$T/b.sig"
n=$(( $(polls) - before ))
assert "beyond the cap polls are still answered (got $n polls)" "$n" -ge 3

# --- SIGTERM while a poll is parked -------------------------------------------------
rp_start term sign --server "$URL" --person "$PERSON" --purpose sign --in "$T/doc.txt" \
  --out "$T/term.sig" --pub "$T/sign.pub" --timeout 12
before=$(polls)
sleep 2 # the first poll is parked now; it asked the server to hold it 10 s
kill -TERM "$SERVER_PID"
if wait_gone "$SERVER_PID"; then
  wait "$SERVER_PID"
  assert "the server exits 0 on SIGTERM with a parked poll" "$?" -eq 0
else
  fail "the server did not stop with a parked poll"
  kill -KILL "$SERVER_PID" 2>/dev/null
fi
SERVER_PID=
check "the server logged its stop" grep -q "stopped" "$T/server.log"
# the parked poll was answered on the stop, not by the end of its wait: its
# log line follows the signal, and it was held for less than the 10 s wait it
# asked for (a poll that ran out its wait would show at least that)
us=$(sed -n '/signal 15: stopping/,$p' "$T/server.log" | sed -n 's/.*req kind=session-result .* us=\([0-9]*\)$/\1/p' | head -n 1)
assert "the parked poll is answered on the stop" -n "$us"
assert "before its 10 s wait ended (${us:-?} us)" "${us:-99999999}" -lt 10000000
if wait_gone "$RP_PID"; then
  wait "$RP_PID"
  rc=$?
  assert "splitkey-rp gives up without a server (exit $rc)" "$rc" -eq 6
else
  fail "splitkey-rp hangs without a server"
  kill -KILL "$RP_PID" 2>/dev/null
fi
assert "no signature without an answer" ! -e "$T/term.sig"
e2e_finish
