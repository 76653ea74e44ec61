#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sign_local.sh SPLITKEY OPENSSL PROFILE SCHEME
# For each hash: `splitkey sign-local` signs a file; OpenSSL must verify the
# signature under the composite key it wrote, see a modulus of exactly 2k bits
# and e = 65537, and reject the signature under the other padding and over a
# changed message.  Each run must make a fresh key.
. "$(dirname "$0")/lib.sh"
SK=$1 OPENSSL=$2 PROFILE=$3 SCHEME=$4
K=$(bits_of_profile "$PROFILE")
NBITS=$((2 * K))
name="sign_local $PROFILE $SCHEME"

moduli=()
for HASH in sha256 sha384 sha512; do
  d="$SK_TMP/$HASH"
  mkdir -p "$d"
  # A message with binary content and a length that is not a block multiple.
  { echo "splitkey sign-local test, $PROFILE $SCHEME $HASH"; head -c 1237 /dev/urandom; } >"$d/msg"

  expect_status 0 "$name $HASH: sign-local" -- \
    "$SK" sign-local --profile "$PROFILE" --scheme "$SCHEME" --hash "$HASH" \
    --in "$d/msg" --pub-out "$d/pub.pem" --sig-out "$d/sig"
  cp "$SK_TMP/out" "$d/sign.log"
  expect_output "key id +[0-9a-f]{32}$" "$name $HASH: prints a 128-bit key id"
  for step in "client keygen" "server keygen" "enrolment" "device partial" "server complete" "verify"; do
    expect_output "$step +[0-9]+\.[0-9] ms" "$name $HASH: prints the time of '$step'"
  done
  [ -s "$d/pub.pem" ] && [ -s "$d/sig" ] || { fail "$name $HASH: no output files"; continue; }

  # The signature is exactly 2k/8 bytes.
  size=$(stat -c %s "$d/sig")
  if [ "$size" -eq $((NBITS / 8)) ]; then ok; else fail "$name $HASH: signature of $size bytes, expected $((NBITS / 8))"; fi

  # OpenSSL reads the key: RSA, exactly 2k bits, e = 65537.
  expect_status 0 "$name $HASH: openssl pkey reads the key" -- \
    "$OPENSSL" pkey -pubin -in "$d/pub.pem" -text -noout
  expect_output "Public-Key: \\($NBITS bit\\)" "$name $HASH: modulus of $NBITS bits"
  expect_output "Exponent: 65537 \\(0x10001\\)" "$name $HASH: e = 65537"
  expect_status 0 "$name $HASH: openssl rsa -modulus" -- \
    "$OPENSSL" rsa -pubin -in "$d/pub.pem" -noout -modulus
  mod=$(sed -n 's/^Modulus=//p' "$SK_TMP/out")
  # 2k bits: 2k/4 hex digits with the top bit set.
  if [ "${#mod}" -eq $((NBITS / 4)) ] && [[ ${mod:0:1} =~ [89A-F] ]]; then ok; else
    fail "$name $HASH: modulus hex '${mod:0:16}...' of ${#mod} digits is not $NBITS bits"; fi
  moduli+=("$mod")

  # OpenSSL verifies the signature with the right parameters ...
  # shellcheck disable=SC2046
  expect_status 0 "$name $HASH: openssl dgst -verify" -- \
    "$OPENSSL" dgst "-$HASH" -verify "$d/pub.pem" -signature "$d/sig" $(openssl_pss_opts "$SCHEME") "$d/msg"
  expect_output "^Verified OK" "$name $HASH: openssl says Verified OK"
  # ... and rejects it under the other padding, another hash and another message.
  if [ "$SCHEME" = pss ]; then other=pkcs1; else other=pss; fi
  # shellcheck disable=SC2046
  expect_status 1 "$name $HASH: openssl rejects it as $other" -- \
    "$OPENSSL" dgst "-$HASH" -verify "$d/pub.pem" -signature "$d/sig" $(openssl_pss_opts "$other") "$d/msg"
  if [ "$HASH" = sha256 ]; then wrong=sha512; else wrong=sha256; fi
  # shellcheck disable=SC2046
  expect_status 1 "$name $HASH: openssl rejects it as $wrong" -- \
    "$OPENSSL" dgst "-$wrong" -verify "$d/pub.pem" -signature "$d/sig" $(openssl_pss_opts "$SCHEME") "$d/msg"
  flip_byte "$d/msg" 20 "$d/msg.changed"
  # shellcheck disable=SC2046
  expect_status 1 "$name $HASH: openssl rejects a changed message" -- \
    "$OPENSSL" dgst "-$HASH" -verify "$d/pub.pem" -signature "$d/sig" $(openssl_pss_opts "$SCHEME") "$d/msg.changed"

  # splitkey verify agrees.
  expect_status 0 "$name $HASH: splitkey verify" -- \
    "$SK" verify --pub "$d/pub.pem" --scheme "$SCHEME" --hash "$HASH" --in "$d/msg" --sig "$d/sig"
  expect_status 1 "$name $HASH: splitkey verify rejects a changed message" -- \
    "$SK" verify --pub "$d/pub.pem" --scheme "$SCHEME" --hash "$HASH" --in "$d/msg.changed" --sig "$d/sig"
done

# Every run generates fresh shares: the three composite moduli differ.
if [ "${#moduli[@]}" -eq 3 ] && [ "${moduli[0]}" != "${moduli[1]}" ] && \
   [ "${moduli[1]}" != "${moduli[2]}" ] && [ "${moduli[0]}" != "${moduli[2]}" ]; then ok; else
  fail "$name: the runs did not produce three distinct keys"; fi

# The timings, for the log.
for HASH in sha256 sha384 sha512; do
  [ -f "$SK_TMP/$HASH/sign.log" ] && sed 's/^/    /' "$SK_TMP/$HASH/sign.log"
done
finish "$name"
