#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vectors_python.sh PYTHON VECTOR_DIR
# The independent Python recomputation (tests/vectors/twoparty/recompute.py,
# standard library only) agrees with every committed vector, and catches an
# edited field.
. "$(dirname "$0")/lib.sh"
PY=$1 DIR=$2
name=vectors_python

expect_status 0 "recompute.py on the committed set" -- "$PY" "$DIR/recompute.py" "$DIR"
expect_output "^recomputed 18 vectors: all match$" "all 18 vectors recomputed"

for field in y s1 s2 signature em salt d1 d2 ds p1 n1; do
  mkdir -p "$SK_TMP/$field"
  "$PY" - "$DIR/6K-pss-sha384.json" "$SK_TMP/$field/v.json" "$field" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
s = v[sys.argv[3]]
v[sys.argv[3]] = s[:-1] + "%x" % (int(s[-1], 16) ^ 1)
open(sys.argv[2], "w").write(json.dumps(v, indent=2))
PY
  expect_status 1 "recompute.py with $field edited" -- "$PY" "$DIR/recompute.py" "$SK_TMP/$field"
  expect_output "v\.json: field $field: " "recompute.py names $field"
done
finish "$name"
