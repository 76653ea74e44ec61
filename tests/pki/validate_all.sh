#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# validate_all.sh BIN_DIR [TEST_TOOLS_DIR] - independent validation of what a
# freshly initialised CA makes: the CA, OCSP-signer, SIGN, AUTH (and, when
# this build can make them, seal and TSA) certificates, OCSP responses for
# good, revoked and unknown serials from a running splitkey-ocsp, and a CRL.
# Every object goes through etsi_lint.py (ETSI/RFC profile linter), openssl
# (verify, ocsp, crl) and GnuTLS (certtool, ocsptool).
#
# BIN_DIR holds splitkey-ca and splitkey-ocsp; TEST_TOOLS_DIR (default
# BIN_DIR/../tests) holds ca_test_tool and pki_tool.  Exits non-zero on any
# error and prints a summary; a capability this build lacks is reported as
# "SKIPPED: ..." and never passed over silently.
set -euo pipefail

BIN=$(cd "$1" && pwd)
TOOLS=$(cd "${2:-$BIN/../tests}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
LINT="$HERE/etsi_lint.py"
WORK=$(mktemp -d)
. "$HERE/programs/lib.sh"
trap cleanup EXIT
cd "$WORK"

CA="$BIN/splitkey-ca"
OCSPD="$BIN/splitkey-ocsp"
TOOL="$TOOLS/ca_test_tool"
PKI_TOOL="$TOOLS/pki_tool"
skips=0
skip() { skips=$((skips + 1)); echo "SKIPPED: $*"; }

# A python3 with python3-cryptography and python3-pyasn1-modules.
PY=""
for p in "${SK_PYTHON:-}" /usr/bin/python3 python3; do
  [ -n "$p" ] || continue
  if "$p" -c 'import cryptography.x509, pyasn1_modules.rfc2560' >/dev/null 2>&1; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
  echo "validate_all: no python3 with cryptography and pyasn1-modules (scripts/install-deps.sh)" >&2
  exit 1
fi
for t in openssl certtool ocsptool; do
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

# --- a fresh CA ------------------------------------------------------------------
run "splitkey-ca init" "$CA" init --dir ca \
    --subject "C=LV,O=Example Trust Services,CN=Example Qualified CA" \
    --policy-oid 1.3.6.1.4.1.99999.1.1 --ocsp-url http://127.0.0.1:8080/ocsp \
    --ca-url http://127.0.0.1:8080/ca.crt --pds-url https://example.org/pds_en.pdf
lint "CA certificate" ca/ca.pem
run "openssl verify: the self-signed CA" openssl verify -x509_strict -CAfile ca/ca.pem ca/ca.pem
run "certtool -i: CA" certtool -i --infile ca/ca.pem
cert_checks "OCSP signer" ca/ocsp.pem

# --- issuance through the real CA, for a split key -----------------------------
mkdir ra out
"$TOOL" identity ra >/dev/null
run "add-ra" "$CA" add-ra --dir ca --pub ra/server.pub
start ca "$CA" run --dir ca --listen tcp://127.0.0.1:0 --ready-file ca.ready
wait_ready ca.ready "$PID_ca"
CAURL=$(cat ca.ready)
start ocsp "$OCSPD" run --ca-dir ca --http 127.0.0.1:0 --ready-file ocsp.ready
wait_ready ocsp.ready "$PID_ocsp"
OURL=$(cat ocsp.ready)
if "$TOOL" enrol ra "$CAURL" ca/ca.pem out >enrol.txt 2>&1; then ok "enrolment through the CA"; else
  bad "enrolment through the CA"; sed 's/^/    /' enrol.txt >&2; fi
cert_checks "qualified SIGN" out/sign.pem
cert_checks "AUTH" out/auth.pem
if [ -s out/authb.pem ]; then cert_checks "basic AUTH" out/authb.pem; else
  skip "no basic AUTH certificate from the enrolment"; fi
if [ -s out/signb.pem ]; then cert_checks "basic SIGN" out/signb.pem; else
  skip "the programs issue no basic SIGN certificate in this test (checked below from pki_tool)"; fi

# seal: when the CA and the enrolment tool know the SEAL purpose, the
# enrolment writes out/seal.pem (EN 319 412-3 legal-person certificate)
seal_checks() {
  if [ -s out/seal.pem ]; then
    cert_checks "qualified seal" out/seal.pem
  else
    skip "no seal certificate in this build (the enrolment made no out/seal.pem)"
  fi
}
seal_checks

# TSA: when the CA can issue a time-stamping certificate
tsa_checks() {
  if ! "$CA" issue-tsa --help >/dev/null 2>&1; then
    skip "no TSA in this build (splitkey-ca issue-tsa is missing)"
    return
  fi
  run "splitkey-ca issue-tsa" "$CA" issue-tsa --dir ca \
      --subject "C=LV,O=Example Trust Services,CN=Example Time-Stamping Unit" \
      --out tsa.pem --key-out tsa.key
  if [ -s tsa.pem ]; then
    cert_checks "TSA" tsa.pem
    run "openssl verify -purpose timestampsign: TSA" \
        openssl verify -purpose timestampsign -CAfile ca/ca.pem tsa.pem
  fi
  if [ -x "$BIN/splitkey-tsa" ]; then
    skip "splitkey-tsa replies are not validated here yet (only its certificate)"
  fi
}
tsa_checks

# --- OCSP: good, revoked, unknown from the running responder -------------------
SIGN=$(cat out/sign.serial)
AUTH=$(cat out/auth.serial)
run "revoke AUTH (keyCompromise)" "$CA" revoke --dir ca --serial "$AUTH" --reason keyCompromise
# ocsp_case NAME EXPECT ARGS...: asks the responder (nonce, SHA-1 or SHA-256
# CertID), keeps request and response, checks them with every tool
ocsp_case() {
  local name=$1 want=$2; shift 2
  openssl ocsp -url "$OURL" -issuer ca/ca.pem "$@" -CAfile ca/ca.pem -nonce \
      -reqout "$name.req" -respout "$name.resp" >"$name.txt" 2>&1 || true
  if [ ! -s "$name.resp" ]; then bad "OCSP $name: no response"; sed 's/^/    /' "$name.txt" >&2; return; fi
  lint "OCSP response ($name)" --ca ca/ca.pem --request "$name.req" "$name.resp"
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
ocsp_case good good -cert out/sign.pem
ocsp_case good_sha256 good -sha256 -cert out/sign.pem
ocsp_case revoked revoked -cert out/auth.pem
ocsp_case unknown unknown -serial 0x0123456789abcdef

# --- CRL ----------------------------------------------------------------------------
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

stop "$PID_ocsp"
stop "$PID_ca"

# --- the library's own profiles (pki_tool): basic SIGN and the EC CA ------------
for kind in rsa ec; do
  mkdir "lib_$kind"
  if "$PKI_TOOL" setup "lib_$kind" "$kind" >/dev/null 2>&1; then
    ok "pki_tool setup $kind"
    for c in sign auth signb authb ocsp; do
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
