# SPDX-License-Identifier: Apache-2.0
# rp_lib.sh - shared by the tests of the relying-party HTTPS API (sourced,
# not run): on top of tests/services/e2e_lib.sh (its own temporary directory
# and server), client certificates, registered relying parties, a server
# with --rp-listen, and v2_client.py calls with their status and JSON.
#
#   . rp_lib.sh BIN_DIR
#   rp_cert NAME                 -> $T/NAME.crt, $T/NAME.key (self-signed P-256)
#   rp_start [RUN ARGS...]       -> $URL, $RPURL, $PIN (init must have run)
#   v2 CERTNAME UUID NAME ARGS.. -> $STATUS, $BODY (v2_client.py ARGS; from
#                                   $V2_SOURCE when set)
#   jget PATH                    a field of $BODY ("result.endResult")
#   count_sessions / count_events KIND   rows in the store

. "$(dirname "${BASH_SOURCE[0]}")/../services/e2e_lib.sh"
V2_CLIENT="$(dirname "${BASH_SOURCE[0]}")/v2_client.py"
SQLITE3=$(command -v sqlite3)

rp_cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/$1.key" -out "$T/$1.crt" -days 2 -subj "/CN=${2:-$1}" 2>/dev/null
}

rp_init() {
  SRV="$T/server"
  "$SERVER" init --dir "$SRV" >/dev/null || { echo "splitkey-server init failed" >&2; exit 1; }
}

rp_start() {
  SERVER_ARGS=("$@")
  e2e_run_server # with the listener (RP_LISTEN); RPURL and RP_PIN from rp_test_args
  PIN=$RP_PIN
}

# v2 CERTNAME UUID NAME ARGS...: CERTNAME "-" presents no certificate.
v2() {
  local cert=$1 uuid=$2 name=$3 out
  shift 3
  local certargs=()
  [ "$cert" != - ] && certargs=(--cert "$T/$cert.crt" --key "$T/$cert.key")
  [ -n "${V2_SOURCE:-}" ] && certargs+=(--source "$V2_SOURCE")
  out=$(python3 "$V2_CLIENT" --base "$RPURL" --pin "$PIN" "${certargs[@]}" --uuid "$uuid" \
    --name "$name" "$@" 2>"$T/v2.err")
  STATUS=$(sed -n 1p <<<"$out")
  BODY=$(sed -n 2p <<<"$out")
  # RP_CAPTURE=FILE keeps every exchange (the examples of doc/rp-api.md)
  [ -n "${RP_CAPTURE:-}" ] && printf '%s\n%s %s\n' "$*" "$STATUS" "$BODY" >>"$RP_CAPTURE"
  return 0
}

jget() {
  python3 -c '
import json, sys
d = json.loads(sys.argv[1] or "null")
for k in sys.argv[2].split("."):
    d = d.get(k) if isinstance(d, dict) else None
print("" if d is None else json.dumps(d) if isinstance(d, (dict, list)) else d)' "$BODY" "$1"
}

# expect_status WANT WHAT: the last v2 call answered WANT.
expect_status() {
  CHECKS=$((CHECKS + 1))
  if [ "$STATUS" != "$1" ]; then
    fail "$2: HTTP $STATUS, expected $1 ($BODY)"
    sed 's/^/  | /' "$T/v2.err" >&2
  fi
}

count_sessions() { "$SQLITE3" "$SRV/server.db" "SELECT count(*) FROM sessions"; }
count_events() { "$SQLITE3" "$SRV/server.db" "SELECT count(*) FROM events WHERE kind = $1"; }

# The protocol session id (32 hex digits) of a sessionID.
hexid() { tr -d '-' <<<"$1"; }

# verify_sig PUB HASHNAME DIGESTFILE B64SIG: PKCS#1 v1.5 over the digest.
verify_sig() {
  base64 -d <<<"$4" >"$T/sig.bin" || return 1
  openssl pkeyutl -verify -pubin -inkey "$1" -pkeyopt "digest:$2" -in "$3" -sigfile "$T/sig.bin"
}
