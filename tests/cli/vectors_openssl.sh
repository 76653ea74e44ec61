#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vectors_openssl.sh OPENSSL PYTHON VECTOR_DIR
# OpenSSL, knowing nothing of splitkey, accepts every committed vector: the
# public key (n, e) built with `openssl asn1parse -genconf`, the message and
# the signature verify with `openssl dgst -verify`, and raw RSA
# (`pkeyutl -verifyrecover`, no padding) turns the signature back into em.
. "$(dirname "$0")/lib.sh"
OPENSSL=$1 PY=$2 DIR=$3
name=vectors_openssl

count=0
for f in "$DIR"/*.json; do
  b=$(basename "$f" .json)
  d="$SK_TMP/$b"
  mkdir -p "$d"
  # Fields to files: hex fields as binary, the rest as text.
  "$PY" - "$f" "$d" <<'PY'
import json, os, sys
v = json.load(open(sys.argv[1]))
out = sys.argv[2]
for field in ("message", "signature", "em"):
    open(os.path.join(out, field), "wb").write(bytes.fromhex(v[field]))
for field in ("scheme", "hash", "n", "e"):
    open(os.path.join(out, field + ".txt"), "w").write(v[field])
PY
  scheme=$(cat "$d/scheme.txt") hash=$(cat "$d/hash.txt")
  {
    echo "asn1 = SEQUENCE:spki"
    echo "[spki]"
    echo "algorithm = SEQUENCE:rsa_alg"
    echo "key = BITWRAP,SEQUENCE:rsa_key"
    echo "[rsa_alg]"
    echo "oid = OID:rsaEncryption"
    echo "params = NULL"
    echo "[rsa_key]"
    echo "n = INTEGER:0x$(cat "$d/n.txt")"
    echo "e = INTEGER:0x$(cat "$d/e.txt")"
  } >"$d/key.cnf"
  expect_status 0 "$b: build the public key" -- "$OPENSSL" asn1parse -genconf "$d/key.cnf" -out "$d/pub.der" -noout
  expect_status 0 "$b: convert it to PEM" -- "$OPENSSL" pkey -pubin -inform DER -in "$d/pub.der" -out "$d/pub.pem"
  # shellcheck disable=SC2046
  expect_status 0 "$b: openssl dgst -verify" -- \
    "$OPENSSL" dgst "-$hash" -verify "$d/pub.pem" -signature "$d/signature" $(openssl_pss_opts "$scheme") "$d/message"
  expect_output "^Verified OK" "$b: Verified OK"
  flip_byte "$d/signature" 33 "$d/signature.bad"
  # shellcheck disable=SC2046
  expect_status 1 "$b: openssl rejects a flipped signature byte" -- \
    "$OPENSSL" dgst "-$hash" -verify "$d/pub.pem" -signature "$d/signature.bad" $(openssl_pss_opts "$scheme") "$d/message"
  expect_status 0 "$b: raw RSA public operation" -- \
    "$OPENSSL" pkeyutl -verifyrecover -pubin -inkey "$d/pub.pem" -pkeyopt rsa_padding_mode:none \
    -in "$d/signature" -out "$d/recovered"
  if cmp -s "$d/recovered" "$d/em"; then ok; else fail "$b: signature^e mod n (openssl) is not em"; fi
  count=$((count + 1))
done
if [ "$count" -eq 18 ]; then ok; else fail "$count vectors, expected 18"; fi
finish "$name"
