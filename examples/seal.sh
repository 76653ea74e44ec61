#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# seal.sh - an organisation's qualified electronic seal (ETSI EN 319 412-3)
# with a split key, end to end on loopback:
#
#   examples/seal.sh [BIN_DIR]        (default build/bin)
#
# 1. a CA (splitkey-ca) and a share server (splitkey-server) that is its
#    registration authority, on ports the kernel picks;
# 2. an operator, having checked the organisation, requests a registration
#    token for its legal-person subject and a second operator approves it
#    (four eyes):
#      splitkey-server token --purpose seal --operator-key A.key \
#        --subject "C=LV,O=Example SIA,organizationIdentifier=VATLV-40003000000"
#      splitkey-server token approve --operator-key B.key --token-file FILE
# 3. the organisation's seal device (splitkey-client, unattended: its PIN is
#    in a file) enrols a seal key with the token; enrolment ends with a
#    seal-qualified certificate from the CA;
# 4. the device seals a document; openssl checks the seal under the
#    certificate's key, and openssl verify and GnuTLS certtool check the
#    certificate chain; the certificate's contents are shown.
#
# Exit 0 only when every check held.  Everything runs in a temporary
# directory that is removed at the end (SK_SEAL_KEEP=1 keeps it).
set -euo pipefail

BIN=${1:-build/bin}
for p in splitkey-ca splitkey-server splitkey-client; do
  [ -x "$BIN/$p" ] || { echo "seal.sh: $BIN/$p not found (build first)" >&2; exit 2; }
done
command -v openssl >/dev/null || { echo "seal.sh: openssl is needed" >&2; exit 2; }

