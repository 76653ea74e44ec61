#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# validate_all.sh BIN_DIR [TEST_TOOLS_DIR] - independent validation of what a
# freshly initialised CA and its services make: the CA, OCSP-signer, SIGN
# (qualified and basic), AUTH (qualified and basic), seal and TSA
# certificates; time-stamp replies from a running splitkey-tsa; OCSP
# responses for good, revoked and unknown serials from a running
# splitkey-ocsp (SHA-1, SHA-256 and SHA-384 CertIDs, with and without
# certHash); the CRL, written and served by "splitkey-ca serve" at the
# certificates' CRL distribution point.  Every object goes through
# etsi_lint.py (ETSI/RFC profile linter), openssl (verify, ocsp, crl, ts)
# and GnuTLS (certtool, ocsptool).
#
# BIN_DIR holds splitkey-ca, splitkey-ocsp and splitkey-tsa; TEST_TOOLS_DIR
# (default BIN_DIR/../tests) holds ca_test_tool and pki_tool.  Every server
# listens on a loopback port the kernel picks and is stopped on exit.  Exits
# non-zero on any error and prints a summary; a capability this build lacks
# is reported as "SKIPPED: ..." and never passed over silently.
set -euo pipefail

BIN=$(cd "$1" && pwd)
TOOLS=$(cd "${2:-$BIN/../tests}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
LINT="$HERE/etsi_lint.py"
WORK=$(mktemp -d)
. "$HERE/programs/lib.sh"
trap cleanup EXIT
cd "$WORK"
# everything here is on loopback: no proxy
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

CA="$BIN/splitkey-ca"
OCSPD="$BIN/splitkey-ocsp"
TSAD="$BIN/splitkey-tsa"
TOOL="$TOOLS/ca_test_tool"
PKI_TOOL="$TOOLS/pki_tool"
skips=0
skip() { skips=$((skips + 1)); echo "SKIPPED: $*"; }

# A python3 with python3-cryptography and python3-pyasn1-modules.
PY=""
for p in "${SK_PYTHON:-}" /usr/bin/python3 python3; do
  [ -n "$p" ] || continue
  if "$p" -c 'import cryptography.x509, pyasn1_modules.rfc2560, pyasn1_modules.rfc3161' >/dev/null 2>&1; then
    PY=$p; break; fi
done
if [ -z "$PY" ]; then
  echo "validate_all: no python3 with cryptography and pyasn1-modules (scripts/install-deps.sh)" >&2
  exit 1
fi
for t in openssl certtool ocsptool curl; do
  command -v "$t" >/dev/null || { echo "validate_all: $t is missing" >&2; exit 1; }
done
# lint NAME ARGS... : etsi_lint.py must find no error; its findings are shown
lint() {
  local what=$1; shift
  if "$PY" "$LINT" "$@" >lint.txt 2>&1; then ok "etsi_lint: $what"; else
    bad "etsi_lint: $what"; fi
  sed 's/^/    /' lint.txt
  cat lint.txt >>lint_all.txt
}
# certtool_checks NAME CERT CHAIN_CA: certtool -i parses it, certtool --verify
# accepts it under the CA
certtool_checks() {
  run "certtool -i: $1" certtool -i --infile "$2"
  cat "$2" "$3" >chain.pem
  if certtool --verify --load-ca-certificate "$3" --infile chain.pem >ct.txt 2>&1 &&
     grep -q "Chain verification output: Verified" ct.txt; then
    ok "certtool --verify: $1"
  else
    bad "certtool --verify: $1"; sed 's/^/    /' ct.txt >&2
  fi
}
# cert_checks NAME CERT: every validator on one certificate under ca/ca.pem
cert_checks() {
  lint "$1" --ca ca/ca.pem "$2"
  run "openssl verify -x509_strict: $1" openssl verify -x509_strict -CAfile ca/ca.pem "$2"
  certtool_checks "$1" "$2" ca/ca.pem
}

# --- a fresh CA, published by "splitkey-ca serve" -------------------------------
# The URLs go into every certificate, so they are set before anything is
# issued: init writes placeholders, serve and the responder bind ports the
# kernel picks, and ca.conf is pointed at them (serve and run read the paths
# and URLs from it when they start).
run "splitkey-ca init" "$CA" init --dir ca \
    --subject "C=LV,O=Example Trust Services,CN=Example Qualified CA" \
    --policy-oid 1.3.6.1.4.1.99999.1.1 --ocsp-url http://127.0.0.1:1/ocsp \
    --ca-url http://127.0.0.1:1/ca.crt --crl-url http://127.0.0.1:1/ca.crl \
    --pds-url https://example.org/pds_en.pdf
lint "CA certificate" ca/ca.pem
run "openssl verify: the self-signed CA" openssl verify -x509_strict -CAfile ca/ca.pem ca/ca.pem
run "certtool -i: CA" certtool -i --infile ca/ca.pem

start serve "$CA" serve --dir ca --http 127.0.0.1:0 --ready-file serve.ready
wait_ready serve.ready "$PID_serve"
SURL=$(cat serve.ready)
HP=${SURL#http://}
HP=${HP%/}
start ocsp "$OCSPD" run --ca-dir ca --http 127.0.0.1:0 --ready-file ocsp.ready --signer-check 0
wait_ready ocsp.ready "$PID_ocsp"
OURL=$(cat ocsp.ready)
OHP=${OURL#http://}
OHP=${OHP%/}
sed -i "s|127.0.0.1:1/ca.crt|$HP/ca.crt|; s|127.0.0.1:1/ca.crl|$HP/ca.crl|; s|127.0.0.1:1/ocsp|$OHP/ocsp|" \
    ca/ca.conf
expect "ca.conf: the CRL URL is serve's" "crl-url = http://$HP/ca.crl" ca/ca.conf
# the signer made by init carries the placeholder URLs: a new one (30 days,
# as init makes it) carries the real ones; the responder picks it up
run "ocsp-signer renew" "$CA" ocsp-signer renew --dir ca
cert_checks "OCSP signer" ca/ocsp.pem

# what serve publishes at the caIssuers and CRL distribution point URLs
curl -sS -f -o served_ca.der "${SURL}ca.crt" && ok "GET ca.crt from serve" || bad "GET ca.crt"
openssl x509 -in ca/ca.pem -outform der -out ca.der
cmp -s served_ca.der ca.der && ok "  ... it is ca.pem" || bad "the served CA certificate differs"
lint "served CA certificate" served_ca.der

# --- issuance through the real CA, for split keys -------------------------------
mkdir ra out
"$TOOL" identity ra >/dev/null
run "add-ra" "$CA" add-ra --dir ca --pub ra/server.pub
start ca "$CA" run --dir ca --listen tcp://127.0.0.1:0 --ready-file ca.ready
wait_ready ca.ready "$PID_ca"
CAURL=$(cat ca.ready)
if "$TOOL" enrol ra "$CAURL" ca/ca.pem out >enrol.txt 2>&1; then ok "enrolment through the CA"; else
  bad "enrolment through the CA"; sed 's/^/    /' enrol.txt >&2; fi
if "$TOOL" enrol-extra ra "$CAURL" ca/ca.pem out >enrol2.txt 2>&1; then
  ok "basic SIGN and seal enrolment through the CA"; else
  bad "basic SIGN and seal enrolment through the CA"; sed 's/^/    /' enrol2.txt >&2; fi
cert_checks "qualified SIGN" out/sign.pem
expect "etsi_lint: SIGN is a natural-person signing certificate" "natural-person signing" lint.txt
cert_checks "AUTH" out/auth.pem
cert_checks "basic AUTH" out/authb.pem
cert_checks "basic SIGN" out/signb.pem
cert_checks "qualified seal" out/seal.pem
expect "etsi_lint: the seal is a legal-person seal" "legal-person seal" lint.txt
openssl x509 -in out/sign.pem -noout -text >sign.txt
expect "the SIGN certificate's CRL distribution point is serve" "URI:http://$HP/ca.crl" sign.txt
expect "  ... its OCSP URL the responder" "OCSP - URI:http://$OHP/ocsp" sign.txt

# --- TSA: the key and request, the certificate, replies from splitkey-tsa -------
TSA_SUBJECT="C=LV,O=Example Trust Services,CN=Example Time-Stamping Unit"
run "splitkey-tsa init" "$TSAD" init --dir tsa --subject "$TSA_SUBJECT" --key ec-p384
run "splitkey-ca issue-tsa" "$CA" issue-tsa --dir ca --subject "$TSA_SUBJECT" \
    --csr tsa/tsa.csr --out tsa/tsa.pem
cert_checks "TSA" tsa/tsa.pem
run "openssl verify -purpose timestampsign: TSA" \
    openssl verify -x509_strict -purpose timestampsign -CAfile ca/ca.pem tsa/tsa.pem
start tsa "$TSAD" run --dir tsa --http 127.0.0.1:0 --ready-file tsa.ready --qualified --tsa-name \
    --accuracy-seconds 1
wait_ready tsa.ready "$PID_tsa"
TURL=$(cat tsa.ready)
echo "the data to time-stamp" >data.txt
# tsa_case NAME OPENSSL-TS-QUERY-ARGS...: a query, its reply, every check
tsa_case() {
  local name=$1; shift
  openssl ts -query -data data.txt "$@" -out "$name.tsq" 2>/dev/null
  local code
  code=$(curl -sS -o "$name.tsr" -w '%{http_code}' -H 'Content-Type: application/timestamp-query' \
      --data-binary "@$name.tsq" "$TURL" || true)
  if [ "$code" != 200 ] || [ ! -s "$name.tsr" ]; then bad "TSA $name: HTTP $code"; return; fi
  lint "time-stamp reply ($name)" --ca ca/ca.pem --query "$name.tsq" --cert tsa/tsa.pem --qualified \
      "$name.tsr"
  run "openssl ts -verify -queryfile: $name" openssl ts -verify -queryfile "$name.tsq" \
      -in "$name.tsr" -CAfile ca/ca.pem -untrusted tsa/tsa.pem
  run "openssl ts -verify -data: $name" openssl ts -verify -data data.txt -in "$name.tsr" \
      -CAfile ca/ca.pem -untrusted tsa/tsa.pem
  openssl ts -reply -in "$name.tsr" -text >"$name.txt" 2>&1 || true
  expect "openssl ts -reply -text: $name granted" "Status: Granted." "$name.txt"
  expect "openssl ts -reply -text: $name accuracy" "Accuracy: 0x01 seconds" "$name.txt"
}
tsa_case sha256 -sha256 -cert
openssl ts -query -in sha256.tsq -text >sha256.q.txt
expect "openssl ts: the nonce is echoed" "$(grep 'Nonce:' sha256.q.txt | sed 's/^ *//')" sha256.txt
tsa_case sha384 -sha384 -cert
tsa_case sha512_nocert -sha512
tsa_case sha256_nononce -sha256 -cert -no_nonce
stop "$PID_tsa"
[ "$STOPPED" = 0 ] && ok "splitkey-tsa: SIGTERM, exit 0" || bad "splitkey-tsa exit $STOPPED"

# --- OCSP: good, revoked, unknown from the running responder -------------------
SIGN=$(cat out/sign.serial)
AUTH=$(cat out/auth.serial)
run "revoke AUTH (keyCompromise)" "$CA" revoke --dir ca --serial "$AUTH" --reason keyCompromise
# ocsp_case NAME EXPECT URL LINT-ARGS -- OPENSSL-ARGS...: asks the responder
# at URL (nonce, the CertID hash given), keeps request and response, checks
# them with every tool
ocsp_case() {
  local name=$1 want=$2 url=$3 largs=()
  shift 3
  while [ "$1" != -- ]; do largs+=("$1"); shift; done
  shift
  openssl ocsp -url "$url" -issuer ca/ca.pem "$@" -CAfile ca/ca.pem -nonce -resp_text \
      -reqout "$name.req" -respout "$name.resp" >"$name.txt" 2>&1 || true
  if [ ! -s "$name.resp" ]; then bad "OCSP $name: no response"; sed 's/^/    /' "$name.txt" >&2; return; fi
  lint "OCSP response ($name)" --ca ca/ca.pem --request "$name.req" ${largs[@]+"${largs[@]}"} \
      "$name.resp"
  expect "openssl ocsp: $name verifies" "Response verify OK" "$name.txt"
  expect "openssl ocsp: $name is $want" ": $want" "$name.txt"
  openssl ocsp -respin "$name.resp" -reqin "$name.req" -CAfile ca/ca.pem >"$name.v.txt" 2>&1 || true
  expect "openssl ocsp -respin -reqin: $name verifies with its nonce" "Response verify OK" "$name.v.txt"
  expect_not "openssl ocsp: $name nonce" "Nonce Verify error" "$name.v.txt"
  run "ocsptool -e: $name" ocsptool -e --load-trust ca/ca.pem --load-response "$name.resp"
  expect "ocsptool -e: $name verified" "Verifying OCSP Response: Success" out.txt
  ocsptool -j --load-response "$name.resp" >"$name.j.txt" 2>&1 || true
  expect "ocsptool -j: $name parsed" "Response Status: Successful" "$name.j.txt"
  expect "ocsptool -j: $name is $want" "Certificate Status: $want" "$name.j.txt"
}
ocsp_case good good "$OURL" -- -cert out/sign.pem
ocsp_case good_sha256 good "$OURL" -- -sha256 -cert out/sign.pem
ocsp_case good_sha384 good "$OURL" -- -sha384 -cert out/sign.pem
expect "openssl ocsp: the SHA-384 CertID is echoed" "Hash Algorithm: sha384" good_sha384.txt
ocsp_case seal good "$OURL" -- -cert out/seal.pem
ocsp_case revoked revoked "$OURL" -- -cert out/auth.pem
ocsp_case unknown unknown "$OURL" -- -serial 0x0123456789abcdef
expect "the responder states archiveCutoff" "Archive Cutoff" good.txt

# a second responder with --cert-hash: certHash (1.3.36.8.3.13) in good and
# revoked answers, compared by the linter with the certificate itself
start ocsph "$OCSPD" run --ca-dir ca --http 127.0.0.1:0 --ready-file ocsph.ready --cert-hash
wait_ready ocsph.ready "$PID_ocsph"
HURL=$(cat ocsph.ready)
ocsp_case certhash_good good "$HURL" --cert out/sign.pem -- -cert out/sign.pem
expect "certHash in the good answer" "1.3.36.8.3.13" certhash_good.txt
ocsp_case certhash_revoked revoked "$HURL" --cert out/auth.pem -- -sha384 -cert out/auth.pem
expect "certHash in the revoked answer" "1.3.36.8.3.13" certhash_revoked.txt
ocsp_case certhash_unknown unknown "$HURL" -- -serial 0x0123456789abcdef
expect_not "no certHash in the unknown answer" "1.3.36.8.3.13" certhash_unknown.txt
stop "$PID_ocsph"

# --- CRL: written by "crl", and served at the distribution point -----------------
run "splitkey-ca crl" "$CA" crl --dir ca --out crl.pem
lint "CRL" --ca ca/ca.pem crl.pem
run "openssl crl verifies the CRL" openssl crl -in crl.pem -noout -CAfile ca/ca.pem
expect "openssl crl: verify OK" "verify OK" out.txt
run "openssl verify -crl_check: SIGN is not revoked" \
    openssl verify -x509_strict -crl_check -CAfile ca/ca.pem -CRLfile crl.pem out/sign.pem
run_status "openssl verify -crl_check: AUTH is revoked" 2 \
    openssl verify -x509_strict -crl_check -CAfile ca/ca.pem -CRLfile crl.pem out/auth.pem
expect "openssl: revoked per the CRL" "certificate revoked" out.txt
run "certtool --crl-info" certtool --crl-info --infile crl.pem
expect_i "certtool lists the AUTH serial" "$AUTH" out.txt
run "certtool --verify-crl" certtool --verify-crl --load-ca-certificate ca/ca.pem --infile crl.pem
expect "certtool: CRL verified" "Verified" out.txt
grep -qi "$SIGN" out.txt && bad "the CRL lists the good SIGN serial" || ok "the CRL does not list SIGN"

curl -sS -f -o served_crl.der "${SURL}ca.crl" && ok "GET ca.crl from serve" || bad "GET ca.crl"
lint "served CRL" --ca ca/ca.pem served_crl.der
run "openssl crl verifies the served CRL" openssl crl -inform der -in served_crl.der -noout \
    -CAfile ca/ca.pem
openssl crl -inform der -in served_crl.der -out served_crl.pem
run "certtool --verify-crl: the served CRL" certtool --verify-crl --load-ca-certificate ca/ca.pem \
    --infile served_crl.pem
openssl crl -in served_crl.pem -noout -text >served_crl.txt
expect_i "the served CRL lists AUTH" "$AUTH" served_crl.txt
for c in sign signb authb seal; do
  run "openssl verify -crl_download -crl_check: $c is good" \
      openssl verify -x509_strict -crl_download -crl_check -CAfile ca/ca.pem "out/$c.pem"
done
run "openssl verify -crl_download -crl_check: TSA is good" \
    openssl verify -x509_strict -crl_download -crl_check -CAfile ca/ca.pem tsa/tsa.pem
run_status "openssl verify -crl_download -crl_check: AUTH is revoked" 2 \
    openssl verify -x509_strict -crl_download -crl_check -CAfile ca/ca.pem out/auth.pem
expect "  ... certificate revoked" "certificate revoked" out.txt

stop "$PID_ocsp"
stop "$PID_ca"
stop "$PID_serve"

# --- the library's own profiles (pki_tool): basic SIGN and the EC CA ------------
for kind in rsa ec; do
  mkdir "lib_$kind"
  if "$PKI_TOOL" setup "lib_$kind" "$kind" >/dev/null 2>&1; then
    ok "pki_tool setup $kind"
    for c in sign auth signb authb seal ocsp; do
      lint "pki_tool $kind $c" --ca "lib_$kind/ca.pem" "lib_$kind/$c.pem"
      run "openssl verify: pki_tool $kind $c" openssl verify -x509_strict -CAfile "lib_$kind/ca.pem" \
          "lib_$kind/$c.pem"
      certtool_checks "pki_tool $kind $c" "lib_$kind/$c.pem" "lib_$kind/ca.pem"
    done
    lint "pki_tool $kind CA" "lib_$kind/ca.pem"
  else
    bad "pki_tool setup $kind"
  fi
done

# --- summary ------------------------------------------------------------------------
echo "=== etsi_lint findings (all objects) ==="
grep -v " profile: " lint_all.txt | sed "s/^/  /" || true
errors=$(grep -c '^error ' lint_all.txt || true)
warnings=$(grep -c '^warning ' lint_all.txt || true)
echo "validate_all: $checks checks, $fails failed, $skips skipped; linter: $errors errors, $warnings warnings"
[ "$fails" -eq 0 ]
