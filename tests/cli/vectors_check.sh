#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vectors_check.sh SPLITKEY VECTOR_DIR
# The committed two-party vectors pass `splitkey vectors --check`: all 18
# (3 profiles x 2 schemes x 3 hashes) are present and match.
. "$(dirname "$0")/lib.sh"
SK=$1 DIR=$2
name=vectors_check

for p in 4K 6K 8K; do
  for s in pkcs1 pss; do
    for h in sha256 sha384 sha512; do
      if [ -f "$DIR/$p-$s-$h.json" ]; then ok; else fail "missing vector $p-$s-$h.json"; fi
    done
  done
done
expect_status 0 "vectors --check on the committed set" -- "$SK" vectors --check "$DIR"
expect_output "^checked 18 vectors: all match$" "all 18 vectors checked"
if grep -q "FAILED\|field " "$SK_TMP/out"; then fail "mismatch lines in a passing check"; else ok; fi
sed 's/^/    /' "$SK_TMP/out"
finish "$name"
