#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# contract.sh - drives splitkey through nothing but the command-line contract
# (program names, flags, exit codes) and OpenSSL, and checks the results:
#
#   splitkey-server init / run (SQLite, open enrolment) on a free loopback port
#   splitkey-client enrol (auth with PIN1, sign with PIN2), sign, pubkey, status
#   openssl dgst -verify of PKCS#1 v1.5 and PSS signatures
#   wrong PINs: exit 3, 3, then 4 (locked)
#   kill -9 of the server, a restart on the same database, signing again
#   a copy of the device state signs first: the original gets exit 5
#
# It uses no helper of the other tests and no option beyond that contract, so it
# checks what scripts and operators may rely on.
#
#   tests/services/contract.sh BIN_DIR      (BIN_DIR: build/bin)
set -u
BIN=${1:?usage: contract.sh BIN_DIR}
T=$(mktemp -d "${TMPDIR:-/tmp}/sk-contract.XXXXXX")
PID=
failures=0
checks=0

cleanup() {
  [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

ok() { checks=$((checks + 1)); }
bad() {
  checks=$((checks + 1))
  failures=$((failures + 1))
  echo "contract: FAIL: $*" >&2
  [ -f "$T/err" ] && sed 's/^/  | /' "$T/err" >&2
}
# want N WHAT CMD...: CMD exits with N.
want() {
  local n=$1 what=$2 got
  shift 2
  "$@" >"$T/out" 2>"$T/err"
  got=$?
  if [ "$got" -eq "$n" ]; then ok; else bad "$what: exit $got, want $n"; fi
}

# A free port: bind to port 0 and read what the kernel chose.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="tcp://127.0.0.1:$PORT"
DB="$T/server/contract.db"

start_server() {
  "$BIN/splitkey-server" run --dir "$T/server" --listen "$URL" --db "sqlite:$DB" \
    --open-enrolment 2>>"$T/server.log" &
  PID=$!
  # up once the port accepts a connection
  local i
  for i in $(seq 1 400); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "contract: the server did not start" >&2
  cat "$T/server.log" >&2
  exit 1
}

printf '2468\n' >"$T/pin1"
printf '13579\n' >"$T/pin2"
printf '97531\n' >"$T/wrong2"
printf '8642\n' >"$T/wrong1"
printf 'I agree to the terms, version 7.\n' >"$T/doc"
SUBJECT="C=EE,GN=MARI,SN=TAMM,serialNumber=PNOEE-48001010000"
A="$T/deviceA"

want 0 "server init" "$BIN/splitkey-server" init --dir "$T/server"
[ -f "$T/server/server.pub" ] && ok || bad "init wrote no server.pub"
start_server

want 0 "enrol auth (PIN1)" "$BIN/splitkey-client" enrol --state "$A" --server "$URL" \
  --server-pub "$T/server/server.pub" --purpose auth --pin-file "$T/pin1" --subject "$SUBJECT"
want 0 "enrol sign (PIN2)" "$BIN/splitkey-client" enrol --state "$A" --server "$URL" \
  --server-pub "$T/server/server.pub" --purpose sign --pin-file "$T/pin2" --subject "$SUBJECT"
want 0 "pubkey sign" "$BIN/splitkey-client" pubkey --state "$A" --purpose sign --out "$T/sign.pem"
want 0 "pubkey auth" "$BIN/splitkey-client" pubkey --state "$A" --purpose auth --out "$T/auth.pem"
bits=$(openssl pkey -pubin -in "$T/sign.pem" -text -noout 2>/dev/null | sed -n 's/.*(\([0-9]*\) bit).*/\1/p')
[ "$bits" = 6144 ] && ok || bad "the default profile gives a 6144-bit n (got '$bits')"

# signatures that OpenSSL verifies
want 0 "sign pkcs1" "$BIN/splitkey-client" sign --state "$A" --purpose sign --pin-file "$T/pin2" \
  --in "$T/doc" --out "$T/doc.p1" --scheme pkcs1 --hash sha256
want 0 "openssl pkcs1" openssl dgst -sha256 -verify "$T/sign.pem" -signature "$T/doc.p1" "$T/doc"
want 0 "sign pss" "$BIN/splitkey-client" sign --state "$A" --purpose sign --pin-file "$T/pin2" \
  --in "$T/doc" --out "$T/doc.pss" --scheme pss --hash sha384
want 0 "openssl pss" openssl dgst -sha384 -verify "$T/sign.pem" -signature "$T/doc.pss" \
  -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest "$T/doc"
want 1 "openssl refuses the signature under the other key" openssl dgst -sha256 \
  -verify "$T/auth.pem" -signature "$T/doc.p1" "$T/doc"

# wrong PINs on the authentication key: 3, 3, then 4
want 3 "wrong PIN1 #1" "$BIN/splitkey-client" sign --state "$A" --purpose auth \
  --pin-file "$T/wrong1" --in "$T/doc" --out "$T/x"
grep -q "2 attempts left" "$T/err" && ok || bad "attempts left not printed"
want 3 "wrong PIN1 #2" "$BIN/splitkey-client" sign --state "$A" --purpose auth \
  --pin-file "$T/wrong1" --in "$T/doc" --out "$T/x"
want 4 "wrong PIN1 #3 locks" "$BIN/splitkey-client" sign --state "$A" --purpose auth \
  --pin-file "$T/wrong1" --in "$T/doc" --out "$T/x"
want 0 "status" "$BIN/splitkey-client" status --state "$A" --purpose auth
grep -q "TIMELOCKED" "$T/out" && ok || bad "status does not show the lock"
[ ! -e "$T/x" ] && ok || bad "a signature was written after wrong PINs"
want 2 "a PIN as a flag value" "$BIN/splitkey-client" sign --state "$A" --purpose sign \
  --pin 13579 --in "$T/doc" --out "$T/x"

# kill -9 of the server, restart on the same database
{ kill -9 "$PID" && wait "$PID"; } 2>/dev/null
PID=
start_server
want 0 "sign after a restart" "$BIN/splitkey-client" sign --state "$A" --purpose sign \
  --pin-file "$T/pin2" --in "$T/doc" --out "$T/doc.after" --scheme pss --hash sha256
want 0 "openssl after a restart" openssl dgst -sha256 -verify "$T/sign.pem" \
  -signature "$T/doc.after" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest "$T/doc"
want 4 "the lock survived the restart" "$BIN/splitkey-client" sign --state "$A" --purpose auth \
  --pin-file "$T/pin1" --in "$T/doc" --out "$T/x"

# a copy of the device state signs first; the original is then a clone
cp -a "$A" "$T/deviceB"
want 0 "the copy signs" "$BIN/splitkey-client" sign --state "$T/deviceB" --purpose sign \
  --pin-file "$T/pin2" --in "$T/doc" --out "$T/doc.copy"
sleep 1.1 # request counters count in seconds: the original's next one is later
want 5 "the original: clone detected" "$BIN/splitkey-client" sign --state "$A" --purpose sign \
  --pin-file "$T/pin2" --in "$T/doc" --out "$T/doc.orig"
[ ! -e "$T/doc.orig" ] && ok || bad "a clone got a signature"

# a clean stop
kill -TERM "$PID"
wait "$PID"
st=$?
PID=
[ "$st" -eq 0 ] && ok || bad "the server exited $st after SIGTERM"

if [ "$failures" -eq 0 ]; then
  echo "contract: $checks checks passed"
  exit 0
fi
echo "contract: $failures of $checks checks failed" >&2
exit 1
