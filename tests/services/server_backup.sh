#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# server_backup.sh BIN_DIR SQLITE3 - backup and restore of the share
# server's store with the commit journal, with the real programs:
# splitkey-server (run --journal, backup, restore) and splitkey-client
# (devices whose one-time passwords rotate at every signature).
#
# A backup is taken while the server runs; a device then signs several
# times and a second device enrols; the server is killed (-9) and its
# database deleted.  restore --from BACKUP --journal replays every commit,
# and both devices sign again with their PINs, the wrong-PIN count intact.
# Also: restore is refused while a server runs (or another process has the
# database open); a torn record at the journal's end is ignored; a damaged
# record in the middle is refused and nothing changes; run refuses a journal
# ahead of its store, and one that lacks the store's commits; a record whose
# commit never happened (seq one past the store's) is cut off at start; a
# backup from before a schema migration replays records from after it.  A
# restore without the journal writes store_meta restored_at, and the
# device ahead of such a store resynchronises and signs.
. "$(dirname "$0")/e2e_lib.sh" "$1"
SQLITE3=${2:?usage: $0 BIN_DIR SQLITE3}
SUBJECT2="C=LV,GN=JANIS,SN=OZOLS,serialNumber=PNOLV-020202-23456"
e2e_pins
printf '24680\n' >"$T/pin3"
: >"$T/server.log"
SRV="$T/server"
mkdir -p "$T/journal-disk"
J="$T/journal-disk/commits.journal"
DB="$SRV/server.db"

# run_on LISTEN [ARGS...]: starts the server (SERVER_PID, URL); 1 if it
# exits before listening (its stderr in $T/start.err).
run_on() {
  local listen=$1 i
  shift
  rm -f "$T/ready"
  "$SERVER" run --dir "$SRV" --listen "$listen" --open-enrolment --pool-profiles 4K \
    --pool-size 2 --ready-file "$T/ready" "$@" 2>"$T/start.err" &
  SERVER_PID=$!
  for i in $(seq 1 600); do
    [ -s "$T/ready" ] && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      wait "$SERVER_PID"
      START_RC=$?
      cat "$T/start.err" >>"$T/server.log"
      SERVER_PID=
      return 1
    fi
    sleep 0.05
  done
  [ -s "$T/ready" ] || return 1
  URL=$(head -n 1 "$T/ready")
}

stop() { # SIGTERM, wait
  [ -n "$SERVER_PID" ] || return 0
  kill "$SERVER_PID"
  wait "$SERVER_PID"
  SERVER_PID=
  cat "$T/start.err" >>"$T/server.log"
}

sign_as() { # sign_as DEV PINFILE OUT
  "$CLIENT" sign --state "$1" --purpose sign --pin-file "$2" --in "$T/doc.txt" --out "$3"
}

db_seq() { # the journal_seq of a database file
  "$SQLITE3" "$1" "SELECT CAST(value AS TEXT) FROM store_meta WHERE name = 'journal_seq'"
}

# refused_start WHAT PATTERN [RUN-ARGS...]: run exits 2 before listening
# and says PATTERN.
refused_start() {
  local what=$1 pattern=$2
  shift 2
  CHECKS=$((CHECKS + 1))
  START_RC=0
  if run_on tcp://127.0.0.1:0 "$@"; then
    fail "$what: the server started"
    stop
  elif [ "$START_RC" -ne 2 ] || ! grep -q -e "$pattern" "$T/start.err"; then
    fail "$what: exit $START_RC, expected 2 with \"$pattern\""
    sed 's/^/  | /' "$T/start.err" >&2
  fi
}

