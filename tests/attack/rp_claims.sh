#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# rp_claims.sh BIN_DIR - attacks on the relying-party HTTPS API's
# authentication and name claims (doc/security.md, "Relying parties").  Each
# attack must fail and leave the store without a session it could use:
#   - a certificate with the registered one's subject but another key
#   - a registered relying party using another's UUID, or its name
#   - a registered relying party reading another's session result
#   - an address-registered relying party's UUID from another address
#   - a removed relying party
#   - the legacy unauthenticated frames on the device socket
#   - a relying party whose pin does not match (a server in the middle)
#   - a relying party asking too high a certificate level in a loop: each
#     is refused (471), and the event log gets at most one level event
#     (41) a second from it
. "$(dirname "$0")/../rp/rp_lib.sh"
e2e_pins
rp_init
rp_cert bank "Bank A"
rp_cert forged "Bank A"   # same subject, another key
rp_cert shop
UA=6e80a354-4fb2-4bde-b087-ad526b708f9e
UB=7f91b465-50c3-4cef-8198-be637c819fa0
UC=80a2c576-61d4-4d0f-92a9-cf748d92a0b1
check "rp add bank" "$SERVER" rp add --dir "$SRV" --uuid "$UA" --names "Bank A" \
  --cert "$T/bank.crt" --levels ADVANCED
check "rp add shop" "$SERVER" rp add --dir "$SRV" --uuid "$UB" --names "Shop B" \
  --cert "$T/shop.crt" --levels ADVANCED
check "rp add portal by address" "$SERVER" rp add --dir "$SRV" --uuid "$UC" --names Portal \
  --addresses 127.0.0.2 --levels ADVANCED
rp_start
DEV="$T/dev"
check "enrol auth" e2e_enrol "$DEV" auth "$T/pin1"
check "pubkey auth" "$CLIENT" pubkey --state "$DEV" --purpose auth --out "$T/auth.pub"
BASE=$(count_sessions)
head -c 32 /dev/urandom >"$T/h"
req() { "$@" create authentication etsi "$PERSON" --hash-file "$T/h" --level ADVANCED; }

# 1. a forged certificate: the bank's subject, not its key
req v2 forged "$UA" "Bank A"
expect_status 401 "the bank's UUID with a certificate of the same subject and another key"
# 2. the shop claims to be the bank: its UUID, then its name
req v2 shop "$UA" "Bank A"
expect_status 401 "the shop with the bank's UUID"
req v2 shop "$UB" "Bank A"
expect_status 403 "the shop with the bank's name"
req v2 shop "$UB" "Bank A Online"
expect_status 403 "the shop with a name registered for nobody"
# 3. the address-registered portal from another address, and without any
req v2 - "$UC" Portal
expect_status 401 "the portal's UUID from an address not registered"
req v2 bank "$UC" Portal
expect_status 401 "the portal's UUID with the bank's certificate from another address"
assert "no session was created by any of these" "$(count_sessions)" -eq "$BASE"
check "nothing is offered to the device" sh -c "! '$CLIENT' sessions --state '$DEV' | grep -qE '^[0-9a-f]{32} '"
assert "the refusals are in the event log" "$(count_events 36)" -ge 1

# the genuine bank, with a name in another case: the device shows the
# registered spelling
req v2 bank "$UA" "BANK A"
expect_status 200 "the genuine bank"
SID=$(jget sessionID)
check "the device shows the registered name" \
  sh -c "'$CLIENT' sessions --state '$DEV' | grep -q '^$(hexid "$SID") .*  Bank A: '"
check "approve" "$CLIENT" approve "$(hexid "$SID")" --state "$DEV" --pin-file "$T/pin1"
# 4. the shop asks for the bank's result (it knows the session id)
v2 shop "$UB" "Shop B" status "$SID" --timeout-ms 1000
expect_status 404 "the shop reading the bank's session"
assert "no signature given to the shop" -z "$(jget signature)"
v2 forged "$UA" "Bank A" status "$SID" --timeout-ms 1000
expect_status 401 "the forged certificate reading the bank's session"
v2 bank "$UA" "Bank A" status "$SID" --timeout-ms 5000
assert "the bank gets its result" "$(jget result.endResult)" = OK
check "and it verifies" verify_sig "$T/auth.pub" sha256 "$T/h" "$(jget signature.value)"

# the portal from its registered address is served
V2_SOURCE=127.0.0.2 v2 - "$UC" Portal create authentication etsi "$PERSON" \
  --hash-file "$T/h" --level ADVANCED --nonce portal
expect_status 200 "the portal from its registered address"
check "refuse the portal's session" "$CLIENT" refuse "$(hexid "$(jget sessionID)")" --state "$DEV"

