#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cades_t.sh BINDIR PKI_TOOL - a CAdES-T style signature time stamp over a
# split-key signature.
#
# 1. PKI_TOOL (tests/pki/pki_tool.c) makes a split key, its qualified SIGN
#    certificate and an RSA signature of data.txt made by the two parties
#    (data.sig); openssl checks that it is an ordinary RSA signature.
# 2. A CA (splitkey-ca) certifies a TSA (splitkey-tsa init / issue-tsa) and
#    splitkey-tsa serves time stamps on a loopback port chosen at run time.
# 3. The time stamp is asked over the signature VALUE: the query's imprint
#    is SHA-256(data.sig), as the signature-time-stamp attribute of CAdES-T
#    (ETSI EN 319 122-1 5.3) is.
# 4. openssl ts -verify checks the token against the signature bytes with
#    the TSA's CA, and refuses it for another signature.
# Exit status: 0 when every step succeeds.
set -euo pipefail

BIN=$(cd "$1" && pwd)
TOOL=$2
WORK=$(mktemp -d)
TSA_PID=
finish() {
  if [ -n "$TSA_PID" ]; then kill -TERM "$TSA_PID" 2>/dev/null || true; wait "$TSA_PID" || true; fi
  rm -rf "$WORK"
}
trap finish EXIT
cd "$WORK"

echo "== 1. a split-key signature"
mkdir signer
"$TOOL" setup signer rsa >/dev/null
openssl x509 -in signer/sign.pem -noout -pubkey >signer.pub
openssl dgst -sha256 -verify signer.pub -signature signer/data.sig signer/data.txt
cp signer/data.sig sig.bin

echo "== 2. a TSA certified by the CA"
"$BIN/splitkey-ca" init --dir ca --subject "CN=Example CA,O=Example,C=LV" --key ec-p384 \
  --ocsp-url http://127.0.0.1:8080/ocsp --ca-url http://127.0.0.1:8080/ca.crt \
  --pds-url https://example.org/pds_en.pdf >/dev/null
"$BIN/splitkey-tsa" init --dir tsa --subject "C=LV,O=Example,CN=Example TSA" --key ec-p384 \
  >/dev/null
"$BIN/splitkey-ca" issue-tsa --dir ca --subject "C=LV,O=Example,CN=Example TSA" \
  --csr tsa/tsa.csr --out tsa/tsa.pem
"$BIN/splitkey-tsa" run --dir tsa --http 127.0.0.1:0 --qualified --ready-file ready \
  2>tsa.log &
TSA_PID=$!
while [ ! -s ready ]; do
  kill -0 "$TSA_PID" 2>/dev/null || { cat tsa.log >&2; exit 1; }
  sleep 0.1
done
URL=$(cat ready)

echo "== 3. a time stamp over the signature value"
openssl ts -query -data sig.bin -sha256 -cert -out sig.tsq
curl -sS -f -H 'Content-Type: application/timestamp-query' --data-binary @sig.tsq \
  -o sig.tsr "$URL"
openssl ts -reply -in sig.tsr -text | grep -E "Status:|Policy OID:|Serial number:|Time stamp:"
# The imprint is SHA-256 of the signature bytes, computed independently.
want=$(openssl dgst -sha256 -r sig.bin | cut -c1-64)
openssl ts -verify -digest "$want" -in sig.tsr -CAfile ca/ca.pem -untrusted tsa/tsa.pem

echo "== 4. verification"
openssl ts -verify -data sig.bin -in sig.tsr -CAfile ca/ca.pem -untrusted tsa/tsa.pem
printf 'x' | cat sig.bin - >other.bin
if openssl ts -verify -data other.bin -in sig.tsr -CAfile ca/ca.pem -untrusted tsa/tsa.pem \
  >/dev/null 2>&1; then
  echo "the time stamp verified for another signature" >&2
  exit 1
fi
echo "CAdES-T: the signature value is time-stamped and the token verifies"