# --- a server with a journal; a device enrols and signs; an online backup
"$SERVER" init --dir "$SRV" >/dev/null || { echo "init failed" >&2; exit 1; }
run_on tcp://127.0.0.1:0 --journal "$J" || { cat "$T/start.err" >&2; exit 1; }
LISTEN=$URL
check "enrol device 1" e2e_enrol "$T/dev1" sign "$T/pin2"
check "device 1 signs" sign_as "$T/dev1" "$T/pin2" "$T/s0.sig"
check "backup while the server runs" "$SERVER" backup --dir "$SRV" --to "$T/backup.db"
grep_last "journal seq" "backup prints its journal seq"
grep_last "keys  *1" "backup prints the row counts"
BSEQ=$(awk '/journal seq/ { print $3 }' "$T/last.out")
assert "the backup's seq is a number" -n "$BSEQ"
expect_exit 1 "backup refuses to overwrite a file" "$SERVER" backup --dir "$SRV" \
  --to "$T/backup.db"
grep_last "never overwrites" "... and says so"
cp "$J" "$T/journal-at-backup"

# --- after the backup: device 1 signs N times (its OTP rotates each time),
#     device 2 enrols, a wrong PIN is counted
N=4
for i in $(seq 1 $N); do
  check "device 1 signs after the backup ($i)" sign_as "$T/dev1" "$T/pin2" "$T/s$i.sig"
done
check "enrol device 2 after the backup" "$CLIENT" enrol --state "$T/dev2" --server "$URL" \
  --server-pub "$SRV/server.pub" --purpose sign --pin-file "$T/pin3" --profile 4K \
  --subject "$SUBJECT2"
check "device 2 signs" sign_as "$T/dev2" "$T/pin3" "$T/d2.sig"
expect_exit 3 "a wrong PIN on device 1" sign_as "$T/dev1" "$T/pin2-wrong" "$T/x.sig"
grep_last "2 attempts left" "the first wrong PIN: 2 left"

expect_exit 1 "restore is refused while the server runs" "$SERVER" restore --dir "$SRV" \
  --from "$T/backup.db" --journal "$J"
grep_last "a server runs on" "... and says why"

# --- the crash: kill -9, the database gone
{
  kill -9 "$SERVER_PID"
  wait "$SERVER_PID"
  SERVER_PID=
} 2>/dev/null
cp "$J" "$T/journal-at-crash"
rm -f "$DB" "$DB-wal" "$DB-shm"

check "restore from the backup and the journal" "$SERVER" restore --dir "$SRV" \
  --from "$T/backup.db" --journal "$J"
grep_last "backup seq  *$BSEQ" "restore reports the backup's seq"
REPLAYED=$(awk '/records replayed/ { print $3 }' "$T/last.out")
FINAL=$(awk '/final seq/ { print $3 }' "$T/last.out")
assert "records were replayed" "${REPLAYED:-0}" -gt $N
assert "final seq = backup seq + records replayed" "$FINAL" -eq $((BSEQ + REPLAYED))
grep_last "keys  *2" "both keys are back"
assert "no -wal left beside the restored database" ! -e "$DB-wal"
check "check: the restored store is in order" "$SERVER" check --dir "$SRV"
assert "no restored_at after a full replay" -z "$("$SQLITE3" "$DB" \
  "SELECT 1 FROM store_meta WHERE name = 'restored_at'")"

check "the server starts on the restored store with its journal" run_on "$LISTEN" --journal "$J"
expect_exit 3 "a wrong PIN on device 1 after the restore" sign_as "$T/dev1" "$T/pin2-wrong" \
  "$T/x.sig"
grep_last "1 attempt left" "the wrong PIN before the crash still counts: 1 left"
check "device 1 signs with its PIN after the restore" sign_as "$T/dev1" "$T/pin2" "$T/r1.sig"
check "device 2 signs with its PIN after the restore" sign_as "$T/dev2" "$T/pin3" "$T/r2.sig"
check "... and again" sign_as "$T/dev1" "$T/pin2" "$T/r3.sig"
CHECKS=$((CHECKS + 1))
if grep -q "clone\|not found" "$T/server.log" "$T/start.err"; then
  fail "the server log speaks of a clone or a missing key"
fi
stop

