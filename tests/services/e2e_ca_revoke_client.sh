#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e_ca_revoke_client.sh BIN_DIR - a revocation made at the CA reaches the
# real device: splitkey-client enrols an authentication and a signing key
# through a running splitkey-ca and splitkey-server (four-eyes tokens, a
# certificate for each key); the operator revokes a certificate with
# "splitkey-ca revoke --serial"; once the share server's poll
# (--ca-revocations-every 1) has applied it,
#   - "splitkey-client sign" with the signing key exits 5 saying that the
#     key is destroyed, and so does every later attempt;
#   - "splitkey-client approve" of a relying party's waiting session for
#     the authentication key (splitkey-rp over the HTTPS API, --ca-cert)
#     exits 5 the same way, and splitkey-rp gets no signature: the API
#     ends the session as DOCUMENT_UNUSABLE, and splitkey-rp exits 5 too;
#   - the key that was not revoked is untouched until its own revocation.
# Ports are picked by the kernel; waits poll the share server's log, with no
# fixed sleep and no time limit.
. "$(dirname "$0")/e2e_lib.sh"
. "$(dirname "$0")/ca_lib.sh" # the CA and the share server as its RA; its cleanup

# wait_log STRING: until the share server's log holds STRING (a fixed
# string); fails if the server stopped.
wait_log() {
  while ! grep -qF -- "$1" "$T/server.log" 2>/dev/null; do
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.05
  done
}
# serial_of PEM: the certificate's serial as the server logs it (lower-case
# hex, two digits a byte: a leading zero digit stays)
serial_of() {
  openssl x509 -in "$1" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f'
}

e2e_pins
# --- a CA, and the share server as its registration authority -----------------
ca_lib_init "$T/ca" "Splitkey Client Revocation CA"
ca_lib_start_ca "$T/ca"
ca_lib_server --ca-revocations-every 1

# --- the device enrols both keys with tokens of two operators -----------------
DEV="$T/dev"
for p in auth sign; do
  four_eyes_token "$SRV" "$SUBJECT" "$p" >"$T/token.$p" 2>>"$T/server.log" ||
    { echo "no $p token" >&2; exit 1; }
done
pin_of() { if [ "$1" = auth ]; then echo "$T/pin1"; else echo "$T/pin2"; fi; }
for p in auth sign; do
  check "enrol $p with a token" "$CLIENT" enrol --state "$DEV" --server "$URL" \
    --server-pub "$SRV/server.pub" --purpose "$p" --pin-file "$(pin_of "$p")" --profile 4K \
    --token-file "$T/token.$p"
  check "the $p key has a certificate from the CA" "$CLIENT" cert --state "$DEV" --purpose "$p" \
    --out "$T/$p.pem"
  check "... which chains to the CA" openssl verify -CAfile "$T/ca/ca.pem" "$T/$p.pem"
  check "pubkey $p" "$CLIENT" pubkey --state "$DEV" --purpose "$p" --out "$T/$p.pub"
done
S_AUTH=$(serial_of "$T/auth.pem")
S_SIGN=$(serial_of "$T/sign.pem")
assert "two certificates, two serials" -n "$S_SIGN" -a "$S_AUTH" != "$S_SIGN"
check "sign before the revocation" "$CLIENT" sign --state "$DEV" --purpose sign \
  --pin-file "$T/pin2" --in "$T/doc.txt" --out "$T/before.sig"
check "the signature verifies" openssl_verify "$T/sign.pub" pss sha256 "$T/doc.txt" "$T/before.sig"

# --- the signing key's certificate revoked at the CA: sign exits 5 ------------
check "the operator revokes the signing certificate at the CA" \
  "$CA" revoke --dir "$T/ca" --serial "$S_SIGN" --reason keyCompromise
check "the share server applies the CA's revocation (its poll)" \
  wait_log "certificate $S_SIGN revoked at the CA (keyCompromise); key destroyed"
expect_exit 5 "sign after the CA revoked the certificate" "$CLIENT" sign --state "$DEV" \
  --purpose sign --pin-file "$T/pin2" --in "$T/doc.txt" --out "$T/after.sig"
grep_last "destroyed" "sign says the key is destroyed"
grep_last "revoked" "sign says why: revoked"
assert "no signature written" ! -s "$T/after.sig"
expect_exit 5 "sign again: still 5" "$CLIENT" sign --state "$DEV" --purpose sign \
  --pin-file "$T/pin2" --in "$T/doc.txt" --out "$T/after.sig"
grep_last "destroyed" "the second refusal says destroyed too"
check "status of the signing key" "$CLIENT" status --state "$DEV" --purpose sign
grep_last "DESTROYED" "status shows it DESTROYED"

# --- the authentication key is untouched, until its own revocation ------------
check "the authentication key still signs" "$CLIENT" sign --state "$DEV" --purpose auth \
  --pin-file "$T/pin1" --in "$T/doc.txt" --out "$T/auth1.sig"
# the keys were enrolled with four-eyes tokens: QUALIFIED, the API's default
rp_start rp auth --person "$PERSON" --ca-cert "$T/ca/ca.pem" --name "Bank" --out "$T/rp.sig" ||
  fail "splitkey-rp printed no session"
SID=$("$CLIENT" sessions --state "$DEV" | awk -v s="$RP_SID" '$2 == "auth" && $1 == s { print $1 }')
assert "the relying party's session is waiting on the device" -n "$SID" -a "$SID" = "$RP_SID"
check "the operator revokes the authentication certificate at the CA" \
  "$CA" revoke --dir "$T/ca" --serial "$S_AUTH" --reason cessationOfOperation
check "the share server applies it" \
  wait_log "certificate $S_AUTH revoked at the CA (cessationOfOperation); key destroyed"
expect_exit 5 "approve after the CA revoked the certificate" "$CLIENT" approve "$SID" \
  --state "$DEV" --pin-file "$T/pin1"
grep_last "destroyed" "approve says the key is destroyed"
grep_last "revoked" "approve says why: revoked"
# The relying party's poll learns that the key can no longer be used (the
# API's DOCUMENT_UNUSABLE), without waiting for the session to expire; it
# must have no signature.
rp_wait
assert "splitkey-rp exits 5: the key is unusable (exit $RP_EXIT)" "$RP_EXIT" -eq 5
check "splitkey-rp names DOCUMENT_UNUSABLE" grep -q DOCUMENT_UNUSABLE "$T/rp.err"
assert "no signature for the relying party" ! -s "$T/rp.sig"
check "splitkey-rp never reported an authentication" sh -c "! grep -q authenticated '$T/rp.out'"
expect_exit 5 "sign with the authentication key: 5" "$CLIENT" sign --state "$DEV" --purpose auth \
  --pin-file "$T/pin1" --in "$T/doc.txt" --out "$T/auth2.sig"
grep_last "destroyed" "... destroyed"

check "the CA answers revoked for both" sh -c \
  "'$CA' crl --dir '$T/ca' --out '$T/crl.pem' >/dev/null &&
   openssl crl -in '$T/crl.pem' -noout -text | tr 'A-Z' 'a-z' | tr -d ' ' >'$T/crl.txt' &&
   grep -q 'serialnumber:0*$S_SIGN\$' '$T/crl.txt' && grep -q 'serialnumber:0*$S_AUTH\$' '$T/crl.txt'"
e2e_finish
