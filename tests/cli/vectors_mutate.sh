#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vectors_mutate.sh SPLITKEY PYTHON VECTOR_DIR
# Robustness of `splitkey vectors --check` against damaged files: 300 mutants of
# a vector (flipped bytes, truncations, insertions, deletions, repeated
# chunks) in one directory.  The check must finish (no crash, no hang), exit 1,
# report every file, and pass none of them, since every mutant changes the
# bytes or carries a name that does not match its contents.
. "$(dirname "$0")/lib.sh"
SK=$1 PY=$2 DIR=$3
name=vectors_mutate
mkdir "$SK_TMP/m"
"$PY" - "$DIR/4K-pss-sha256.json" "$SK_TMP/m" <<'PY'
import os, random, sys
src = open(sys.argv[1], "rb").read()
rng = random.Random(20261122)
for i in range(300):
    d = bytearray(src)
    kind = i % 5
    pos = rng.randrange(len(d))
    if kind == 0:
        d[pos] ^= rng.randrange(1, 256)
    elif kind == 1:
        d = d[:pos]
    elif kind == 2:
        d[pos:pos] = bytes([rng.randrange(256)])
    elif kind == 3:
        del d[pos:pos + rng.randrange(1, 64)]
    else:
        n = rng.randrange(1, 200)
        d[pos:pos] = d[pos:pos + n]
    open(os.path.join(sys.argv[2], "mutant-%03d.json" % i), "wb").write(bytes(d))
PY
expect_status 1 "vectors --check on 300 mutants" -- timeout 600 "$SK" vectors --check "$SK_TMP/m"
reported=$(grep -Ec '^[^ ]*/mutant-[0-9]{3}\.json: (ok|FAILED \([0-9]+ mismatches\)|not valid JSON: .*|field .*|object has .*|cannot read: .*)$' "$SK_TMP/out")
summaries=$(grep -Ec '/mutant-[0-9]{3}\.json: ok$' "$SK_TMP/out")
if [ "$summaries" -eq 0 ]; then ok; else fail "$summaries mutants passed the check"; fi
expect_output "^checked 300 vectors: 300 do not match$" "all 300 mutants fail"
if [ "$reported" -ge 300 ]; then ok; else fail "only $reported report lines for 300 mutants"; fi
finish "$name"
