#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vectors_malformed.sh SPLITKEY VECTOR_DIR
# `splitkey vectors --check` refuses malformed vector files with exit status 1
# and one clear line naming the file and the problem, never a crash:
#   - text that is not one JSON object (empty, not JSON, an array, cut short,
#     a missing comma, a duplicate member, trailing data, invalid UTF-8, an
#     escaped NUL, a number too large), with the line of the problem;
#   - JSON of the wrong shape (k not an integer, a field that is not a string);
#   - hex fields that are not lower-case hex of whole bytes (odd length, a
#     character that is not a hex digit, one upper-case digit, a 0x prefix,
#     trailing garbage);
# and the messages never quote the file (vector files hold key shares).
. "$(dirname "$0")/lib.sh"
SK=$1 DIR=$2
name=vectors_malformed
base=4K-pss-sha256.json
src="$DIR/$base"
[ -f "$src" ] || { fail "missing $src"; finish "$name"; }
n_hex=$(sed -nE 's/^  "n": "([0-9a-f]*)",?$/\1/p' "$src")
[ "${#n_hex}" -eq 1024 ] && ok || fail "no 1024-digit n (512 bytes) in $src"

case_no=0
# check_case DESCRIPTION PATTERN: runs --check on $SK_TMP/c$case_no/$base,
# which the caller wrote; expects exit 1, PATTERN in a line naming the file,
# the file reported as failed, and no quote of n.
check_case() {
  local what=$1 pattern=$2
  expect_status 1 "$what" -- "$SK" vectors --check "$SK_TMP/c$case_no"
  expect_output "^$SK_TMP/c$case_no/$base: $pattern" "$what: the file and the problem named"
  expect_output "^$SK_TMP/c$case_no/$base: FAILED" "$what: the file reported as failed"
  expect_output "^checked 1 vectors: 1 do not match$" "$what: summary"
  if grep -q "${n_hex:0:24}" "$SK_TMP/out"; then fail "$what: the output quotes n"; else ok; fi
}
# new_case: a fresh directory for the next case; sets f to the file's path.
new_case() {
  case_no=$((case_no + 1))
  mkdir "$SK_TMP/c$case_no"
  f="$SK_TMP/c$case_no/$base"
}

# The unmodified copy passes, so each failure below comes from its edit.
new_case; cp "$src" "$f"
expect_status 0 "unmodified copy" -- "$SK" vectors --check "$SK_TMP/c$case_no"

# --- not one JSON object
new_case; : >"$f"
check_case "empty file" "not valid JSON: no object: the text is empty at line 1, byte 0$"
new_case; printf ' \n\t\r\n' >"$f"
check_case "only whitespace" "not valid JSON: no object: the text is empty at line"
new_case; echo "hello" >"$f"
check_case "not JSON" "not valid JSON: .* at line 1"
new_case; { echo "["; cat "$src"; echo "]"; } >"$f"
check_case "an array" "not valid JSON: an array where one object was expected$"
new_case; head -c 3000 "$src" >"$f"
check_case "cut short" "not valid JSON: the text ends before the object is complete at line"
new_case; sed '3s/,$//' "$src" >"$f"
check_case "a missing comma" "not valid JSON: .* at line 4, byte [0-9]+$"
new_case; sed '4s/^/  "n": "00",\n/' "$src" >"$f"
check_case "a duplicate member" "not valid JSON: duplicate member at line"
new_case; { cat "$src"; echo "{}"; } >"$f"
check_case "trailing data" "not valid JSON: trailing data after the object at line"
new_case; sed 's/See README\.md/See \xffREADME.md/' "$src" >"$f"
check_case "invalid UTF-8" "not valid JSON: invalid UTF-8 at line 3"
new_case; sed 's/See README\.md/See \\u0000README.md/' "$src" >"$f"
check_case "an escaped NUL" "not valid JSON: NUL character in a string at line 3"
new_case; sed -E 's/^  "k": [0-9]+,$/  "k": 123456789012345678901234567890,/' "$src" >"$f"
check_case "a number too large" "not valid JSON: number too large at line"
# a syntax error inside a key share: the message does not quote it
new_case; sed -E 's/^(  "n": )"([0-9a-f]*)"/\1\2/' "$src" >"$f"
check_case "an unquoted n" "not valid JSON: .* at line [0-9]+, byte [0-9]+$"
new_case; sed -E "s/^(  \"n\": )\"([0-9a-f]*)\"/\1'\2'/" "$src" >"$f"
check_case "n in single quotes" "not valid JSON: .* at line [0-9]+, byte [0-9]+$"

