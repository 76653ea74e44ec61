#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# rp_v2_api.sh BIN_DIR - the relying-party HTTPS API (doc/rp-api.md) end to
# end: a relying party using v2_client.py (written from the public v2
# description) authenticates a person, asks for a certificate choice and a
# signature, and splitkey-client approves them on the device; openssl
# verifies every signature under the device's public key.  Then every
# status code, idempotent retries, the long poll woken by the device's
# answer, the registry read again after rp add/remove and SIGHUP, and
# that the old relying-party frames are refused.  Refused requests must leave
# the store as it was.
. "$(dirname "$0")/rp_lib.sh"
e2e_pins
rp_init
rp_cert rpa
rp_cert rpb
rp_cert other
UA=1f1bfa89-4f8b-420a-a98e-fb3a161a30bc
UB=2a4c6f10-0b7e-4d9a-9c43-6f1e2d3c4b5a
UC=3b5d7021-1c8f-4eab-8d54-7a2f3e4d5c6b
check "rp add A" "$SERVER" rp add --dir "$SRV" --uuid "$UA" --names 'Bank A|Bank A Online' \
  --cert "$T/rpa.crt" --levels ADVANCED
check "rp add B (auth only)" "$SERVER" rp add --dir "$SRV" --uuid "$UB" --names 'Shop B' \
  --cert-sha256 "$(openssl x509 -in "$T/rpb.crt" -outform DER | sha256sum | cut -c1-64)" \
  --purposes auth
expect_exit 2 "rp add with two credentials" "$SERVER" rp add --dir "$SRV" --names X \
  --cert "$T/rpa.crt" --addresses 127.0.0.1
expect_exit 2 "rp add with a name of 33 bytes" "$SERVER" rp add --dir "$SRV" \
  --names 123456789012345678901234567890123 --cert "$T/rpa.crt"
expect_exit 1 "rp add with a UUID registered already" "$SERVER" rp add --dir "$SRV" \
  --uuid "$UA" --names X --cert "$T/rpa.crt"
check "rp list" "$SERVER" rp list --dir "$SRV"
grep_last "$UA \"Bank A|Bank A Online\" cert:" "rp list shows A"
grep_last "$UB \"Shop B\" cert:.* ADVANCED,QUALIFIED auth rate=10 pending=50" "rp list shows B"

rp_start
check "the pin is the certificate's SHA-256" test "$PIN" = \
  "$(openssl x509 -in "$SRV/rp-tls.crt" -outform DER | sha256sum | cut -c1-64)"
DEV="$T/dev"
check "enrol auth" e2e_enrol "$DEV" auth "$T/pin1"
check "enrol sign" e2e_enrol "$DEV" sign "$T/pin2"
check "pubkey auth" "$CLIENT" pubkey --state "$DEV" --purpose auth --out "$T/auth.pub"
check "pubkey sign" "$CLIENT" pubkey --state "$DEV" --purpose sign --out "$T/sign.pub"
AUTHID=$("$CLIENT" status --state "$DEV" --purpose auth | awk '$1 == "key" && $2 == "id:" { print toupper(substr($3, 1, 8)) }')
SIGNID=$("$CLIENT" status --state "$DEV" --purpose sign | awk '$1 == "key" && $2 == "id:" { print toupper(substr($3, 1, 8)) }')

A() { v2 rpa "$UA" "${NAME_A:-bank a}" "$@"; }
B() { v2 rpb "$UB" "Shop B" "$@"; }

# --- authentication, long poll woken by the approval ---------------------
head -c 32 /dev/urandom >"$T/h-auth"
A create authentication etsi "$PERSON" --hash-file "$T/h-auth" --level ADVANCED \
  --text "Log in to Bank A"
