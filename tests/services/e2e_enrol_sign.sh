#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e_enrol_sign.sh - enrolment of an authentication key (PIN1) and a
# signing key (PIN2) with the real splitkey-server, device-initiated
# signatures in every scheme checked by OpenSSL, the state directory's
# files, status, pubkey/cert, and revocation.
. "$(dirname "$0")/e2e_lib.sh"
e2e_pins
e2e_start_server
DEV="$T/dev"

check "enrol auth" e2e_enrol "$DEV" auth "$T/pin1"
grep_last "state:       ACTIVE" "enrol auth reports an active key"
check "enrol sign" e2e_enrol "$DEV" sign "$T/pin2"
assert "storage key is 0600" "$(stat -c %a "$DEV/storage.key")" = 600
assert "storage key is 32 bytes" "$(stat -c %s "$DEV/storage.key")" = 32
assert "auth state is 0600" "$(stat -c %a "$DEV/auth.state")" = 600
assert "sign state is 0600" "$(stat -c %a "$DEV/sign.state")" = 600
# the PIN appears nowhere in the state directory
CHECKS=$((CHECKS + 1))
if grep -rq -e 12345 "$DEV"; then fail "a PIN is readable in the state directory"; fi
# the proof of possession signed a PKCS#10 request OpenSSL accepts
check "CSR verifies" openssl req -verify -noout -in "$DEV/sign.csr.pem"

# a second enrolment of the same purpose is refused and changes nothing
before=$(sha256sum "$DEV/sign.state")
expect_exit 1 "second sign enrolment" e2e_enrol "$DEV" sign "$T/pin2"
assert "state unchanged by the refused enrolment" "$(sha256sum "$DEV/sign.state")" = "$before"

check "pubkey sign" "$CLIENT" pubkey --state "$DEV" --purpose sign --out "$T/sign.pub"
check "pubkey auth" "$CLIENT" pubkey --state "$DEV" --purpose auth --out "$T/auth.pub"
check "sign pub is RSA-4096" sh -c "openssl pkey -pubin -in '$T/sign.pub' -text -noout | grep -q '4096 bit'"
CHECKS=$((CHECKS + 1))
cmp -s "$T/sign.pub" "$T/auth.pub" && fail "auth and sign keys are the same key"

for combo in "pkcs1 sha256" "pss sha256" "pss sha384" "pkcs1 sha512"; do
  set -- $combo
  check "sign $1/$2" "$CLIENT" sign --state "$DEV" --purpose sign --pin-file "$T/pin2" \
    --in "$T/doc.txt" --out "$T/doc.$1.$2.sig" --scheme "$1" --hash "$2"
  check "openssl verifies $1/$2" openssl_verify "$T/sign.pub" "$1" "$2" "$T/doc.txt" "$T/doc.$1.$2.sig"
  CHECKS=$((CHECKS + 1))
  if openssl_verify "$T/auth.pub" "$1" "$2" "$T/doc.txt" "$T/doc.$1.$2.sig" >/dev/null 2>&1; then
    fail "the signing key's signature verifies under the auth key"
  fi
done
# an authentication signature with PIN1
check "sign with the auth key" "$CLIENT" sign --state "$DEV" --purpose auth --pin-file "$T/pin1" \
  --in "$T/doc.txt" --out "$T/auth.sig" --scheme pkcs1
check "openssl verifies the auth signature" openssl_verify "$T/auth.pub" pkcs1 sha256 "$T/doc.txt" "$T/auth.sig"
# a tampered document does not verify
sed 's/350/850/' "$T/doc.txt" >"$T/doc2.txt"
CHECKS=$((CHECKS + 1))
if openssl_verify "$T/sign.pub" pss sha256 "$T/doc2.txt" "$T/doc.pss.sha256.sig" >/dev/null 2>&1; then
  fail "a signature verifies over an altered document"
fi

