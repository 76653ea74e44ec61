#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sign_local_outputs.sh SPLITKEY [OPENSSL]
# `splitkey sign-local` without --profile uses 6K, the default profile; an
# output path that cannot be written (a directory that does not exist, a
# read-only directory, a directory in place of the file) fails at once with
# exit 1, before any key is generated or anything printed, and leaves no
# file behind.
. "$(dirname "$0")/lib.sh"
SK=$1
OPENSSL=${2:-}
name=sign_local_outputs
printf 'sign-local outputs\n' >"$SK_TMP/msg"
args=(sign-local --scheme pss --hash sha256 --in "$SK_TMP/msg")

# nothing was done: no report of a profile, a key id or a step
did_no_work() {
  if grep -Eq "profile|key id|keygen|enrolment|wrote" "$SK_TMP/out"; then
    fail "$1: work was done before the error"
    sed 's/^/    | /' "$SK_TMP/out" >&2
  else
    ok
  fi
}

mkdir "$SK_TMP/out.d"
expect_status 1 "--pub-out in a missing directory" -- \
  "$SK" "${args[@]}" --pub-out "$SK_TMP/none/pub.pem" --sig-out "$SK_TMP/out.d/sig"
expect_output "cannot write $SK_TMP/none/pub.pem" "missing directory named"
did_no_work "--pub-out in a missing directory"
expect_status 1 "--sig-out in a missing directory" -- \
  "$SK" "${args[@]}" --pub-out "$SK_TMP/out.d/pub.pem" --sig-out "$SK_TMP/none/sig"
expect_output "cannot write $SK_TMP/none/sig" "missing directory named (sig)"
did_no_work "--sig-out in a missing directory"
expect_status 1 "--sig-out is a directory" -- \
  "$SK" "${args[@]}" --pub-out "$SK_TMP/out.d/pub.pem" --sig-out "$SK_TMP/out.d"
did_no_work "--sig-out is a directory"
if [ "$(id -u)" -ne 0 ]; then # permissions do not stop root
  mkdir "$SK_TMP/ro"
  chmod 555 "$SK_TMP/ro"
  expect_status 1 "--sig-out in a read-only directory" -- \
    "$SK" "${args[@]}" --pub-out "$SK_TMP/out.d/pub.pem" --sig-out "$SK_TMP/ro/sig"
  expect_output "cannot write $SK_TMP/ro/sig" "read-only directory named"
  did_no_work "--sig-out in a read-only directory"
  chmod 755 "$SK_TMP/ro"
fi
if [ -z "$(ls -A "$SK_TMP/out.d")" ]; then ok; else fail "files left behind: $(ls -A "$SK_TMP/out.d")"; fi

# the default profile is 6K (n of 6144 bits)
expect_status 0 "sign-local without --profile" -- \
  "$SK" "${args[@]}" --pub-out "$SK_TMP/pub.pem" --sig-out "$SK_TMP/sig"
expect_output "profile 6K \(k = 3072" "the default profile is 6K"
size=$(stat -c %s "$SK_TMP/sig" 2>/dev/null || echo 0)
if [ "$size" -eq 768 ]; then ok; else fail "default profile: signature of $size bytes, expected 768"; fi
if [ -n "$OPENSSL" ]; then
  expect_status 0 "openssl reads the key" -- "$OPENSSL" pkey -pubin -in "$SK_TMP/pub.pem" -text -noout
  expect_output "Public-Key: \(6144 bit\)" "default profile: a modulus of 6144 bits"
fi
finish "$name"
