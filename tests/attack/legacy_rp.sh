#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# legacy_rp.sh BIN_DIR ATK_LEGACY_RP - the old unauthenticated relying-party
# frames ("SKP1") on the device socket (doc/security.md, "Relying parties").
# Anyone who reaches the device port could push a login or signing request
# with any text and any relying-party name to any person there, and learn
# who is enrolled.  A server started without --legacy-rp (the default) must
# answer every kind of them (create by person id, create by key id, poll,
# cancel, key state) with the refusal error frame, store nothing (no
# session row, no event) and log the refusal once per connection; with
# --legacy-rp the same frames are served (the flag really switches).
. "$(dirname "$0")/../services/e2e_lib.sh"
ATK=${2:?usage: $0 BIN_DIR ATK_LEGACY_RP}
SQLITE3=$(command -v sqlite3)
DB="$T/server/server.db"
q() { "$SQLITE3" "$DB" "$1"; }
snapshot() {
  q "SELECT 'sessions', count(*) FROM sessions;
     SELECT 'session', hex(session_id), state, expires_at FROM sessions ORDER BY session_id;
     SELECT 'events', count(*), coalesce(max(seq), 0) FROM events;
     SELECT 'keys', hex(key_id), version FROM keys ORDER BY key_id;"
}
refusals() { grep -c "relying-party frame on the device socket refused" "$T/server.log"; }
e2e_pins

# 1. the default: no --legacy-rp
LEGACY_RP=()
e2e_start_server
check "the start line says the frames are refused" \
  grep -q "listening on .*legacy relying-party frames refused" "$T/server.log"
DEV="$T/dev"
check "enrol an authentication key (device frames are served)" \
  e2e_enrol "$DEV" auth "$T/pin1"
KEY=$(q "SELECT hex(key_id) FROM keys LIMIT 1")
assert "a key id" "${#KEY}" -eq 32
SESSIONS=$(q 'SELECT count(*) FROM sessions')
before=$(snapshot)
check "every old relying-party frame is refused (random session id)" \
  "$ATK" "$URL" refused "$PERSON" "$KEY" "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
check "and again on a second connection" \
  "$ATK" "$URL" refused "PNOLV-999999-99999" "$KEY" "00000000000000000000000000000000"
assert "nothing stored: no session, no event, the key unchanged" "$(snapshot)" = "$before"
assert "no session row beyond the enrolment's" "$(q 'SELECT count(*) FROM sessions')" -eq "$SESSIONS"
assert "one log line per connection (two connections, ten frames)" "$(refusals)" -eq 2
out=$("$RP" auth --server "$URL" --person "$PERSON" --timeout 5 2>&1)
rc=$?
assert "splitkey-rp without --api fails" "$rc" -eq 1
check "and shows the refusal and the way out" \
  grep -q "relying-party frames are not served on this socket; use the HTTPS API.*--api" <<<"$out"
assert "still nothing stored" "$(snapshot)" = "$before"
# (the device's own request below writes its key record: last)
check "nothing is offered to the device" \
  sh -c "! '$CLIENT' sessions --state '$DEV' | grep -qE '^[0-9a-f]{32} '"

# 2. --legacy-rp: the same frames are served
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
LEGACY_RP=(--legacy-rp)
e2e_run_server
check "the start line says the frames are served" \
  grep -q "listening on .*legacy relying-party frames served (--legacy-rp, deprecated)" \
  "$T/server.log"
out=$("$ATK" "$URL" served "$PERSON" "$KEY")
rc=$?
printf '%s\n' "$out"
assert "every old relying-party frame is served with --legacy-rp" "$rc" -eq 0
SID=$(awk '$1 == "session" { print toupper($2) }' <<<"$out")
assert "two sessions stored" "$(q 'SELECT count(*) FROM sessions')" -eq $((SESSIONS + 2))
assert "the first one is among them" \
  "$(q "SELECT count(*) FROM sessions WHERE hex(session_id) = '$SID'")" -eq 1

# 3. the default again: the real session's poll and cancel are refused too,
# and neither the sessions nor the events change
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
LEGACY_RP=()
e2e_run_server
served=$(snapshot) # a restart may append its own events
check "poll and cancel of a real session are refused" \
  "$ATK" "$URL" refused "$PERSON" "$KEY" "$SID"
assert "nothing stored by the refused frames" "$(snapshot)" = "$served"
expect_exit 2 "--legacy-rp and --no-legacy-rp together are refused" \
  "$SERVER" run --dir "$SRV" --listen tcp://127.0.0.1:0 --legacy-rp --no-legacy-rp
e2e_finish
