#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pg_migrate.sh BIN_DIR SQLITE3 - splitkey-server migrate from an SQLite
# store to PostgreSQL, with the real programs: a server on SQLite enrols a
# device (splitkey-client) that signs and has a wrong PIN counted; the
# server stops; migrate copies the store into an empty PostgreSQL database
# (a temporary cluster, pg_lib.sh); psql and sqlite3 then compare every
# table independently; a server started on PostgreSQL lets the device sign
# with the migrated key, its wrong-PIN count intact.  Bad inputs (a missing
# file, a URI with no server behind it, a scheme that is no store, a source
# at an older schema version, a target that is not empty) are refused with
# a clear message and change nothing; a password in the URI is never shown.
. "$(dirname "$0")/e2e_lib.sh" "$1"
SQLITE3=${2:?usage: $0 BIN_DIR SQLITE3}
. "$(dirname "$0")/pg_lib.sh"
pg_require
pg_start || { echo "FAIL: the PostgreSQL cluster did not start" >&2; exit 1; }
e2e_pins
: >"$T/server.log"

sign_as() { # sign_as DEV PINFILE OUT
  "$CLIENT" sign --state "$1" --purpose sign --pin-file "$2" --in "$T/doc.txt" --out "$3"
}
stop() {
  kill "$SERVER_PID"
  wait "$SERVER_PID"
  SERVER_PID=
}
pgq() { $PG_PSQL -t -A -c "$1"; }
sq() { "$SQLITE3" "$DB" "$1"; }
no_tables() { [ "$(pgq "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ]; }

# --- a store filled by a real server on SQLite
e2e_start_server
LISTEN=$URL
DB="$SRV/server.db"
check "enrol on SQLite" e2e_enrol "$T/dev1" sign "$T/pin2"
check "sign on SQLite" sign_as "$T/dev1" "$T/pin2" "$T/s1.sig"
expect_exit 3 "a wrong PIN on SQLite" sign_as "$T/dev1" "$T/pin2-wrong" "$T/bad.sig"
stop
sum_before=$(sha256sum "$DB" | cut -d' ' -f1)

# --- bad inputs change nothing
expect_exit 2 "a missing source file" "$SERVER" migrate --from "sqlite:$T/none.db" --to "$PG_URI"
grep_last "no such file" "... says so"
expect_exit 2 "a source that is not sqlite:" "$SERVER" migrate --from "$T/none.db" --to "$PG_URI"
grep_last "expected sqlite:PATH" "... says so"
expect_exit 2 "a target scheme that is no store" "$SERVER" migrate --from "sqlite:$DB" \
  --to "mysql://127.0.0.1/x"
grep_last "not a store URI" "... says so"
expect_exit 1 "a target with no server behind it" "$SERVER" migrate --from "sqlite:$DB" \
  --to "postgresql://postgres:Sekr1tPw@127.0.0.1:1/splitkey?connect_timeout=5"
grep_last "cannot open the store" "... says so"
CHECKS=$((CHECKS + 1))
grep -q Sekr1tPw "$T/last.out" "$T/last.err" && fail "the password was shown"
cp "$DB" "$T/old.db"
"$SQLITE3" "$T/old.db" "UPDATE schema_version SET version = 5"
expect_exit 1 "a source at an older schema version" "$SERVER" migrate --from "sqlite:$T/old.db" \
  --to "$PG_URI"
grep_last "start the" "... tells the operator to start the server on it once"
check "the target database is still empty" no_tables
assert "the source is unchanged" "$(sha256sum "$DB" | cut -d' ' -f1)" = "$sum_before"

# --- the move
check "migrate" "$SERVER" migrate --from "sqlite:$DB" --to "$PG_URI"
cp "$T/last.out" "$T/migrate.out"
grep_last "^keys  *1 rows  sha256 " "it reports the keys moved"
grep_last "^events  *[0-9][0-9]* rows" "it reports the events moved"
grep_last "^moved sqlite:" "it says what it moved where"
assert "the source is unchanged by the move" "$(sha256sum "$DB" | cut -d' ' -f1)" = "$sum_before"
for t in keys sessions reply_cache used_tokens server_key_pool events store_meta; do
  assert "$t: as many rows in PostgreSQL as in SQLite" \
    "$(pgq "SELECT count(*) FROM $t")" = "$(sq "SELECT count(*) FROM $t")"
  want=$(awk -v t="$t" '$1 == t { print $2 }' "$T/migrate.out")
  assert "$t: the count migrate reported" "$want" = "$(sq "SELECT count(*) FROM $t")"
