#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# config_errors.sh BIN_DIR - every program reports a configuration error and a
# missing input file the same way:
#   - a bad line of a configuration file reads "FILE:LINE: message" (the
#     share server's --config and the CA's DIR/ca.conf: the programs that
#     read one), whether the line is malformed, names an unknown key or
#     holds a bad value;
#   - an input file named on the command line that does not exist is a usage
#     error: exit 2, with the file named, in every program that reads one.
set -u
BIN=${1:?usage: $0 BIN_DIR}
T=$(mktemp -d "${TMPDIR:-/tmp}/sk-conferr.XXXXXX")
trap 'rm -rf "$T"' EXIT
FAILURES=0
CHECKS=0
fail() {
  FAILURES=$((FAILURES + 1))
  printf 'FAIL: %s\n' "$*" >&2
  sed 's/^/  | /' "$T/err" >&2
}

# expect WANT_EXIT PATTERN WHAT CMD...: CMD exits WANT_EXIT and its standard
# error matches PATTERN (grep -E); it must end on its own within 60 s.
expect() {
  local want=$1 pattern=$2 what=$3
  shift 3
  CHECKS=$((CHECKS + 1))
  timeout 60 "$@" >/dev/null 2>"$T/err" </dev/null
  local got=$?
  if [ "$got" -ne "$want" ]; then
    fail "$what: exit $got, expected $want"
  elif ! grep -Eq -- "$pattern" "$T/err"; then
    fail "$what: no /$pattern/ in the message"
  fi
}

cd "$T" || exit 1
printf 'a document\n' >doc.txt
"$BIN/splitkey-server" init --dir srv >/dev/null 2>&1 || { echo "splitkey-server init failed" >&2; exit 1; }
"$BIN/splitkey-ca" init --dir ca --subject "CN=Test CA,O=Test,C=LV" --key ec-p384 \
    --ocsp-url http://127.0.0.1:9/ocsp --ca-url http://127.0.0.1:9/ca.crt \
    --pds-url https://example.org/pds_en.pdf >/dev/null 2>&1 || {
  echo "splitkey-ca init failed" >&2
  exit 1
}
cp ca/ca.conf good.conf
lines=$(wc -l <good.conf)
n=$((lines + 1)) # the line appended below

# --- configuration files: FILE:LINE: message, exit 2 -----------------------------
bad_lines=("just text" "no-such-key = 1" "validity-days = 0")
for i in 0 1 2; do
  bad=${bad_lines[$i]}
  # the share server (its keys differ: the same kinds of error)
  case $i in
    0) srvbad="just text" ;;
    1) srvbad="no-such-key = 1" ;;
    2) srvbad="workers = 999" ;;
  esac
  printf 'listen = tcp://127.0.0.1:0\n%s\n' "$srvbad" >server-bad.conf
  expect 2 "^splitkey-server: server-bad\.conf:2: " "splitkey-server --config ($srvbad)" \
    "$BIN/splitkey-server" run --dir srv --config server-bad.conf
  { cat good.conf; printf '%s\n' "$bad"; } >ca/ca.conf
  expect 2 "^splitkey-ca: ca/ca\.conf:$n: " "splitkey-ca, ca.conf ($bad)" \
    "$BIN/splitkey-ca" crl --dir ca --out crl.pem
  if grep -Eq ": line [0-9]" "$T/err"; then fail "a second format (\": line N\") is still used"; fi
done
cp good.conf ca/ca.conf
expect 2 "server-none\.conf: no such file" "splitkey-server, a missing --config" \
  "$BIN/splitkey-server" run --dir srv --config server-none.conf

# --- a missing input file: exit 2, the file named --------------------------------
expect 2 "none\.txt" "splitkey sign-local --in" \
  "$BIN/splitkey" sign-local --scheme pss --hash sha256 --in none.txt --pub-out p.pem --sig-out s
expect 2 "none\.pem" "splitkey verify --pub" \
  "$BIN/splitkey" verify --pub none.pem --scheme pss --hash sha256 --in doc.txt --sig doc.txt
expect 2 "none\.txt" "splitkey verify --in" \
  "$BIN/splitkey" verify --pub ca/ca.pem --scheme pss --hash sha256 --in none.txt --sig doc.txt
expect 2 "none\.d" "splitkey vectors --check" "$BIN/splitkey" vectors --check none.d
expect 2 "none\.pub" "splitkey-client enrol --server-pub" \
  "$BIN/splitkey-client" enrol --state dev --server tcp://127.0.0.1:1 --server-pub none.pub \
  --purpose auth --pin-file doc.txt
expect 2 "none\.txt" "splitkey-rp sign --in" \
  "$BIN/splitkey-rp" sign --server tcp://127.0.0.1:1 --person P --purpose sign --in none.txt \
  --out x.sig
expect 2 "none\.pem" "splitkey-server run --ca-cert" \
  "$BIN/splitkey-server" run --dir srv --listen tcp://127.0.0.1:0 --ca-cert none.pem
expect 2 "none\.pub" "splitkey-ca add-ra --pub" "$BIN/splitkey-ca" add-ra --dir ca --pub none.pub
expect 2 "none\.pem" "splitkey-ocsp run --ocsp-cert" \
  "$BIN/splitkey-ocsp" run --ca tcp://127.0.0.1:1 --ocsp-cert none.pem --ocsp-key none.key \
  --http 127.0.0.1:0

if [ "$FAILURES" -eq 0 ]; then
  printf 'config_errors: %d checks passed\n' "$CHECKS"
  exit 0
fi
printf 'config_errors: %d of %d checks failed\n' "$FAILURES" "$CHECKS" >&2
exit 1
