#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vectors_tamper.sh SPLITKEY VECTOR_DIR
# `splitkey vectors --check` fails on a copy of a vector with one field edited,
# and its output names the file and that field.  Also: broken JSON, unknown or
# missing members and wrong sizes are rejected.
. "$(dirname "$0")/lib.sh"
SK=$1 DIR=$2
name=vectors_tamper
src="$DIR/4K-pss-sha256.json"
[ -f "$src" ] || { fail "missing $src"; finish "$name"; }

# The unmodified copy passes (so a failure below is due to the edit).
mkdir "$SK_TMP/clean"
cp "$src" "$SK_TMP/clean/"
expect_status 0 "unmodified copy" -- "$SK" vectors --check "$SK_TMP/clean"

# edit FIELD MODE: copies the vector into its own directory with FIELD changed.
#   hex: the last hex digit of FIELD's value xor 1; other modes below.
edit() {
  local field=$1 mode=$2 d="$SK_TMP/edit-$1-$2"
  mkdir -p "$d"
  python3 - "$src" "$d/4K-pss-sha256.json" "$field" "$mode" <<'PY'
import json, sys
src, dst, field, mode = sys.argv[1:]
v = json.load(open(src), object_pairs_hook=dict)
if mode == "hex":
    s = v[field]
    v[field] = s[:-1] + "%x" % (int(s[-1], 16) ^ 1)
elif mode == "drop":
    del v[field]
elif mode == "extra":
    v[field] = "00"
elif mode == "short":
    v[field] = v[field][2:]
elif mode == "upper":
    v[field] = v[field].upper()
elif mode == "swap":
    v["p2"], v["q2"] = v["q2"], v["p2"]
elif mode == "value":
    v[field] = {"profile": "6K", "scheme": "pkcs1", "hash": "sha384", "k": 3072}[field]
open(dst, "w").write(json.dumps(v, indent=2) + "\n")
PY
  echo "$d"
}

for field in seed_client seed_server seed n1 p1 q1 d1 dc ds p2 q2 d2 n2 n message digest salt em y s1 s2 signature; do
  d=$(edit "$field" hex)
  expect_status 1 "$field edited" -- "$SK" vectors --check "$d"
  expect_output "4K-pss-sha256\.json: field $field: " "$field edited: a line names the file and the field"
  expect_output "FAILED" "$field edited: the file is reported as failed"
done

# Structure: a missing member, an unknown member, a field of the wrong size,
# upper-case hex, and parameters that do not fit the rest of the file.
d=$(edit y drop); expect_status 1 "member y missing" -- "$SK" vectors --check "$d"
expect_output "field y: missing" "missing member named"
d=$(edit y_extra extra); expect_status 1 "unknown member" -- "$SK" vectors --check "$d"
expect_output "field y_extra: unknown member" "unknown member named"
d=$(edit em short); expect_status 1 "em one byte short" -- "$SK" vectors --check "$d"
expect_output "field em: 511 bytes, expected 512" "wrong size named"
d=$(edit n upper); expect_status 1 "upper-case hex" -- "$SK" vectors --check "$d"
expect_output "field n: not lower-case hex" "upper-case hex named"
for field in profile scheme hash k; do
  d=$(edit "$field" value); expect_status 1 "$field changed" -- "$SK" vectors --check "$d"
  expect_output "4K-pss-sha256\.json: .*field " "$field changed: a field is named"
done

# p2 and q2 swapped: every relation still holds (the server primes may come in
# any order), so only regeneration from the seeds can tell, and the check says
# that the difference lies in key generation rather than in the file.
d=$(edit p2 swap); expect_status 1 "p2 and q2 swapped" -- "$SK" vectors --check "$d"
expect_output "field p2: differs from the value regenerated from the seeds" "swapped p2 named"
expect_output "field q2: differs from the value regenerated from the seeds" "swapped q2 named"
expect_output "note: every relation in the file holds" "points at key generation"
if grep -q "field [a-z0-9+]*: is not\|does not verify" "$SK_TMP/out"; then
  fail "p2 and q2 swapped: a relation was reported broken"; else ok; fi

# Not JSON at all, truncated JSON, a duplicate member, trailing data.
mkdir "$SK_TMP/broken"
head -c 2000 "$src" >"$SK_TMP/broken/4K-pss-sha256.json"
expect_status 1 "truncated file" -- "$SK" vectors --check "$SK_TMP/broken"
expect_output "not valid JSON" "truncated file reported"
python3 - "$src" "$SK_TMP/broken/4K-pss-sha256.json" <<'PY'
import sys
text = open(sys.argv[1]).read().rstrip()
assert text.endswith("}")
open(sys.argv[2], "w").write(text[:-1].rstrip() + ',\n  "y": "00"\n}\n')
PY
expect_status 1 "duplicate member" -- "$SK" vectors --check "$SK_TMP/broken"
expect_output "duplicate member" "duplicate member reported"
{ cat "$src"; echo "{}"; } >"$SK_TMP/broken/4K-pss-sha256.json"
expect_status 1 "trailing data" -- "$SK" vectors --check "$SK_TMP/broken"
expect_output "trailing data" "trailing data reported"

# One bad file among good ones still fails the whole check and names the file.
mkdir "$SK_TMP/mixed"
cp "$DIR"/4K-*.json "$SK_TMP/mixed/"
cp "$(edit signature hex)/4K-pss-sha256.json" "$SK_TMP/mixed/"
expect_status 1 "one bad file among six" -- "$SK" vectors --check "$SK_TMP/mixed"
expect_output "4K-pss-sha256\.json: field signature" "the bad file is named"
expect_output "4K-pkcs1-sha256\.json: ok" "the good files pass"
expect_output "checked 6 vectors: 1 do not match" "summary counts one failure"

finish "$name"