expect_status 200 "authentication created"
SID=$(jget sessionID)
assert "sessionID is a UUID" -n "$(grep -E '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' <<<"$SID")"
check "the device lists it" sh -c "'$CLIENT' sessions --state '$DEV' | grep -q '^$(hexid "$SID") '"
VC=$(python3 "$V2_CLIENT" --base x --pin 00 vc --hash-file "$T/h-auth")
assert "the device shows the relying party's code" \
  "$("$CLIENT" sessions --state "$DEV" | awk -v s="$(hexid "$SID")" '$1 == s { print $4 }')" = "$VC"
check "the device shows the registered name, not the one sent" \
  sh -c "'$CLIENT' sessions --state '$DEV' | grep -q 'Bank A: Log in to Bank A'"
A status "$SID" --timeout-ms 1000
expect_status 200 "status while running"
assert "RUNNING before the answer" "$(jget state)" = RUNNING
# one long poll, asked before the approval: it returns COMPLETE, so it was
# woken by the approval (else it would say RUNNING after 120 s)
( A status "$SID" --timeout-ms 120000; printf '%s\n%s\n' "$STATUS" "$BODY" >"$T/lp.out" ) &
LP=$!
sleep 1
check "approve the authentication" "$CLIENT" approve "$(hexid "$SID")" --state "$DEV" \
  --pin-file "$T/pin1"
wait "$LP"
STATUS=$(sed -n 1p "$T/lp.out")
BODY=$(sed -n 2p "$T/lp.out")
expect_status 200 "long poll"
assert "the long poll returns COMPLETE" "$(jget state)" = COMPLETE
assert "endResult OK" "$(jget result.endResult)" = OK
assert "documentNumber of the auth key" "$(jget result.documentNumber)" = "$PERSON-$AUTHID-A"
assert "interactionFlowUsed" "$(jget interactionFlowUsed)" = displayTextAndPIN
assert "algorithm" "$(jget signature.algorithm)" = sha256WithRSAEncryption
check "openssl verifies the authentication" verify_sig "$T/auth.pub" sha256 "$T/h-auth" \
  "$(jget signature.value)"
A status "$SID"
assert "the result stays available" "$(jget result.endResult)" = OK

# --- certificate choice, then a signature by document number --------------
A create certificatechoice etsi "$PERSON" --level ADVANCED
expect_status 200 "certificate choice created"
A status "$(jget sessionID)"
assert "certificate choice is COMPLETE at once" "$(jget state)" = COMPLETE
assert "certificate choice OK" "$(jget result.endResult)" = OK
DOC=$(jget result.documentNumber)
assert "the signing key's document number" "$DOC" = "$PERSON-$SIGNID-A"
assert "no certificate without a CA" -z "$(jget cert)"
assert "event 39 logged" "$(count_events 39)" -eq 1

printf 'Sale contract 42\n' | openssl dgst -sha512 -binary >"$T/h-sign"
A create signature document "$DOC" --hash-file "$T/h-sign" --hash-type SHA512 --level ADVANCED \
  --interactions '[{"type":"confirmationMessage","displayText200":"Sign contract 42?"},{"type":"displayTextAndPIN","displayText60":"Sign contract 42"}]' \
  --props '{"vcChoice":true,"shareMdClientIpAddress":true}'
expect_status 200 "signature created"
SID=$(jget sessionID)
check "approve the signature" "$CLIENT" approve "$(hexid "$SID")" --state "$DEV" --pin-file "$T/pin2" \
  --confirm
A status "$SID" --timeout-ms 5000
assert "signature OK" "$(jget result.endResult)" = OK
assert "the first interaction is the one used" "$(jget interactionFlowUsed)" = confirmationMessage
assert "ignoredProperties" "$(jget ignoredProperties)" = '["vcChoice", "shareMdClientIpAddress"]'
assert "sha512WithRSAEncryption" "$(jget signature.algorithm)" = sha512WithRSAEncryption
check "openssl verifies the signature (SHA-512)" verify_sig "$T/sign.pub" sha512 "$T/h-sign" \
  "$(jget signature.value)"