# --- a torn record at the journal's end is ignored (restored elsewhere, so
#     the server's database stays as it is)
cp "$J" "$T/torn.journal"
truncate -s -7 "$T/torn.journal"
check "restore with a torn final record" "$SERVER" restore --dir "$SRV" --from "$T/backup.db" \
  --journal "$T/torn.journal" --db "sqlite:$T/scratch.db"
grep_last "no whole record" "the torn record is noted"
grep_last "final seq  *$(( $(db_seq "$DB") - 1 ))" "... and everything before it replayed"
# a record cut short in its header
cp "$J" "$T/torn2.journal"
printf 'SKJ1\0\0' >>"$T/torn2.journal"
rm -f "$T/scratch.db"
check "restore with a few bytes of a header at the end" "$SERVER" restore --dir "$SRV" \
  --from "$T/backup.db" --journal "$T/torn2.journal" --db "sqlite:$T/scratch.db"
grep_last "final seq  *$(db_seq "$DB")" "... replays every whole record"

# --- a damaged record in the middle: refused, nothing changed
cp "$J" "$T/bad.journal"
size=$(stat -c %s "$T/bad.journal")
printf '\x5a\xa5' | dd of="$T/bad.journal" bs=1 seek=$((size / 2)) conv=notrunc status=none
before=$(sha256sum <"$DB")
expect_exit 1 "a damaged record in the middle is refused" "$SERVER" restore --dir "$SRV" \
  --from "$T/backup.db" --journal "$T/bad.journal"
grep_last "damaged" "... as damage"
grep_last "nothing was changed" "... changing nothing"
assert "the database is untouched" "$(sha256sum <"$DB")" = "$before"
assert "no temporary file is left" ! -e "$DB.restore-tmp"

# --- restore refuses while another process has the database open (a
#     server of another directory on the same database holds no run.lock)
{ echo "SELECT count(*) FROM keys;"; sleep 4; } | "$SQLITE3" "$DB" >/dev/null &
HOLDER=$!
sleep 0.5
expect_exit 1 "restore is refused while the database is open elsewhere" "$SERVER" restore \
  --dir "$SRV" --from "$T/backup.db" --journal "$J"
grep_last "open in another process" "... and says so"
wait "$HOLDER"
assert "the database is untouched" "$(sha256sum <"$DB")" = "$before"

# --- run refuses a journal ahead of its store, and one behind it
cp "$T/backup.db" "$T/old.db"
refused_start "a journal ahead of the store" "older than its journal" --journal "$J" \
  --db "sqlite:$T/old.db"
refused_start "a journal that lacks the store's commits" "lacks commits" \
  --journal "$T/journal-at-backup"
cp "$DB" "$T/copy.db"
check "a new journal on an existing store starts at its seq" run_on tcp://127.0.0.1:0 \
  --journal "$T/journal-disk/fresh.journal" --db "sqlite:$T/copy.db"
stop
grep -q "a new journal, holding the commits after seq" "$T/server.log" ||
  fail "a new journal is announced"

# --- a record appended but never committed (the process died between the
#     journal and the COMMIT): seq one past the store's, cut off at start
hexbin() { printf "$(sed 's/../\\x&/g')"; }
be() { printf "%0${2}x" "$1" | hexbin; } # be VALUE HEXDIGITS
SEQ=$(db_seq "$DB")
ORPHAN=$((SEQ + 1))
payload="a transaction nobody was told about"
{
  printf 'SKJ1'
  be "$ORPHAN" 16
  be "${#payload}" 8
  printf '%s' "$payload"
  { be "$ORPHAN" 16; printf '%s' "$payload"; } | b2sum -l 256 | cut -d' ' -f1 | hexbin
} >>"$J"
check "the server starts after an uncommitted record" run_on "$LISTEN" --journal "$J"
CHECKS=$((CHECKS + 1))
grep -q "cut off record $ORPHAN, whose transaction was never committed" "$T/start.err" ||
  fail "the uncommitted record is cut off and said so"
check "device 1 signs" sign_as "$T/dev1" "$T/pin2" "$T/o1.sig"
stop
rm -f "$T/scratch.db"
check "the journal replays onto the backup after the cut" "$SERVER" restore --dir "$SRV" \
  --from "$T/backup.db" --journal "$J" --db "sqlite:$T/scratch.db"
