# SPDX-License-Identifier: Apache-2.0
# lib.sh - shared functions sourced by the cli test scripts.
# Every script: set -u, a private temporary directory removed on exit, and a
# failure counter; `finish` prints a summary and exits 1 if anything failed.

set -u
SK_FAILS=0
SK_CHECKS=0
SK_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sk-cli.XXXXXX")
trap 'rm -rf "$SK_TMP"' EXIT

ok() { SK_CHECKS=$((SK_CHECKS + 1)); }
fail() {
  SK_CHECKS=$((SK_CHECKS + 1))
  SK_FAILS=$((SK_FAILS + 1))
  echo "FAIL: $*" >&2
}

# expect_status WANT DESCRIPTION -- command...
# Runs the command (output in $SK_TMP/out) and checks its exit status.
expect_status() {
  local want=$1 what=$2 got
  shift 3
  "$@" >"$SK_TMP/out" 2>&1
  got=$?
  if [ "$got" -eq "$want" ]; then
    ok
  else
    fail "$what: exit status $got, expected $want; command: $*"
    sed 's/^/    | /' "$SK_TMP/out" >&2
  fi
}

# expect_output PATTERN DESCRIPTION: the last command's output matches (grep -E).
expect_output() {
  if grep -Eq -- "$1" "$SK_TMP/out"; then
    ok
  else
    fail "$2: output does not match /$1/"
    sed 's/^/    | /' "$SK_TMP/out" >&2
  fi
}

finish() {
  echo "$1: $SK_CHECKS checks, $SK_FAILS failed"
  if [ "$SK_CHECKS" -eq 0 ]; then
    echo "$1: no check ran" >&2
    exit 1
  fi
  [ "$SK_FAILS" -eq 0 ]
}

# bits_of_profile 4K -> 2048 (k, the share size)
bits_of_profile() {
  case $1 in
    4K) echo 2048 ;;
    6K) echo 3072 ;;
    8K) echo 4096 ;;
    *) echo 0 ;;
  esac
}

# openssl dgst options for a scheme
openssl_pss_opts() {
  if [ "$1" = pss ]; then
    echo "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest"
  fi
}

# flip_byte FILE OFFSET OUT: copies FILE to OUT with the byte at OFFSET xor 0x01
flip_byte() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
i = int(sys.argv[2]) % len(data)
data[i] ^= 0x01
open(sys.argv[3], "wb").write(data)
PY
}
