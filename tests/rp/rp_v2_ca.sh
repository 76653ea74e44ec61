#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# rp_v2_ca.sh BIN_DIR - the relying-party HTTPS API with a CA: the share
# server is a registration authority of a running splitkey-ca, the person's
# signing key is enrolled with a four-eyes token (QUALIFIED) and certified.
# The certificate choice returns that certificate (cert.value: the DER the
# device holds, chaining to the CA, cert.certificateLevel QUALIFIED), and
# the signature asked for by its document number verifies with openssl under
# the public key of the certificate the API returned.
. "$(dirname "$0")/rp_lib.sh"
CA="$BIN/splitkey-ca"
CA_PID=
ca_cleanup() {
  if [ -n "$CA_PID" ] && kill -0 "$CA_PID" 2>/dev/null; then
    kill "$CA_PID" 2>/dev/null
    wait "$CA_PID" 2>/dev/null
  fi
  e2e_cleanup
}
trap ca_cleanup EXIT
e2e_pins
"$CA" init --dir "$T/ca" --subject "CN=Splitkey RP API Test CA,O=Splitkey Test,C=LV" \
  --policy-oid 1.3.6.1.4.1.99999.1.1 --ocsp-url http://127.0.0.1:9/ocsp \
  --ca-url http://127.0.0.1:9/ca.crt --pds-url https://example.org/pds_en.pdf >/dev/null ||
  { echo "splitkey-ca init failed" >&2; exit 1; }
rp_init
"$CA" add-ra --dir "$T/ca" --pub "$SRV/server.pub" >/dev/null ||
  { echo "splitkey-ca add-ra failed" >&2; exit 1; }
"$CA" run --dir "$T/ca" --listen tcp://127.0.0.1:0 --ready-file "$T/ca.ready" 2>"$T/ca.log" &
CA_PID=$!
while [ ! -s "$T/ca.ready" ]; do
  kill -0 "$CA_PID" 2>/dev/null || { cat "$T/ca.log" >&2; echo "the CA did not start" >&2; exit 1; }
  sleep 0.05
done
rp_cert notary
UN=9b3d7021-1c8f-4eab-8d54-7a2f3e4d5c6c
check "rp add" "$SERVER" rp add --dir "$SRV" --uuid "$UN" --names Notary --cert "$T/notary.crt"
rp_start --ca "$(head -n 1 "$T/ca.ready")" --ca-cert "$T/ca/ca.pem"
DEV="$T/dev"
four_eyes_token "$SRV" "$SUBJECT" sign >"$T/token" 2>>"$T/server.log" ||
  { echo "no token" >&2; exit 1; }
check "enrol sign with a token" "$CLIENT" enrol --state "$DEV" --server "$URL" \
  --server-pub "$SRV/server.pub" --purpose sign --pin-file "$T/pin2" --profile 4K \
  --token-file "$T/token"
check "the device's certificate" "$CLIENT" cert --state "$DEV" --purpose sign --out "$T/dev.pem"
N() { v2 notary "$UN" Notary "$@"; }

N create certificatechoice etsi "$PERSON"
expect_status 200 "certificate choice"
N status "$(jget sessionID)"
assert "certificate choice OK" "$(jget result.endResult)" = OK
assert "certificateLevel QUALIFIED" "$(jget cert.certificateLevel)" = QUALIFIED
DOC=$(jget result.documentNumber)
check "a -Q document number" grep -q -- '-Q$' <<<"$DOC"
base64 -d <<<"$(jget cert.value)" >"$T/api.der"
check "cert.value is a DER certificate" openssl x509 -inform DER -in "$T/api.der" -out "$T/api.pem"
check "it chains to the CA" openssl verify -CAfile "$T/ca/ca.pem" "$T/api.pem"
check "it is the device's certificate" cmp <(openssl x509 -in "$T/dev.pem" -outform DER) "$T/api.der"
check "its public key" sh -c "openssl x509 -in '$T/api.pem' -noout -pubkey >'$T/api.pub'"

printf 'Deed of sale\n' | openssl dgst -sha256 -binary >"$T/h"
N create signature document "$DOC" --hash-file "$T/h"
expect_status 200 "a QUALIFIED signature by document number"
SID=$(jget sessionID)
check "approve" "$CLIENT" approve "$(hexid "$SID")" --state "$DEV" --pin-file "$T/pin2"
N status "$SID" --timeout-ms 10000
assert "signature OK" "$(jget result.endResult)" = OK
assert "the same certificate with the signature" "$(jget cert.value)" = \
  "$(base64 -w0 "$T/api.der")"
check "openssl verifies the signature under the returned certificate's key" \
  verify_sig "$T/api.pub" sha256 "$T/h" "$(jget signature.value)"
e2e_finish