printf 'x' | openssl dgst -sha384 -binary >"$T/h384"
A create signature etsi "$PERSON" --hash-file "$T/h384" --hash-type SHA384 --level ADVANCED
SID=$(jget sessionID)
check "approve SHA-384" "$CLIENT" approve "$(hexid "$SID")" --state "$DEV" --pin-file "$T/pin2"
A status "$SID" --timeout-ms 5000
check "openssl verifies the signature (SHA-384)" verify_sig "$T/sign.pub" sha384 "$T/h384" \
  "$(jget signature.value)"

# --- refusal, expiry of the wait, no supported interaction -------------------
A create authentication document "$PERSON-$AUTHID-A" --hash-file "$T/h-auth" --level ADVANCED \
  --nonce refuse-me
SID=$(jget sessionID)
check "refuse" "$CLIENT" refuse "$(hexid "$SID")" --state "$DEV"
A status "$SID" --timeout-ms 5000
assert "refused on the PIN screen" "$(jget result.endResult)" = USER_REFUSED_DISPLAYTEXTANDPIN
assert "no signature after a refusal" -z "$(jget signature)"

# --- the other interactions ---------------------------------------------------
# verification-code choice: the person picks the relying party's code
head -c 32 /dev/urandom >"$T/h-vc"
VC=$(python3 "$V2_CLIENT" --base x --pin 00 vc --hash-file "$T/h-vc")
A create authentication etsi "$PERSON" --hash-file "$T/h-vc" --level ADVANCED \
  --interactions '[{"type":"verificationCodeChoice","displayText60":"Log in, pick the code"}]'
expect_status 200 "a verification-code choice"
SID=$(jget sessionID)
check "the device offers three codes, the relying party's among them" \
  sh -c "'$CLIENT' sessions --state '$DEV' | grep -A1 '^$(hexid "$SID") ' | grep -q 'choices.*$VC'"
check "approve with the right code" "$CLIENT" approve "$(hexid "$SID")" --state "$DEV" \
  --pin-file "$T/pin1" --vc "$VC"
A status "$SID" --timeout-ms 5000
assert "VC choice OK" "$(jget result.endResult)" = OK
assert "interactionFlowUsed verificationCodeChoice" "$(jget interactionFlowUsed)" = \
  verificationCodeChoice
check "openssl verifies the VC-choice authentication" verify_sig "$T/auth.pub" sha256 "$T/h-vc" \
  "$(jget signature.value)"
# a wrong pick ends the session WRONG_VC
A create authentication etsi "$PERSON" --hash-file "$T/h-vc" --level ADVANCED --nonce wrong \
  --interactions '[{"type":"verificationCodeChoice","displayText60":"Log in, pick the code"}]'
SID=$(jget sessionID)
WRONG=$("$CLIENT" sessions --state "$DEV" | grep -A1 "^$(hexid "$SID") " |
  sed -n 's/.*choices //p' | tr ' ' '\n' | grep -v "^$VC\$" | head -n 1)
"$CLIENT" approve "$(hexid "$SID")" --state "$DEV" --pin-file "$T/pin1" --vc "$WRONG" \
  >/dev/null 2>&1
A status "$SID" --timeout-ms 5000
assert "a wrong pick ends WRONG_VC" "$(jget result.endResult)" = WRONG_VC
# confirmation message: first in the list, so it is used
A create signature etsi "$PERSON" --hash-file "$T/h-sign" --hash-type SHA512 --level ADVANCED \
  --interactions '[{"type":"confirmationMessage","displayText200":"Do you agree to buy one bicycle for 350 EUR from Example Shop, delivered within ten working days to your home address?"},{"type":"displayTextAndPIN","displayText60":"Buy a bicycle"}]'
SID=$(jget sessionID)
check "approve the confirmation message" "$CLIENT" approve "$(hexid "$SID")" --state "$DEV" \
  --pin-file "$T/pin2" --confirm