done
assert "the events, seq for seq" \
  "$(pgq "SELECT string_agg(seq || ':' || at || ':' || kind || ':' || detail || ':' ||
          coalesce(upper(encode(key_id, 'hex')), '-'), ',' ORDER BY seq) FROM events")" = \
  "$(sq "SELECT group_concat(s, ',') FROM (SELECT seq || ':' || at || ':' || kind || ':' ||
          detail || ':' || coalesce(hex(key_id), '-') AS s FROM events ORDER BY seq)")"
assert "the key records, byte for byte" \
  "$(pgq "SELECT string_agg(upper(encode(key_id, 'hex')) || version || state ||
          upper(encode(record, 'hex')), ',' ORDER BY seq) FROM keys")" = \
  "$(sq "SELECT group_concat(s, ',') FROM (SELECT hex(key_id) || version || state ||
          hex(record) AS s FROM keys ORDER BY seq)")"
assert "the sessions, byte for byte" \
  "$(pgq "SELECT string_agg(upper(encode(session_id, 'hex')) || upper(encode(record, 'hex')),
          ',' ORDER BY session_id) FROM sessions")" = \
  "$(sq "SELECT group_concat(s, ',') FROM (SELECT hex(session_id) || hex(record) AS s
          FROM sessions ORDER BY session_id)")"
assert "store facts, byte for byte" \
  "$(pgq "SELECT string_agg(name || '=' || upper(encode(value, 'hex')), ',' ORDER BY name
          COLLATE \"C\") FROM store_meta")" = \
  "$(sq "SELECT group_concat(s, ',') FROM (SELECT name || '=' || hex(value) AS s FROM
          store_meta ORDER BY name)")"
assert "the event counter continues after the last event" \
  "$(pgq "SELECT last FROM event_counter")" = "$(sq "SELECT max(seq) FROM events")"
check "check finds the migrated store in order" "$SERVER" check --dir "$SRV" --db "$PG_URI"

# --- a second move into the same database is refused
events_before=$(pgq "SELECT count(*) FROM events")
expect_exit 1 "a target that is not empty" "$SERVER" migrate --from "sqlite:$DB" --to "$PG_URI"
grep_last "holds splitkey rows already" "... says so"
assert "... and nothing changed" "$(pgq "SELECT count(*) FROM events")" = "$events_before"

# --- the server on PostgreSQL (on the same address: the device keeps it)
# signs with the migrated key
rm -f "$T/ready"
"$SERVER" run --dir "$SRV" --listen "$LISTEN" --open-enrolment --pool-profiles 4K \
  --pool-size 2 --ready-file "$T/ready" --db "$PG_URI" 2>>"$T/server.log" &
SERVER_PID=$!
for i in $(seq 1 600); do
  [ -s "$T/ready" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$T/server.log" >&2; echo "server died" >&2; exit 1; }
  sleep 0.05
done
expect_exit 3 "a wrong PIN on PostgreSQL" sign_as "$T/dev1" "$T/pin2-wrong" "$T/bad2.sig"
grep_last "1 attempt left" "the wrong-PIN count went on from the migrated one (1 left)"
assert "... as the event log says" \
  "$(pgq "SELECT string_agg(detail::text, ',' ORDER BY seq) FROM events WHERE kind = 6")" = "2,1"
check "sign on PostgreSQL with the migrated key" sign_as "$T/dev1" "$T/pin2" "$T/s2.sig"
last_sq=$(sq "SELECT max(seq) FROM events")
assert "new events follow the migrated ones" \
  "$(pgq "SELECT count(*) FROM events WHERE seq > $last_sq AND kind = 5")" = 1
stop
CHECKS=$((CHECKS + 1))
grep -q "store postgresql:" "$T/server.log" || fail "the server log names the PostgreSQL store"
e2e_finish
