#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vectors_reproducible.sh SPLITKEY VECTOR_DIR
# `splitkey vectors --out` is deterministic: it reproduces the committed
# vector files byte for byte, and what it writes passes --check.
. "$(dirname "$0")/lib.sh"
SK=$1 DIR=$2
name=vectors_reproducible

expect_status 0 "vectors --out" -- "$SK" vectors --out "$SK_TMP/v"
expect_output "^wrote 18 vectors" "18 vectors written"
sed 's/^/    /' "$SK_TMP/out"
n=$(find "$SK_TMP/v" -name '*.json' | wc -l)
if [ "$n" -eq 18 ]; then ok; else fail "$n files written, expected 18"; fi
for f in "$DIR"/*.json; do
  b=$(basename "$f")
  if cmp -s "$f" "$SK_TMP/v/$b"; then ok; else
    fail "$b differs from the committed file (if the key generation changed on purpose, regenerate the set with 'splitkey vectors --out tests/vectors/twoparty' and review the diff)"
  fi
done
# A second run into the same directory gives the same bytes again.
cp -r "$SK_TMP/v" "$SK_TMP/v1"
expect_status 0 "vectors --out again" -- "$SK" vectors --out "$SK_TMP/v"
if diff -r "$SK_TMP/v" "$SK_TMP/v1" >/dev/null; then ok; else fail "a second run differs"; fi
finish "$name"