A status "$SID" --timeout-ms 5000
assert "confirmation OK" "$(jget result.endResult)" = OK
assert "interactionFlowUsed confirmationMessage" "$(jget interactionFlowUsed)" = \
  confirmationMessage
check "openssl verifies the confirmed signature" verify_sig "$T/sign.pub" sha512 "$T/h-sign" \
  "$(jget signature.value)"
A create signature etsi "$PERSON" --hash-file "$T/h-sign" --hash-type SHA512 --level ADVANCED \
  --nonce no --interactions '[{"type":"confirmationMessage","displayText200":"Agree?"}]'
SID=$(jget sessionID)
check "refuse the confirmation message" "$CLIENT" refuse "$(hexid "$SID")" --state "$DEV"
A status "$SID" --timeout-ms 5000
assert "refused on the confirmation screen" "$(jget result.endResult)" = \
  USER_REFUSED_CONFIRMATIONMESSAGE

# --- idempotency ----------------------------------------------------------
head -c 32 /dev/urandom >"$T/h-idem"
before=$(count_sessions)
A create authentication etsi "$PERSON" --hash-file "$T/h-idem" --level ADVANCED --nonce one
S1=$(jget sessionID)
A create authentication etsi "$PERSON" --hash-file "$T/h-idem" --level ADVANCED --nonce one
S2=$(jget sessionID)
assert "a repeated identical create gives the same session" "$S1" = "$S2"
assert "and stores one session" "$(count_sessions)" -eq $((before + 1))
A create authentication etsi "$PERSON" --hash-file "$T/h-idem" --level ADVANCED --nonce two
S3=$(jget sessionID)
assert "another nonce makes a new session" "$S3" != "$S1"
assert "stored as a second session" "$(count_sessions)" -eq $((before + 2))
# those two are pending for the person: the per-person limit (2) now refuses
A create authentication etsi "$PERSON" --hash-file "$T/h-idem" --level ADVANCED --nonce three
expect_status 403 "a third running session of A for the person"
grep -q "for this person" <<<"$(jget detail)" || fail "the detail names the per-person limit"
check "refuse S1" "$CLIENT" refuse "$(hexid "$S1")" --state "$DEV"
check "refuse S3" "$CLIENT" refuse "$(hexid "$S3")" --state "$DEV"
A status "$S1"
A status "$S3"

# --- every status code; refused requests store nothing ---------------------
before=$(count_sessions)
A raw POST /v2/authentication/etsi/"$PERSON" 'not json'
expect_status 400 "a body that is not JSON"
A create authentication etsi "$PERSON" --hash-b64 AAAA --level ADVANCED
expect_status 400 "a hash of the wrong length"
A create authentication etsi "$PERSON" --hash-file "$T/h-auth" --hash-type MD5 --level ADVANCED
expect_status 400 "an unknown hashType"
A create authentication etsi "$PERSON" --hash-file "$T/h-auth" --level ADVANCED \
  --interactions '[{"type":"dance","displayText60":"x"}]'
expect_status 400 "an unknown interaction"
A create authentication etsi "$PERSON" --hash-file "$T/h-auth" --level ADVANCED \
  --text "$(printf 'x%.0s' $(seq 61))"
expect_status 400 "displayText60 of 61 characters"
A create authentication etsi "$PERSON" --hash-file "$T/h-auth" --level ADVANCED \
  --nonce 1234567890123456789012345678901
expect_status 400 "a nonce of 31 characters"
A create authentication etsi "$PERSON" --hash-file "$T/h-auth" --level SUPREME
expect_status 400 "an unknown certificateLevel"
A create authentication etsi "$PERSON" --hash-file "$T/h-auth" --level ADVANCED \
  --extra '{"relyingPartyUUID":"not-a-uuid"}'
