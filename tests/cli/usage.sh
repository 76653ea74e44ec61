#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# usage.sh SPLITKEY
# --help prints usage and exits 0; usage errors exit 2 with a message naming
# the problem, an input file that does not exist included; other failures
# exit 1.
. "$(dirname "$0")/lib.sh"
SK=$1
name=usage
printf 'hello\n' >"$SK_TMP/msg"

expect_status 0 "splitkey --help" -- "$SK" --help
expect_output "^Usage: splitkey COMMAND" "top-level usage"
expect_output "sign-local" "top-level usage lists sign-local"
expect_status 0 "splitkey --version" -- "$SK" --version
expect_output "^splitkey [0-9]+\.[0-9]+\.[0-9]+" "version"
for cmd in sign-local verify vectors; do
  expect_status 0 "$cmd --help" -- "$SK" "$cmd" --help
  expect_output "^Usage: splitkey $cmd" "$cmd usage"
  expect_output "Exit status" "$cmd usage documents exit codes"
done

expect_status 2 "no command" -- "$SK"
expect_status 2 "unknown command" -- "$SK" frobnicate
expect_output "unknown command 'frobnicate'" "unknown command message"

sl=(sign-local --scheme pss --hash sha256 --in "$SK_TMP/msg" --pub-out "$SK_TMP/p.pem" --sig-out "$SK_TMP/s")
expect_status 2 "bad profile" -- "$SK" "${sl[@]}" --profile 5K
expect_output "unknown profile '5K'" "bad profile message"
expect_status 2 "lower-case profile" -- "$SK" "${sl[@]}" --profile 4k
expect_status 2 "profile without value" -- "$SK" "${sl[@]}" --profile
expect_output "option '--profile' needs a value" "missing value message"
expect_status 2 "value swallowed by the next option" -- \
  "$SK" sign-local --profile --scheme pss --hash sha256 --in "$SK_TMP/msg" --pub-out "$SK_TMP/p.pem" --sig-out "$SK_TMP/s"
expect_status 2 "unknown option" -- "$SK" "${sl[@]}" --profile 4K --salt 00
expect_output "unknown option '--salt'" "unknown option message"
expect_status 2 "repeated option" -- "$SK" "${sl[@]}" --profile 4K --profile 4K
expect_output "more than once" "repeated option message"
expect_status 2 "stray argument" -- "$SK" "${sl[@]}" --profile 4K extra
expect_output "unexpected argument 'extra'" "stray argument message"
expect_status 2 "bad scheme" -- "$SK" sign-local --profile 4K --scheme raw --hash sha256 \
  --in "$SK_TMP/msg" --pub-out "$SK_TMP/p.pem" --sig-out "$SK_TMP/s"
expect_output "unknown scheme 'raw'" "bad scheme message"
expect_status 2 "bad hash (sha1 is not for signing)" -- "$SK" sign-local --profile 4K --scheme pss --hash sha1 \
  --in "$SK_TMP/msg" --pub-out "$SK_TMP/p.pem" --sig-out "$SK_TMP/s"
expect_output "unknown hash 'sha1'" "bad hash message"
# Usage errors are found before any work: no output file appears.
if [ ! -e "$SK_TMP/p.pem" ] && [ ! -e "$SK_TMP/s" ]; then ok; else fail "a usage error wrote output"; fi

expect_status 2 "sign-local with a missing input file" -- "$SK" sign-local --profile 4K --scheme pss \
  --hash sha256 --in "$SK_TMP/absent" --pub-out "$SK_TMP/p.pem" --sig-out "$SK_TMP/s"
expect_output "cannot read" "missing input message"

expect_status 2 "verify without --sig" -- "$SK" verify --pub "$SK_TMP/p.pem" --scheme pss --hash sha256 --in "$SK_TMP/msg"
expect_output "missing required option '--sig'" "verify missing option"
expect_status 2 "verify with a bad hash" -- "$SK" verify --pub x --scheme pss --hash md5 --in x --sig x
expect_status 2 "verify with missing files" -- "$SK" verify --pub "$SK_TMP/absent" --scheme pss --hash sha256 --in "$SK_TMP/msg" --sig "$SK_TMP/msg"
expect_status 1 "verify with a key file that is not a key" -- "$SK" verify --pub "$SK_TMP/msg" --scheme pss --hash sha256 --in "$SK_TMP/msg" --sig "$SK_TMP/msg"

expect_status 2 "vectors without a mode" -- "$SK" vectors
expect_output "exactly one of --out DIR and --check DIR" "vectors mode message"
expect_status 2 "vectors with both modes" -- "$SK" vectors --out "$SK_TMP/a" --check "$SK_TMP/b"
expect_status 2 "vectors --check on a missing directory" -- "$SK" vectors --check "$SK_TMP/absent"
mkdir "$SK_TMP/empty"
expect_status 1 "vectors --check on an empty directory" -- "$SK" vectors --check "$SK_TMP/empty"
expect_output "no \\*\\.json files" "empty directory message"

finish "$name"