grep_last "final seq  *$(db_seq "$DB")" "... to the store's seq"

# --- an upgrade between the backup and the journal's records: restore
#     brings the backup to the program's schema first, and records from
#     either side of the migration apply.  The backup is made to look like
#     one from before schema version 5 (used_tokens without key_id, sessions
#     without rp_seen_at); skipped when the schema has no such migration.
cp "$T/backup.db" "$T/backup-v4.db"
if "$SQLITE3" "$T/backup-v4.db" "ALTER TABLE used_tokens DROP COLUMN key_id;
    ALTER TABLE sessions DROP COLUMN rp_seen_at;
    UPDATE schema_version SET version = 4" 2>/dev/null; then
  check "the server starts again" run_on "$LISTEN" --journal "$J"
  four_eyes_token "$SRV" "C=LV,GN=ANNA,SN=LIEPA,serialNumber=PNOLV-030303-34567" sign "" "$J" \
    >"$T/token"
  chmod 600 "$T/token"
  check "enrol device 3 with a registration token" "$CLIENT" enrol --state "$T/dev3" \
    --server "$URL" --server-pub "$SRV/server.pub" --purpose sign --pin-file "$T/pin3" \
    --profile 4K --token-file "$T/token"
  stop
  rm -f "$T/scratch.db"
  check "restore of a backup from before the migration" "$SERVER" restore --dir "$SRV" \
    --from "$T/backup-v4.db" --journal "$J" --db "sqlite:$T/scratch.db"
  grep_last "final seq  *$(db_seq "$DB")" "... replays every record"
  assert "... with the token's key" "$("$SQLITE3" "$T/scratch.db" \
    "SELECT count(*) FROM used_tokens WHERE key_id IS NOT NULL")" = 1
  schema() { "$SQLITE3" "$1" "SELECT version FROM schema_version"; }
  assert "... at the program's schema" "$(schema "$T/scratch.db")" = "$(schema "$DB")"
else
  echo "skipped: the upgrade case (no used_tokens.key_id in this schema)"
fi

# --- a restore without the journal (device 1 is ahead of the backup)
sleep 1.1 # restored_at lies after the backup's last key update
cp "$DB" "$T/before-plain-restore.db"
check "restore without a journal" "$SERVER" restore --dir "$SRV" --from "$T/backup.db"
grep_last "WARNING" "the loss is stated"
grep_last "resynchronise" "... and the resynchronisation"
RAT=$("$SQLITE3" "$DB" "SELECT CAST(value AS TEXT) FROM store_meta WHERE name = 'restored_at'")
NOW=$(date +%s)
CHECKS=$((CHECKS + 1))
if ! [[ "$RAT" =~ ^[0-9]+$ ]] || [ "$RAT" -gt "$NOW" ] || [ "$RAT" -lt $((NOW - 60)) ]; then
  fail "restored_at is the Unix time in decimal ($RAT)"
fi
assert "the backup's seq again" "$(db_seq "$DB")" = "$BSEQ"
refused_start "the old journal no longer fits the store" "older than its journal" --journal "$J"
check "the server starts without the journal" run_on "$LISTEN"
check "device 1, ahead of the store, resynchronises and signs" sign_as "$T/dev1" \
  "$T/pin2" "$T/p1.sig"
check "... and signs again" sign_as "$T/dev1" "$T/pin2" "$T/p2.sig"
check "the resynchronisation is in the event log (event 20)" \
  test "$("$SQLITE3" "$DB" "SELECT count(*) FROM events WHERE kind = 20;")" -ge 1
check "no clone verdict" test "$("$SQLITE3" "$DB" "SELECT count(*) FROM events WHERE kind = 9;")" = 0
expect_exit 3 "a wrong PIN is still counted" sign_as "$T/dev1" "$T/pin2-wrong" "$T/x.sig"
stop
e2e_finish