expect_status 400 "a malformed relyingPartyUUID"
A status "$S1" --timeout-ms 999
expect_status 400 "timeoutMs below 1000"
A status "$S1" --timeout-ms 120001
expect_status 400 "timeoutMs above 120000"
A create authentication etsi "$PERSON" --hash-file "$T/h-auth" --level ADVANCED \
  --extra '{"unknownField":1,"capabilities":[]}'
expect_status 200 "unknown fields are ignored"
check "refuse it" "$CLIENT" refuse "$(hexid "$(jget sessionID)")" --state "$DEV"
before=$(count_sessions)
v2 rpa 00000000-0000-4000-8000-000000000000 "Bank A" create authentication etsi "$PERSON" \
  --hash-file "$T/h-auth" --level ADVANCED
expect_status 401 "an unknown relyingPartyUUID"
v2 rpb "$UA" "Bank A" create authentication etsi "$PERSON" --hash-file "$T/h-auth" --level ADVANCED
expect_status 401 "A's UUID with B's certificate"
v2 - "$UA" "Bank A" create authentication etsi "$PERSON" --hash-file "$T/h-auth" --level ADVANCED
expect_status 401 "A's UUID without a certificate"
NAME_A="Bank B" A create authentication etsi "$PERSON" --hash-file "$T/h-auth" --level ADVANCED
expect_status 403 "a name not registered for A"
A create authentication etsi "$PERSON" --hash-file "$T/h-auth" --level QUALIFIED
expect_status 403 "a level A may not ask for"
B create signature etsi "$PERSON" --hash-file "$T/h-auth" --level ADVANCED
expect_status 403 "a purpose B may not use"
A create authentication private/JIO "JIOIDNR-1234" --hash-file "$T/h-auth" --level ADVANCED
expect_status 403 "a private identifier"
A create authentication etsi PNOLV-999999-99999 --hash-file "$T/h-auth" --level ADVANCED
expect_status 404 "an unknown person"
A create signature document "$PERSON-00000000-A" --hash-file "$T/h-auth" --level ADVANCED
expect_status 404 "a document number of no key"
A create signature document "$PERSON-$SIGNID-Q" --hash-file "$T/h-auth" --level ADVANCED
expect_status 404 "a document number with the wrong level"
A status 00000000-0000-4000-8000-000000000000
expect_status 404 "an unknown session"
B status "$S1"
expect_status 404 "A's session asked for by B"
A raw GET /v2/nothing
expect_status 404 "an unknown path"
A raw GET "/v2/authentication/etsi/$PERSON"
expect_status 405 "GET on a create endpoint"
grep -q "allow POST" "$T/v2.err" || fail "405 names POST in Allow"
A raw DELETE "/v2/session/$S1"
expect_status 405 "DELETE on a session"
grep -q "allow GET" "$T/v2.err" || fail "405 names GET in Allow"
B create authentication etsi "$PERSON" --hash-file "$T/h-auth"
expect_status 471 "QUALIFIED asked (the default), the person's key is ADVANCED"
A raw GET /v1/session/x
expect_status 480 "an RP API v1 path"
assert "refused requests stored no session" "$(count_sessions)" -eq "$before"
assert "401s are in the event log" "$(count_events 36)" -ge 1
assert "403s are in the event log" "$(count_events 37)" -ge 1
assert "limit refusals are in the event log" "$(count_events 38)" -ge 1

# 580: the store held by another writer longer than the server waits
python3 - "$SRV/server.db" "$T/locked" <<'EOF' &
import sqlite3, sys, time, os
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(120)
EOF
LOCKER=$!
for i in $(seq 1 100); do [ -e "$T/locked" ] && break; sleep 0.1; done
A create authentication etsi "$PERSON" --hash-file "$T/h-auth" --level ADVANCED --nonce busy
expect_status 580 "the store does not answer"
kill "$LOCKER"
wait "$LOCKER" 2>/dev/null