# --- valid JSON of the wrong shape
new_case; sed -E 's/^  "k": ([0-9]+),$/  "k": "\1",/' "$src" >"$f"
check_case "k as a string" "field k: missing or not an integer$"
new_case; sed -E 's/^  "k": ([0-9]+),$/  "k": \1.0,/' "$src" >"$f"
check_case "k as a real" "field k: missing or not an integer$"
new_case; sed -E 's/^  "k": ([0-9]+),$/  "k": -\1,/' "$src" >"$f"
check_case "a negative k" "field k: -2048 does not match profile 4K"
new_case; sed -E 's/^  "n": "[0-9a-f]*"/  "n": null/' "$src" >"$f"
check_case "n null" "field n: not a string$"
new_case; sed -E 's/^  "n": "([0-9a-f]*)"/  "n": ["\1"]/' "$src" >"$f"
check_case "n in an array" "field n: not a string$"
new_case; sed -E 's/^  "n": "([0-9a-f]*)"/  "n": {"hex": "\1"}/' "$src" >"$f"
check_case "n in an object" "field n: not a string$"
new_case; sed -E 's/^  "profile": "4K"/  "profile": true/' "$src" >"$f"
check_case "profile true" "field profile: not a string$"

# --- hex fields: lower-case hex of whole bytes, nothing else
hex_case() {
  local what=$1 expr=$2
  new_case; sed -E "$expr" "$src" >"$f"
  cmp -s "$src" "$f" && fail "$what: the edit changed nothing"
  check_case "$what" "field n: not lower-case hex of whole bytes$"
}
hex_case "n of odd length" 's/^(  "n": ")[0-9a-f]/\1/'
hex_case "n with a 'g'" 's/^(  "n": "[0-9a-f]{100})[0-9a-f]/\1g/'
hex_case "n ending in a non-hex character" 's/^(  "n": "[0-9a-f]*)[0-9a-f]"/\1:"/'
hex_case "n with one upper-case digit" 's/^(  "n": "[0-9]*)([a-f])/\1\U\2/'
hex_case "n with a 0x prefix" 's/^(  "n": ")[0-9a-f]{2}/\10x/'
hex_case "n with a trailing space" 's/^(  "n": "[0-9a-f]*)"/\1 "/'
hex_case "n with a trailing newline escape" 's/^(  "n": "[0-9a-f]*)"/\1\\n"/'
hex_case "n with a space inside" 's/^(  "n": "[0-9a-f]{100})[0-9a-f]{2}/\1 0/'
# one whole byte too many is not a spelling problem: it is named as a size
new_case; sed -E 's/^(  "n": ")/\100/' "$src" >"$f"
check_case "n one byte long" "field n: 513 bytes, expected 512$"

# One malformed file among good ones fails the run, and the good ones pass.
mkdir "$SK_TMP/mixed"
cp "$src" "$SK_TMP/mixed/"
head -c 100 "$src" >"$SK_TMP/mixed/4K-pss-sha384.json"
expect_status 1 "a cut file among good ones" -- "$SK" vectors --check "$SK_TMP/mixed"
expect_output "4K-pss-sha384\.json: not valid JSON" "the cut file named"
expect_output "4K-pss-sha256\.json: ok" "the good file passes"

finish "$name"
