#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# faults.sh - honest faults thrown at the real programs, at random, from
# outside: nothing here uses a test hook, a relay or the library.  It runs
# splitkey-server and splitkey-client and checks, through the programs and
# the server's database, that no key is destroyed, no enrolment is
# stranded, no server starts silently on a store it must not serve and
# nothing stalls:
#   A. concurrent commands on one device state directory;
#   B. the client or the server killed (SIGKILL) at a random moment of an
#      enrolment or a signature, then the same command run again;
#   C. an emptied, deleted and read-only database at start;
#   D. a database restored from a backup taken while devices kept signing,
#      without and with the commit journal;
#   E. over a thousand idle connections under a 1024-descriptor limit while
#      devices sign.
# Every command runs under a hang guard (timeout); a command that hangs is a
# stall.  One "ok: ..." line per check, "FAIL: ..." for a finding; exit 0
# only without findings.
#
#   faults.sh BIN_DIR PYTHON3 SQLITE3 OPENSSL [ROUNDS [SEED]]
#
# BIN_DIR holds splitkey-server and splitkey-client.  ROUNDS (default 12)
# random kills in part B; SEED (default: random, printed) makes a run
# repeatable.
set -u
if [ $# -lt 4 ]; then
  echo "usage: $0 BIN_DIR PYTHON3 SQLITE3 OPENSSL [ROUNDS [SEED]]" >&2
  exit 2
fi
BIN=$1 PY=$2 SQLITE=$3 OPENSSL=$4 ROUNDS=${5:-12} SEED=${6:-$$}
SERVER="$BIN/splitkey-server"
. "$(dirname "$0")/../services/four_eyes_lib.sh"
CLIENT="$BIN/splitkey-client"
RANDOM=$SEED
echo "faults.sh: seed $SEED, $ROUNDS kill rounds"

GUARD=180 # seconds before a command counts as stalled
T=$(mktemp -d "${TMPDIR:-/tmp}/sk-faults.XXXXXX")
SRV="$T/srv"
DB="$SRV/server.db"
SERVER_PID=
FLOOD_PID=
FINDINGS=0
PORT=

cleanup() {
  local p
  for p in $FLOOD_PID $SERVER_PID $(jobs -p); do
    kill -9 "$p" 2>/dev/null
  done
  wait 2>/dev/null
  chmod -R u+w "$T" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

finding() {
  FINDINGS=$((FINDINGS + 1))
  printf 'FAIL: %s\n' "$*"
}
ok() { printf 'ok: %s\n' "$*"; }
show() { sed 's/^/  | /' "$T/last.out" "$T/last.err" 2>/dev/null | tail -n 8; }
sq() { "$SQLITE" -batch -cmd ".timeout 60000" "$DB" "$@"; }

# ------------------------------------------------------------ the server

start_server() { # start_server [EXTRA...]: on PORT once chosen
  rm -f "$T/ready"
  "$SERVER" run --dir "$SRV" --listen "tcp://127.0.0.1:${PORT:-0}" --pool-profiles 4K \
    --pool-size 2 --ready-file "$T/ready" "$@" 2>>"$T/server.log" &
  SERVER_PID=$!
  local i
  for i in $(seq 1 $((GUARD * 20))); do
    [ -s "$T/ready" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { wait "$SERVER_PID"; SERVER_RC=$?; SERVER_PID=; return 1; }
    sleep 0.05
  done
  [ -s "$T/ready" ] || return 1
  PORT=$(head -n 1 "$T/ready")
  PORT=${PORT##*:}
}
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}
kill_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -9 "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}

# ------------------------------------------------------------ devices

URL() { echo "tcp://127.0.0.1:$PORT"; }
client() { # client ARGS...: RC, output in last.out / last.err
  SPLITKEY_CLIENT_TIMEOUT_MS=5000 timeout -s KILL $GUARD "$CLIENT" "$@" >"$T/last.out" 2>"$T/last.err"
  RC=$?
  [ $RC -eq 137 ] && finding "stall: splitkey-client $1 hung for ${GUARD}s"
  return $RC
}

NDEV=0
DEVS=()
new_token() { # new_token: a token for the next device in TOKEN; NDEV its number
  NDEV=$((NDEV + 1))
  TOKEN="$T/tok$NDEV"
  four_eyes_token "$SRV" "C=LV,GN=IEVA,SN=OZOLA,serialNumber=PNOLV-050505-$(printf '%05d' $NDEV)" \
    sign "" "${TOKEN_JOURNAL:-}" >"$TOKEN" 2>>"$T/server.log" && chmod 600 "$TOKEN"
}
enrol_args() { # enrol_args DIR TOKEN
  ENROL=(enrol --state "$1" --server "$(URL)" --server-pub "$SRV/server.pub" --purpose sign
    --pin-file "$T/pin" --profile 4K --token-file "$2")
}
NDOC=0
sign_args() { # sign_args DIR: a new document
  NDOC=$((NDOC + 1))
  DOC="$T/doc$NDOC.txt"
  SIG="$T/doc$NDOC.sig"
  printf 'Contract %d, %d\n' "$NDOC" "$RANDOM" >"$DOC"
  SIGN=(sign --state "$1" --purpose sign --pin-file "$T/pin" --in "$DOC" --out "$SIG")
}
verifies() { # verifies DIR DOC SIG
  client pubkey --state "$1" --purpose sign --out "$T/pub.pem" &&
    "$OPENSSL" dgst -sha256 -verify "$T/pub.pem" -signature "$3" -sigopt rsa_padding_mode:pss \
      -sigopt rsa_pss_saltlen:digest "$2" >/dev/null 2>&1
}
# until_done WHAT ARGS...: the command, run again after a failure (what a
# user does), three times at most
until_done() {
  local what=$1 i
  shift
  for i in 1 2 3; do
    client "$@" && return 0
  done
  finding "$what: still failing after three runs (exit $RC)"
  show
  return 1
}
sign_once() { # sign_once DIR WHAT: one verified signature
  sign_args "$1"
  until_done "$2" "${SIGN[@]}" || return 1
  verifies "$1" "$DOC" "$SIG" || { finding "$2: the signature does not verify"; return 1; }
}

# No key destroyed (but enrolments given up as abandoned), no clone verdict,
# every device's key ACTIVE with all three attempts.
all_keys_healthy() {
  local what=$1 d clones destroyed
  clones=$(sq "SELECT count(*) FROM events WHERE kind = 9;")
  destroyed=$(sq "SELECT count(*) FROM events WHERE kind = 8 AND detail != 5;")
  [ "$clones" = 0 ] || finding "$what: $clones clone verdicts"
  [ "$destroyed" = 0 ] || finding "$what: $destroyed keys destroyed"
  for d in "${DEVS[@]}"; do
    if ! client status --state "$d" --purpose sign; then
      finding "$what: status of $(basename "$d") failed (exit $RC)"
      show
    elif ! grep -q "state: *ACTIVE\$" "$T/last.out" || ! grep -q "attempts left: 3\$" "$T/last.out"; then
      finding "$what: $(basename "$d") is not ACTIVE with 3 attempts"
      show
    fi
  done
  # no stranded enrolment: every token that was handed out enrolled a key
  local stranded
  stranded=$(sq "SELECT count(*) FROM used_tokens u JOIN keys k ON k.key_id = u.key_id
                 WHERE k.state IN (1, 2);")
  [ "$stranded" = 0 ] || finding "$what: $stranded enrolments left unfinished"
  [ "$clones$destroyed$stranded" = 000 ] && ok "$what: no clone, no key destroyed, no enrolment stranded"
}

# ------------------------------------------------------------ setup

"$SERVER" init --dir "$SRV" >/dev/null 2>"$T/server.log" || { echo "FAIL: init"; exit 1; }
printf '24680\n' >"$T/pin"
chmod 600 "$T/pin"
start_server || { echo "FAIL: the server did not start"; cat "$T/server.log"; exit 1; }
for i in 1 2; do
  new_token
  enrol_args "$T/dev$NDEV" "$TOKEN"
  until_done "setup: enrol" "${ENROL[@]}" || exit 1
  DEVS+=("$T/dev$NDEV")
done

# ============================================================ A. one state, several commands

for round in 1 2 3; do
  pids=()
  for j in 1 2 3 4; do
    sign_args "$T/dev1"
    ( SPLITKEY_CLIENT_TIMEOUT_MS=5000 timeout -s KILL $GUARD "$CLIENT" "${SIGN[@]}" \
        >"$T/par$j.out" 2>"$T/par$j.err"; echo $? >"$T/par$j.rc" ) &
    pids+=($!)
    cp "$DOC" "$T/par$j.doc"
    echo "$SIG" >"$T/par$j.sig"
  done
  wait "${pids[@]}"
  bad=0
  for j in 1 2 3 4; do
    rc=$(cat "$T/par$j.rc")
    if [ "$rc" != 0 ]; then
      bad=1
      finding "A: concurrent sign $j of round $round failed (exit $rc): $(tail -n 1 "$T/par$j.err")"
    elif ! verifies "$T/dev1" "$T/par$j.doc" "$(cat "$T/par$j.sig")"; then
      bad=1
      finding "A: concurrent sign $j of round $round does not verify"
    fi
  done
  [ $bad = 0 ] && ok "A: round $round, four signs at once on one state directory"
done
all_keys_healthy "A"

# ============================================================ B. random kills

for round in $(seq 1 "$ROUNDS"); do
  op=$((RANDOM % 2)) victim=$((RANDOM % 2)) delay_ms=$((RANDOM % 700))
  if [ $op = 0 ]; then
    new_token
    d="$T/dev$NDEV"
    enrol_args "$d" "$TOKEN"
    ARGS=("${ENROL[@]}")
    what="B$round: enrol, $([ $victim = 0 ] && echo client || echo server) killed after ${delay_ms} ms"
  else
    d=${DEVS[$((RANDOM % ${#DEVS[@]}))]}
    sign_args "$d"
    ARGS=("${SIGN[@]}")
    what="B$round: sign, $([ $victim = 0 ] && echo client || echo server) killed after ${delay_ms} ms"
  fi
  SPLITKEY_CLIENT_TIMEOUT_MS=5000 timeout -s KILL $GUARD "$CLIENT" "${ARGS[@]}" \
    >"$T/last.out" 2>"$T/last.err" &
  cpid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if [ $victim = 0 ]; then
    kill -9 "$cpid" 2>/dev/null
    wait "$cpid" 2>/dev/null
    RC=1
  else
    kill_server
    start_server || finding "$what: the server did not start again"
    wait "$cpid"
    RC=$?
    [ $RC = 137 ] && finding "stall: $what"
  fi
  if [ $RC != 0 ] && [ $op = 0 ] && [ -d "$d" ] && client status --state "$d" --purpose sign &&
    grep -q "state: *ACTIVE\$" "$T/last.out"; then
    RC=0 # the killed enrolment had finished: running it again would say "already enrolled"
  fi
  if [ $RC != 0 ]; then
    until_done "$what" "${ARGS[@]}"
  fi
  if [ $op = 0 ]; then
    [ -d "$d" ] && DEVS+=("$d")
    sign_once "$d" "$what: the new key signs" || continue
  else
    verifies "$d" "$DOC" "$SIG" || finding "$what: the signature does not verify"
  fi
  ok "$what: done"
done
all_keys_healthy "B"

# ============================================================ C. stores that must not be served

stop_server
mv "$DB" "$T/saved.db"
rm -f "$DB-wal" "$DB-shm"
if start_server; then
  finding "C: the server started on a deleted database"
  stop_server
elif tail -n 3 "$T/server.log" | grep -q "store"; then
  ok "C: a deleted database is refused at start, with the reason"
else
  finding "C: a deleted database is refused at start without saying why"
fi
: >"$DB"
if start_server; then
  finding "C: the server started on an empty database"
  stop_server
else
  ok "C: an empty database is refused at start"
fi
mv "$T/saved.db" "$DB"
if [ "$(id -u)" -eq 0 ]; then
  RUNAS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  chown -R 65534:65534 "$SRV"
else
  RUNAS=()
fi
chmod 0444 "$DB"
chmod 0555 "$SRV"
chmod 0755 "$T"
rm -f "$T/ready-ro"
if timeout -s KILL $GUARD "${RUNAS[@]}" "$SERVER" run --dir "$SRV" --listen tcp://127.0.0.1:0 \
  --ready-file "$T/ready-ro" 2>"$T/ro.err" >/dev/null; then
  finding "C: a read-only database: the server ran"
elif [ -e "$T/ready-ro" ]; then
  finding "C: a read-only database: the server said it was listening"
else
  ok "C: a read-only database is refused at start ($(tail -n 1 "$T/ro.err" | cut -c1-100))"
fi
chmod 0755 "$SRV"
chmod 0644 "$DB"
[ "$(id -u)" -eq 0 ] && chown -R 0:0 "$SRV"
start_server || finding "C: the server did not start on its own database again"
sign_once "${DEVS[0]}" "C: signing after the refusals" && ok "C: the right database serves again"

# ============================================================ D. restored databases

# D1: a backup taken while devices sign, restored without the journal: the
# devices are ahead of the restored store and are taken up again.
"$SERVER" backup --dir "$SRV" --to "$T/backup1.db" >"$T/backup.out" 2>&1 ||
  finding "D1: the online backup failed: $(tail -n 1 "$T/backup.out")"
for d in "${DEVS[@]}"; do
  sign_once "$d" "D1: signing after the backup"
  sign_once "$d" "D1: signing after the backup"
done
kill_server
if "$SERVER" restore --dir "$SRV" --from "$T/backup1.db" >"$T/restore.out" 2>&1; then
  ok "D1: restored without the journal"
else
  finding "D1: restore failed: $(tail -n 2 "$T/restore.out")"
fi
start_server || finding "D1: the server did not start on the restored store"
for d in "${DEVS[@]}"; do
  sign_once "$d" "D1: a device that moved on after the backup"
done
all_keys_healthy "D1"

# D2: with the commit journal, a restore loses nothing.
stop_server
start_server --journal "$T/journal" || finding "D2: the server did not start with a journal"
TOKEN_JOURNAL="$T/journal" # the token commands' events go into run's journal too
"$SERVER" backup --dir "$SRV" --to "$T/backup2.db" >"$T/backup.out" 2>&1 ||
  finding "D2: the online backup failed"
for d in "${DEVS[@]}"; do
  sign_once "$d" "D2: signing after the backup"
done
new_token
enrol_args "$T/dev$NDEV" "$TOKEN"
until_done "D2: enrolling after the backup" "${ENROL[@]}" && DEVS+=("$T/dev$NDEV")
kill_server
rm -f "$DB" "$DB-wal" "$DB-shm"
if "$SERVER" restore --dir "$SRV" --from "$T/backup2.db" --journal "$T/journal" \
  >"$T/restore.out" 2>&1; then
  ok "D2: restored with the journal"
else
  finding "D2: restore with the journal failed: $(tail -n 2 "$T/restore.out")"
fi
start_server --journal "$T/journal" || finding "D2: the server did not start after the restore"
resynced_before=$(sq "SELECT count(*) FROM events WHERE kind = 20;")
for d in "${DEVS[@]}"; do
  sign_once "$d" "D2: every device after a restore with the journal"
done
[ "$(sq "SELECT count(*) FROM events WHERE kind = 20;")" = "$resynced_before" ] ||
  finding "D2: a device had to be resynchronised although the journal kept everything"
all_keys_healthy "D2"
stop_server

# ============================================================ E. idle connections

cat >"$T/flood.py" <<'EOF'
import socket, sys, time
port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks, opened = [], 0
for i in range(n):
    src = "127.0.0.%d" % (2 + i % 40)
    try:
        s = socket.socket()
        s.bind((src, 0))
        s.settimeout(2)
        s.connect(("127.0.0.1", port))
        s.sendall(b"\x00SP\x00\x00\x30\x00\x00")
        socks.append(s)
        opened += 1
    except OSError:
        pass
print("opened %d" % opened, flush=True)
time.sleep(hold)
EOF
(
  ulimit -n 1024
  start_server --journal "$T/journal" --idle-seconds 5
  echo "$SERVER_PID" >"$T/flood-server.pid"
  wait "$SERVER_PID"
) &
FLOOD_SHELL=$!
for i in $(seq 1 $((GUARD * 20))); do
  [ -s "$T/flood-server.pid" ] && [ -s "$T/ready" ] && break
  sleep 0.05
done
SERVER_PID=$(cat "$T/flood-server.pid" 2>/dev/null)
PORT=$(head -n 1 "$T/ready")
PORT=${PORT##*:}
"$PY" "$T/flood.py" "$PORT" 1100 60 >"$T/flood.out" 2>&1 &
FLOOD_PID=$!
for i in $(seq 1 $((GUARD * 20))); do
  grep -q '^opened' "$T/flood.out" 2>/dev/null && break
  kill -0 "$FLOOD_PID" 2>/dev/null || break
  sleep 0.05
done
e_ok=1
for d in "${DEVS[@]}"; do
  sign_once "$d" "E: signing during the flood" || e_ok=0
done
kill -0 "$SERVER_PID" 2>/dev/null || { finding "E: the server died in the flood"; e_ok=0; }
fds=$(ls "/proc/$SERVER_PID/fd" 2>/dev/null | wc -l)
[ "${fds:-0}" -lt 1024 ] || { finding "E: the server holds $fds descriptors"; e_ok=0; }
[ $e_ok = 1 ] && ok "E: $(cat "$T/flood.out" 2>/dev/null | head -n 1) idle connections; every device signed; the server holds $fds descriptors"
kill "$FLOOD_PID" 2>/dev/null
wait "$FLOOD_PID" 2>/dev/null
FLOOD_PID=
all_keys_healthy "E"
kill -TERM "$SERVER_PID" 2>/dev/null
wait "$FLOOD_SHELL" 2>/dev/null
SERVER_PID=

if [ "$FINDINGS" -ne 0 ]; then
  echo "faults.sh: $FINDINGS findings (seed $SEED)"
  tail -n 30 "$T/server.log" | sed 's/^/  server.log| /'
  exit 1
fi
echo "faults.sh: no findings (seed $SEED)"