# 472: the key locked by three wrong PINs
A create authentication etsi "$PERSON" --hash-file "$T/h-auth" --level ADVANCED --nonce lock
SID=$(jget sessionID)
for i in 1 2 3; do
  "$CLIENT" approve "$(hexid "$SID")" --state "$DEV" --pin-file "$T/pin2-wrong" >/dev/null 2>&1
done
A status "$SID" --timeout-ms 1000
assert "a session whose key was locked meanwhile" "$(jget result.endResult)" = DOCUMENT_UNUSABLE
A create authentication etsi "$PERSON" --hash-file "$T/h-auth" --level ADVANCED --nonce locked
expect_status 472 "a locked key"

# --- the registry read again: rp remove, rp add, SIGHUP ----------------------
check "rp remove B" "$SERVER" rp remove --dir "$SRV" --uuid "$UB"
B create authentication etsi "$PERSON" --hash-file "$T/h-auth" --level ADVANCED
expect_status 401 "B removed: refused at once"
check "rp add C by address" "$SERVER" rp add --dir "$SRV" --uuid "$UC" --names Portal \
  --addresses 127.0.0.1 --purposes certchoice
v2 - "$UC" Portal create certificatechoice etsi "$PERSON" --level ADVANCED
expect_status 200 "C, registered by address, is served at once"
assert "rp add is in the event log (A and B were added before the store existed)" \
  "$(count_events 34)" -eq 1
assert "rp remove is in the event log" "$(count_events 35)" -eq 1
kill -HUP "$SERVER_PID"
sleep 0.5
v2 - "$UC" Portal create certificatechoice etsi "$PERSON" --level ADVANCED --nonce again
expect_status 200 "served after SIGHUP"
check "the server reloaded on SIGHUP" grep -q "SIGHUP: relying parties read again, 2 registered" \
  "$T/server.log"

# a registry file that does not parse: logged, the one read before stays
cp "$SRV/relying-parties.json" "$T/registry.good"
printf '{"relying_parties": [' >"$SRV/relying-parties.json"
v2 - "$UC" Portal create certificatechoice etsi "$PERSON" --level ADVANCED --nonce broken
expect_status 200 "a broken registry file leaves the one in use"
check "the broken file is logged" grep -q "the registry read before stays in use" "$T/server.log"
cp "$T/registry.good" "$SRV/relying-parties.json"

# --- the old relying-party frames on the device socket are refused -----------
before=$(count_sessions)
expect_exit 1 "a relying-party frame on the device socket" python3 - "$URL" "$PERSON" <<'PYEOF'
import socket, struct, sys
# nng's SP framing: an 8-byte length, then "SKP1" || RpRequest; the
# RpRequest is a SessionCreate by person id (field 1, person_id = field 1)
url, person = sys.argv[1], sys.argv[2].encode()
def main():
    host, port = url[len("tcp://"):].rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(b"\x00SP\x00\x00\x30\x00\x00")  # SP header: REQ0 (0x30), expecting REP0
    hdr = s.recv(8)
    inner = b"\x0a" + bytes([len(person)]) + person
    msg = b"\x0a" + bytes([len(inner)]) + inner
    body = b"\x80\x00\x00\x01" + b"SKP1" + msg  # request id, then the frame
    s.sendall(struct.pack(">Q", len(body)) + body)
    n = struct.unpack(">Q", s.recv(8))[0]
    rep = b""
    while len(rep) < n:
        chunk = s.recv(n - len(rep))
        if not chunk:
            raise OSError("connection closed")
        rep += chunk
    return 1 if rep[4:8] == b"SKE1" else 0  # refused: the SKE1 error frame

try:
    sys.exit(main())
except (OSError, ValueError, struct.error):
    sys.exit(3)  # no exchange at all: not the answer looked for
PYEOF
assert "no session from a relying-party frame" "$(count_sessions)" -eq "$before"

# --- curl as another client: a body of more than 1 KiB (Expect: 100-continue);
# the signing key (the authentication key is locked now)
if command -v curl >/dev/null; then
  python3 -c '
