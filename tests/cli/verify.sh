#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# verify.sh SPLITKEY OPENSSL
# `splitkey verify` must agree with `openssl dgst -verify` on valid and
# tampered signatures, under ordinary RSA keys made by OpenSSL (including an
# odd modulus size and e = 3) and under a splitkey composite key, for both
# schemes and every hash.
. "$(dirname "$0")/lib.sh"
SK=$1 OPENSSL=$2
name=verify

# agree WANT DESCRIPTION KEY SCHEME HASH MSG SIG: both tools give WANT (0 valid, 1 invalid).
agree() {
  local want=$1 what=$2 key=$3 scheme=$4 hash=$5 msg=$6 sig=$7 pem=$3
  # openssl dgst wants a PEM SubjectPublicKeyInfo; splitkey reads any of the forms.
  [ -f "$key.spki.pem" ] && pem="$key.spki.pem"
  # shellcheck disable=SC2046
  expect_status "$want" "$what (openssl)" -- \
    "$OPENSSL" dgst "-$hash" -verify "$pem" -signature "$sig" $(openssl_pss_opts "$scheme") "$msg"
  expect_status "$want" "$what (splitkey)" -- \
    "$SK" verify --pub "$key" --scheme "$scheme" --hash "$hash" --in "$msg" --sig "$sig"
}

# Keys: 2048 bits; 2049 bits (PSS then has a leading zero byte in EM); 3072 bits with e = 3.
"$OPENSSL" genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$SK_TMP/k2048.key" 2>/dev/null
"$OPENSSL" genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2049 -out "$SK_TMP/k2049.key" 2>/dev/null
"$OPENSSL" genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -pkeyopt rsa_keygen_pubexp:3 \
  -out "$SK_TMP/k3072e3.key" 2>/dev/null
keys=()
for k in k2048 k2049 k3072e3; do
  if [ -s "$SK_TMP/$k.key" ]; then ok; else fail "openssl could not make key $k"; continue; fi
  "$OPENSSL" pkey -in "$SK_TMP/$k.key" -pubout -out "$SK_TMP/$k.pub.pem"
  keys+=("$k")
done
# The same key in the other encodings splitkey reads: PKCS#1 PEM and SPKI DER.
"$OPENSSL" rsa -in "$SK_TMP/k2048.key" -RSAPublicKey_out -out "$SK_TMP/k2048.pkcs1.pem" 2>/dev/null
"$OPENSSL" pkey -in "$SK_TMP/k2048.key" -pubout -outform DER -out "$SK_TMP/k2048.der"
cp "$SK_TMP/k2048.pub.pem" "$SK_TMP/k2048.pkcs1.pem.spki.pem"
cp "$SK_TMP/k2048.pub.pem" "$SK_TMP/k2048.der.spki.pem"

{ echo "a message for verify.sh"; head -c 3001 /dev/urandom; } >"$SK_TMP/msg"
flip_byte "$SK_TMP/msg" 1500 "$SK_TMP/msg.changed"
: >"$SK_TMP/empty"