# PIN1 does not open the signing key (PIN2): a wrong PIN, counted
expect_exit 3 "sign key with a wrong PIN" "$CLIENT" sign --state "$DEV" --purpose sign \
  --pin-file "$T/pin2-wrong" --in "$T/doc.txt" --out "$T/x.sig"
grep_last "2 attempts left" "wrong PIN reports the attempts left"
assert "no signature written after a wrong PIN" ! -e "$T/x.sig"
# a right PIN resets the count
check "sign after one wrong PIN" "$CLIENT" sign --state "$DEV" --purpose sign --pin-file "$T/pin2" \
  --in "$T/doc.txt" --out "$T/y.sig"
check "status sign" "$CLIENT" status --state "$DEV" --purpose sign
grep_last "state: *ACTIVE" "status shows ACTIVE"
grep_last "attempts left: 3" "status shows 3 attempts after a good PIN"
# the wrong-PIN session does not linger in the listing
check "sessions" "$CLIENT" sessions --state "$DEV"
grep_last "no session is waiting" "no session left waiting"

# no certificate without a CA: a clear error
expect_exit 1 "cert without a CA" "$CLIENT" cert --state "$DEV" --purpose sign --out "$T/c.pem"
grep_last "no certificate" "cert explains why"
assert "no certificate file written" ! -e "$T/c.pem"

# revoke the authentication key with PIN1
expect_exit 3 "revoke with a wrong PIN" "$CLIENT" revoke --state "$DEV" --purpose auth --pin-file "$T/pin2-wrong"
check "revoke auth" "$CLIENT" revoke --state "$DEV" --purpose auth --pin-file "$T/pin1"
expect_exit 5 "sign with a revoked key" "$CLIENT" sign --state "$DEV" --purpose auth \
  --pin-file "$T/pin1" --in "$T/doc.txt" --out "$T/z.sig"
check "status auth after revoke" "$CLIENT" status --state "$DEV" --purpose auth
grep_last "DESTROYED" "status shows the revoked key destroyed"
# the signing key is untouched
check "sign key still signs" "$CLIENT" sign --state "$DEV" --purpose sign --pin-file "$T/pin2" \
  --in "$T/doc.txt" --out "$T/w.sig"
# a revoked key can be replaced by a new enrolment
check "enrol a new auth key" e2e_enrol "$DEV" auth "$T/pin1"

# registration tokens: one use, one purpose
TOKEN=$(four_eyes_token "$SRV" "$SUBJECT" sign)
assert "a token was minted" -n "$TOKEN"
printf '%s\n' "$TOKEN" >"$T/token"
chmod 600 "$T/token"
expect_exit 2 "a token on the command line is refused" "$CLIENT" enrol --state "$T/tokx" \
  --server "$URL" --server-pub "$SRV/server.pub" --purpose sign --pin-file "$T/pin2" \
  --profile 4K --token "$TOKEN"
assert "... and made no state directory" ! -e "$T/tokx"
expect_exit 1 "a sign token used for an auth key" "$CLIENT" enrol --state "$T/tok0" \
  --server "$URL" --server-pub "$SRV/server.pub" --purpose auth --pin-file "$T/pin1" \
  --profile 4K --token-file "$T/token"
grep_last "token" "the refusal names the token"
assert "a failed first enrolment leaves no state directory" ! -e "$T/tok0"
check "enrol with the token" "$CLIENT" enrol --state "$T/tok1" --server "$URL" \
  --server-pub "$SRV/server.pub" --purpose sign --pin-file "$T/pin2" --profile 4K --token-file "$T/token"
grep_last "serialNumber=PNOLV-010101-12345" "the key carries the token's subject"
expect_exit 1 "the same token again" "$CLIENT" enrol --state "$T/tok2" --server "$URL" \
  --server-pub "$SRV/server.pub" --purpose sign --pin-file "$T/pin2" --profile 4K --token-file "$T/token"
e2e_finish