import base64, json, os, sys
print(json.dumps({"relyingPartyUUID": sys.argv[1], "relyingPartyName": "Bank A",
                  "certificateLevel": "ADVANCED",
                  "hash": base64.b64encode(os.urandom(32)).decode(), "hashType": "SHA256",
                  "allowedInteractionsOrder": [{"type": "displayTextAndPIN", "displayText60": "curl"}],
                  "requestProperties": {"x" * 2000: 1}}))' "$UA" >"$T/big.json"
  # -k: curl pins public keys, not certificates; pinning is v2_client.py's
  out=$(curl -sk --cert "$T/rpa.crt" --key "$T/rpa.key" -H 'Content-Type: application/json' \
    --data @"$T/big.json" -w '\n%{http_code}' "$RPURL/v2/signature/etsi/$PERSON")
  STATUS=$(tail -n 1 <<<"$out")
  BODY=$(head -n 1 <<<"$out")
  expect_status 200 "curl with a 2 KiB body"
  check "refuse curl's session" "$CLIENT" refuse "$(hexid "$(jget sessionID)")" --state "$DEV"
fi

# --- a QUALIFIED key (registered with a four-eyes token) ------------------------
QSUBJECT="C=LV,GN=JANIS,SN=OZOLS,serialNumber=PNOLV-020202-22222"
QPERSON="PNOLV-020202-22222"
QDEV="$T/qdev"
UQ=4e6a8132-2d90-4fbc-9e65-8b304f5e6d7d
check "rp add a notary (QUALIFIED only)" "$SERVER" rp add --dir "$SRV" --uuid "$UQ" \
  --names Notary --cert "$T/other.crt" --levels QUALIFIED --purposes sign,certchoice
Q() { v2 other "$UQ" Notary "$@"; }
if (umask 077; four_eyes_token "$SRV" "$QSUBJECT" sign >"$T/qtoken"); then
  check "enrol sign with a token (qualified)" "$CLIENT" enrol --state "$QDEV" --server "$URL" \
    --server-pub "$SRV/server.pub" --purpose sign --pin-file "$T/pin2" --profile 4K \
    --token-file "$T/qtoken"
  check "pubkey (qualified key)" "$CLIENT" pubkey --state "$QDEV" --purpose sign --out "$T/q.pub"
else
  fail "no four-eyes token"
fi
Q create certificatechoice etsi "$QPERSON"
expect_status 200 "certificate choice, QUALIFIED by default"
Q status "$(jget sessionID)"
QDOC=$(jget result.documentNumber)
check "the qualified key's document number ends in -Q" grep -q -- '-Q$' <<<"$QDOC"
Q create signature document "$QDOC" --hash-file "$T/h-sign" --hash-type SHA512
expect_status 200 "a QUALIFIED signature by document number"
SID=$(jget sessionID)
check "approve the qualified signature" "$CLIENT" approve "$(hexid "$SID")" --state "$QDEV" \
  --pin-file "$T/pin2"
Q status "$SID" --timeout-ms 5000
assert "qualified signature OK" "$(jget result.endResult)" = OK
assert "its document number" "$(jget result.documentNumber)" = "$QDOC"
check "openssl verifies the qualified signature" verify_sig "$T/q.pub" sha512 "$T/h-sign" \
  "$(jget signature.value)"
Q create signature etsi "$PERSON" --hash-file "$T/h-sign" --hash-type SHA512
expect_status 471 "QUALIFIED asked of a person whose key is ADVANCED"
A create signature etsi "$QPERSON" --hash-file "$T/h-sign" --hash-type SHA512 --level ADVANCED
expect_status 200 "ADVANCED asked of a QUALIFIED key: accepted"
check "refuse it" "$CLIENT" refuse "$(hexid "$(jget sessionID)")" --state "$QDEV"

e2e_finish