for k in "${keys[@]}"; do
  for scheme in pkcs1 pss; do
    for hash in sha256 sha384 sha512; do
      t="$k $scheme $hash"
      sig="$SK_TMP/$k.$scheme.$hash.sig"
      # shellcheck disable=SC2046
      "$OPENSSL" dgst "-$hash" -sign "$SK_TMP/$k.key" $(openssl_pss_opts "$scheme") -out "$sig" "$SK_TMP/msg"
      agree 0 "$t: valid signature" "$SK_TMP/$k.pub.pem" "$scheme" "$hash" "$SK_TMP/msg" "$sig"
      flip_byte "$sig" 7 "$sig.bad1"
      agree 1 "$t: signature with a flipped byte" "$SK_TMP/$k.pub.pem" "$scheme" "$hash" "$SK_TMP/msg" "$sig.bad1"
      flip_byte "$sig" -1 "$sig.bad2"
      agree 1 "$t: signature with its last byte flipped" "$SK_TMP/$k.pub.pem" "$scheme" "$hash" "$SK_TMP/msg" "$sig.bad2"
      agree 1 "$t: changed message" "$SK_TMP/$k.pub.pem" "$scheme" "$hash" "$SK_TMP/msg.changed" "$sig"
      head -c -1 "$sig" >"$sig.short"
      expect_status 1 "$t: truncated signature (splitkey)" -- \
        "$SK" verify --pub "$SK_TMP/$k.pub.pem" --scheme "$scheme" --hash "$hash" --in "$SK_TMP/msg" --sig "$sig.short"
      # The other scheme must not accept it.
      if [ "$scheme" = pss ]; then other=pkcs1; else other=pss; fi
      agree 1 "$t: verified as $other" "$SK_TMP/$k.pub.pem" "$other" "$hash" "$SK_TMP/msg" "$sig"
    done
    # An empty message signs and verifies like any other.
    sig="$SK_TMP/$k.$scheme.empty.sig"
    # shellcheck disable=SC2046
    "$OPENSSL" dgst -sha256 -sign "$SK_TMP/$k.key" $(openssl_pss_opts "$scheme") -out "$sig" "$SK_TMP/empty"
    agree 0 "$k $scheme: empty message" "$SK_TMP/$k.pub.pem" "$scheme" sha256 "$SK_TMP/empty" "$sig"
  done
  # PSS with a salt length other than the hash length: splitkey refuses it.
  sig="$SK_TMP/$k.pss.salt0.sig"
  "$OPENSSL" dgst -sha256 -sign "$SK_TMP/$k.key" -sigopt rsa_padding_mode:pss \
    -sigopt rsa_pss_saltlen:0 -out "$sig" "$SK_TMP/msg"
  agree 1 "$k pss: salt of length 0" "$SK_TMP/$k.pub.pem" pss sha256 "$SK_TMP/msg" "$sig"
  # A key that does not match.
  other_key=k2048; [ "$k" = k2048 ] && other_key=k2049
  agree 1 "$k: signature under another key" "$SK_TMP/$other_key.pub.pem" pkcs1 sha256 "$SK_TMP/msg" "$SK_TMP/$k.pkcs1.sha256.sig"
done

# Key encodings: PKCS#1 RSAPublicKey PEM and SubjectPublicKeyInfo DER.
for form in pkcs1.pem der; do
  agree 0 "k2048 as $form: valid" "$SK_TMP/k2048.$form" pss sha384 "$SK_TMP/msg" "$SK_TMP/k2048.pss.sha384.sig"
  agree 1 "k2048 as $form: changed message" "$SK_TMP/k2048.$form" pss sha384 "$SK_TMP/msg.changed" "$SK_TMP/k2048.pss.sha384.sig"
done

# A splitkey composite key (4K: n of 4096 bits) made by sign-local.
for scheme in pkcs1 pss; do
  expect_status 0 "sign-local 4K $scheme" -- "$SK" sign-local --profile 4K --scheme "$scheme" --hash sha384 \
    --in "$SK_TMP/msg" --pub-out "$SK_TMP/split.$scheme.pem" --sig-out "$SK_TMP/split.$scheme.sig"
  agree 0 "composite $scheme: valid" "$SK_TMP/split.$scheme.pem" "$scheme" sha384 "$SK_TMP/msg" "$SK_TMP/split.$scheme.sig"
  flip_byte "$SK_TMP/split.$scheme.sig" 100 "$SK_TMP/split.$scheme.bad"
  agree 1 "composite $scheme: flipped signature byte" "$SK_TMP/split.$scheme.pem" "$scheme" sha384 "$SK_TMP/msg" "$SK_TMP/split.$scheme.bad"
  agree 1 "composite $scheme: changed message" "$SK_TMP/split.$scheme.pem" "$scheme" sha384 "$SK_TMP/msg.changed" "$SK_TMP/split.$scheme.sig"
done

finish "$name"