# 5. a removed relying party is refused at once
check "rp remove shop" "$SERVER" rp remove --dir "$SRV" --uuid "$UB"
before=$(count_sessions)
req v2 shop "$UB" "Shop B"
expect_status 401 "the removed shop"
assert "nothing stored for the removed shop" "$(count_sessions)" -eq "$before"

# 6. splitkey-rp as a registered bank, naming itself with a name that is
# not one of the bank's: refused (403), and nothing stored.  (The old
# frames, where anyone could name any relying party, are refused outright:
# attack_legacy_rp.)
expect_exit 1 "splitkey-rp with a name not registered for its UUID" "$RP" auth \
  --api "$RPURL/v2/" --server-cert-sha256 "$PIN" --rp-cert "$T/bank.crt" --rp-key "$T/bank.key" \
  --rp-uuid "$UA" --name "Bank Z" --person "$PERSON" --pub "$T/auth.pub" --level advanced \
  --timeout 2
grep_last "HTTP 403" "refused with 403"
assert "no session from a made-up name" "$(count_sessions)" -eq "$before"

# 7. a relying party that pins another certificate talks to nobody
out=$(python3 "$V2_CLIENT" --base "$RPURL" --pin "$(printf '%064d' 0)" --cert "$T/bank.crt" \
  --key "$T/bank.key" --uuid "$UA" --name "Bank A" create authentication etsi "$PERSON" \
  --hash-file "$T/h" --level ADVANCED 2>&1)
rc=$?
assert "a pin mismatch stops the client before it sends anything (exit 3)" "$rc" -eq 3
assert "nothing stored for it" "$(count_sessions)" -eq "$before"

# 8. plain HTTP on the TLS port gets no answer
python3 - "$RPURL" <<'PYEOF' || fail "plain HTTP was answered"
import socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
s = socket.create_connection((u.hostname, u.port), timeout=15)
try:
    s.sendall(b"GET /v2/session/x HTTP/1.1\r\nHost: x\r\n\r\n")
    data = s.recv(4096)
except OSError:  # reset: the TLS handshake failed
    data = b""
sys.exit(1 if data.startswith(b"HTTP/") else 0)
PYEOF
CHECKS=$((CHECKS + 1))

# 9. connections that trickle their handshake cannot hold the workers: with
# two workers, two such connections (from two addresses) are dropped 10 s
# after they came, and the bank's request waiting behind them is served
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
rp_start --rp-workers 2
TRICKLERS=()
for src in 127.0.0.2 127.0.0.3; do
  python3 - "$RPURL" "$src" <<'PYEOF2' &
import socket, sys, time, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
s = socket.socket()
s.bind((sys.argv[2], 0))
s.connect((u.hostname, u.port))
try:
    for _ in range(300):  # one byte a second, for as long as the server lets it
        s.send(b"\x16")
        time.sleep(1)
except OSError:
    pass
PYEOF2
  TRICKLERS+=($!)
done
sleep 1
v2 bank "$UA" "Bank A" create authentication etsi "$PERSON" --hash-file "$T/h" --level ADVANCED \
  --nonce behind-tricklers
expect_status 200 "the bank is served although two connections trickle"
wait "${TRICKLERS[@]}"

# 10. a relying party allowed QUALIFIED asks it in a loop of a person whose
# key is ADVANCED: every request is 471, and event 41 is logged at most once
# a second for it (the count a second window can reach, plus one)
rp_cert lender
UD=91b3d687-72e5-4e1e-a3ba-d0b85ab1b1c2
check "rp add lender (both levels, a high rate)" "$SERVER" rp add --dir "$SRV" --uuid "$UD" \
  --names Lender --cert "$T/lender.crt" --levels ADVANCED,QUALIFIED --rate 1000
ev0=$(count_events 41)
s0=$(count_sessions)
t0=$SECONDS
refused=0
for i in $(seq 1 25); do
  v2 lender "$UD" Lender create authentication etsi "$PERSON" --hash-file "$T/h" \
    --level QUALIFIED --nonce "level-$i"
  [ "$STATUS" = 471 ] && refused=$((refused + 1))
done
elapsed=$((SECONDS - t0))
assert "all 25 refused with 471" "$refused" -eq 25
ev=$(( $(count_events 41) - ev0 ))
assert "at least one level event logged" "$ev" -ge 1
assert "at most one level event a second ($ev in about $elapsed s)" "$ev" -le $((elapsed + 2))
assert "and fewer than the refusals" "$ev" -lt 25
assert "no session from any of them" "$(count_sessions)" -eq "$s0"
e2e_finish