W=$(mktemp -d "${TMPDIR:-/tmp}/sk-seal.XXXXXX")
CA_PID= SRV_PID=
stop() { # stop PID: SIGTERM, then wait for it
  [ -n "$1" ] && kill "$1" 2>/dev/null && wait "$1" 2>/dev/null
  return 0
}
cleanup() {
  stop "$SRV_PID"
  stop "$CA_PID"
  if [ "${SK_SEAL_KEEP:-0}" = 1 ]; then echo "files kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }
die() { echo "seal.sh: $*" >&2; for l in "$W"/*.log; do [ -f "$l" ] && sed "s|^|  $(basename "$l"): |" "$l" >&2; done; exit 1; }
wait_ready() { # wait_ready FILE PID
  local i
  for i in $(seq 1 1200); do
    [ -s "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

ORG="C=LV,O=Example SIA,organizationIdentifier=VATLV-40003000000"

say "a CA and a share server as its registration authority"
"$BIN/splitkey-ca" init --dir "$W/ca" --subject "CN=Example Qualified CA,O=Example,C=LV" \
  --ocsp-url http://127.0.0.1:9/ocsp --ca-url http://127.0.0.1:9/ca.crt \
  --pds-url https://example.org/pds_en.pdf --policy-oid 1.3.6.1.4.1.99999.1.1 >/dev/null ||
  die "splitkey-ca init failed"
"$BIN/splitkey-server" init --dir "$W/srv" >/dev/null || die "splitkey-server init failed"
"$BIN/splitkey-ca" add-ra --dir "$W/ca" --pub "$W/srv/server.pub" >/dev/null ||
  die "splitkey-ca add-ra failed"
"$BIN/splitkey-ca" run --dir "$W/ca" --listen tcp://127.0.0.1:0 --ready-file "$W/ca.ready" \
  2>"$W/ca.log" &
CA_PID=$!
wait_ready "$W/ca.ready" "$CA_PID" || die "the CA did not start"
"$BIN/splitkey-server" run --dir "$W/srv" --listen tcp://127.0.0.1:0 --ready-file "$W/srv.ready" \
  --ca "$(head -n 1 "$W/ca.ready")" --ca-cert "$W/ca/ca.pem" --pool-profiles 4K --pool-size 1 \
  2>"$W/server.log" &
SRV_PID=$!
wait_ready "$W/srv.ready" "$SRV_PID" || die "the share server did not start"
URL=$(head -n 1 "$W/srv.ready")
echo "CA $(head -n 1 "$W/ca.ready"), share server $URL"

say "two operators register the organisation's seal (four eyes)"
umask 077
for op in anna berta; do
  "$BIN/splitkey-server" operator keygen --out "$W/$op.key" >/dev/null &&
    "$BIN/splitkey-server" operator add --dir "$W/srv" --name "$op" --pub "$W/$op.key.pub" \
      >/dev/null || die "operator $op"
done
echo "splitkey-server token --purpose seal --subject \"$ORG\" --operator-key anna.key"
"$BIN/splitkey-server" token --dir "$W/srv" --purpose seal --subject "$ORG" \
  --operator-key "$W/anna.key" >"$W/request" || die "token failed"
echo "splitkey-server token approve --operator-key berta.key --token-file request"
"$BIN/splitkey-server" token approve --dir "$W/srv" --operator-key "$W/berta.key" \
  --token-file "$W/request" >"$W/token" || die "token approve failed"

say "the seal device enrols unattended, its PIN in a file"
printf '739146\n' >"$W/seal.pin"
"$BIN/splitkey-client" enrol --state "$W/device" --server "$URL" --server-pub "$W/srv/server.pub" \
  --purpose seal --pin-file "$W/seal.pin" --token-file "$W/token" --profile 4K ||
  die "seal enrolment failed"
"$BIN/splitkey-client" cert --state "$W/device" --purpose seal --out "$W/seal.pem" ||
  die "no seal certificate"
openssl x509 -in "$W/seal.pem" -noout -subject -nameopt RFC2253

say "the device seals a document"
printf 'Invoice 2026-0042: 1250.00 EUR, Example SIA\n' >"$W/invoice.txt"
"$BIN/splitkey-client" sign --state "$W/device" --purpose seal --pin-file "$W/seal.pin" \
  --in "$W/invoice.txt" --out "$W/invoice.seal" || die "sealing failed"

say "openssl checks the seal under the certificate's key"
openssl x509 -in "$W/seal.pem" -noout -pubkey >"$W/seal.pub"
# splitkey-client signs RSASSA-PSS with SHA-256 by default (salt = digest length)
PSS=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest)
openssl dgst -sha256 -verify "$W/seal.pub" "${PSS[@]}" -signature "$W/invoice.seal" \
  "$W/invoice.txt" || die "the seal does not verify"
printf 'Invoice 2026-0042: 9250.00 EUR, Example SIA\n' >"$W/forged.txt"
if openssl dgst -sha256 -verify "$W/seal.pub" "${PSS[@]}" -signature "$W/invoice.seal" \
  "$W/forged.txt" >/dev/null 2>&1; then
  die "the seal verifies over an altered document"
fi
echo "an altered document: Verification failure (as it should be)"

say "the certificate chain: openssl verify and GnuTLS certtool"
openssl verify -x509_strict -CAfile "$W/ca/ca.pem" "$W/seal.pem" || die "openssl verify failed"
if command -v certtool >/dev/null; then
  certtool --verify --load-ca-certificate "$W/ca/ca.pem" --infile "$W/seal.pem" >"$W/certtool.out" 2>&1 ||
    { cat "$W/certtool.out" >&2; die "certtool --verify failed"; }
  grep -q "The certificate is trusted" "$W/certtool.out" || die "certtool does not trust it"
  echo "certtool: the certificate is trusted"
else
  echo "(certtool not installed: skipped)"
fi

say "what the seal certificate says"
openssl x509 -in "$W/seal.pem" -noout -text >"$W/seal.txt"
grep -A1 -e "Key Usage: critical" -e "Certificate Policies" "$W/seal.txt" | sed 's/^ */   /'
for want in "Non Repudiation" "Policy: 0.4.0.194112.1.3" "CA:FALSE"; do
  grep -qF "$want" "$W/seal.txt" || die "the certificate lacks '$want'"
done
openssl asn1parse -in "$W/seal.pem" >"$W/seal.asn1"
off=$(grep -A1 ':qcStatements' "$W/seal.asn1" | tail -1 | cut -d: -f1 | tr -d ' ')
openssl asn1parse -in "$W/seal.pem" -strparse "$off" >"$W/qc.asn1"
for oid in 0.4.0.194121.1.2 0.4.0.1862.1.1 0.4.0.1862.1.4 0.4.0.1862.1.6.2 0.4.0.1862.1.5; do
  grep -q ":$oid\$" "$W/qc.asn1" || die "qcStatements lack $oid"
done
echo "   qcStatements: legal-person semantics, QcCompliance, QcSSCD, QcType eseal, QcPDS"
echo
echo "seal.sh: the organisation's seal verifies under its qualified seal certificate"
