#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e_lost_reply.sh - a reply that never reaches the device.  A proxy
# (e2e_lostproxy.py) loses the server's replies to approvals after the server
# handled them: splitkey-client sends the same request again (same request
# id, same one-time password) and gets the stored reply, not a clone verdict;
# when every retry is lost too, the next command with the PIN finishes the
# earlier request first, and commands without the PIN say so.
. "$(dirname "$0")/e2e_lib.sh"
e2e_pins
e2e_start_server
DEV="$T/dev"
check "enrol sign" e2e_enrol "$DEV" sign "$T/pin2"
check "pubkey" "$CLIENT" pubkey --state "$DEV" --purpose sign --out "$T/sign.pub"
SERVER_PORT=${URL##*:}

# start_proxy DROP: the device talks to the server through a proxy that
# loses the first DROP approval replies.
start_proxy() {
  [ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
  rm -f "$T/proxy.port"
  python3 "$(dirname "$0")/e2e_lostproxy.py" "$SERVER_PORT" "$1" "$T/proxy.port" &
  PROXY_PID=$!
  local i
  for i in $(seq 1 200); do [ -s "$T/proxy.port" ] && break; sleep 0.05; done
  printf 'tcp://127.0.0.1:%s\n' "$(cat "$T/proxy.port")" >"$DEV/sign.server"
}
trap '[ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null; e2e_cleanup' EXIT
export SPLITKEY_CLIENT_TIMEOUT_MS=1500

# one reply lost: the retry gets the stored reply
start_proxy 1
check "sign with one lost reply" "$CLIENT" sign --state "$DEV" --purpose sign --pin-file "$T/pin2" \
  --in "$T/doc.txt" --out "$T/one.sig"
grep_last "sending the same request again" "the lost reply was asked for again"
check "openssl verifies it" openssl_verify "$T/sign.pub" pss sha256 "$T/doc.txt" "$T/one.sig"
check "the next signature is no clone" "$CLIENT" sign --state "$DEV" --purpose sign \
  --pin-file "$T/pin2" --in "$T/doc.txt" --out "$T/two.sig"

# every reply lost: the command fails, the request stays in flight
start_proxy 3
expect_exit 1 "sign with every reply lost" "$CLIENT" sign --state "$DEV" --purpose sign \
  --pin-file "$T/pin2" --in "$T/doc.txt" --out "$T/three.sig"
assert "no signature without a reply" ! -e "$T/three.sig"
expect_exit 2 "a command without the PIN meanwhile" "$CLIENT" sessions --state "$DEV"
grep_last "never got its reply" "the waiting request is explained"
# the next command with the PIN resends it first, then does its own work
check "sign again finishes the earlier request" "$CLIENT" sign --state "$DEV" --purpose sign \
  --pin-file "$T/pin2" --in "$T/doc.txt" --out "$T/four.sig"
grep_last "earlier request had no reply" "the earlier request was resent"
check "openssl verifies the new signature" openssl_verify "$T/sign.pub" pss sha256 "$T/doc.txt" "$T/four.sig"
check "status" "$CLIENT" status --state "$DEV" --purpose sign
grep_last "state: *ACTIVE" "the key is active, not destroyed"
grep_last "attempts left: 3" "no PIN failure was counted"

# the same again, finished by an approval of a relying party's session
start_proxy 3
expect_exit 1 "sign with every reply lost, again" "$CLIENT" sign --state "$DEV" --purpose sign \
  --pin-file "$T/pin2" --in "$T/doc.txt" --out "$T/five.sig"
rp_start rp sign --person "$PERSON" --purpose sign --in "$T/doc.txt" --out "$T/rp.sig" \
  --pub "$T/sign.pub" --level advanced || fail "no session from splitkey-rp"
check "approve finishes the earlier request first" "$CLIENT" approve "$RP_SID" --state "$DEV" \
  --pin-file "$T/pin2"
grep_last "earlier request had no reply" "the earlier approval was resent by approve"
rp_wait
assert "the relying party got a verified signature" "$RP_EXIT" -eq 0
check "openssl verifies the relying party's signature" openssl_verify "$T/sign.pub" pkcs1 sha256 \
  "$T/doc.txt" "$T/rp.sig"
e2e_finish
