#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# legacy_rp.sh BIN_DIR ATK_LEGACY_RP - the old unauthenticated relying-party
# frames ("SKP1") on the device socket (doc/security.md, "Relying parties").
# Anyone who reaches the device port could push a login or signing request
# with any text and any relying-party name to any person there, and learn
# who is enrolled.  The server must answer every kind of them (create by
# person id, create by key id, poll, cancel, key state) with the refusal
# error frame, store nothing (no session row, no event, the key unchanged)
# and log the refusal once per connection - also the poll and the cancel of
# a real session a relying party made through the HTTPS API, which stays
# PENDING and offered to the device.
. "$(dirname "$0")/../services/e2e_lib.sh"
ATK=${2:?usage: $0 BIN_DIR ATK_LEGACY_RP}
V2_CLIENT="$(dirname "$0")/../rp/v2_client.py"
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
offered() { "$CLIENT" sessions --state "$DEV" | grep -oE '^[0-9a-f]{32} ' | tr -d ' '; }
e2e_pins

e2e_start_server
DEV="$T/dev"
check "enrol an authentication key (device frames are served)" \
  e2e_enrol "$DEV" auth "$T/pin1"
KEY=$(q "SELECT hex(key_id) FROM keys LIMIT 1")
assert "a key id" "${#KEY}" -eq 32

# a real session, made by the test relying party through the HTTPS API
head -c 32 /dev/urandom >"$T/h"
out=$(python3 "$V2_CLIENT" --base "$RPURL" --pin "$RP_PIN" --cert "$T/rp-test.crt" \
  --key "$T/rp-test.key" --uuid "$RP_TEST_UUID" --name Bank create authentication etsi \
  "$PERSON" --hash-file "$T/h" --level ADVANCED)
assert "a session created through the HTTPS API" "$(sed -n 1p <<<"$out")" = 200
SID=$(sed -n 2p <<<"$out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["sessionID"].replace("-", ""))')
assert "its session id" "${#SID}" -eq 32
assert "the device is offered it" "$(offered)" = "$SID"

SESSIONS=$(q 'SELECT count(*) FROM sessions')
before=$(snapshot)
check "every old relying-party frame is refused (random session id)" \
  "$ATK" "$URL" "$PERSON" "$KEY" "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
check "and again on a second connection, for the API's real session" \
  "$ATK" "$URL" "PNOLV-999999-99999" "$KEY" "$SID"
assert "nothing stored: no session, no event, the key unchanged" "$(snapshot)" = "$before"
assert "no session row beyond the API's and the enrolment's" \
  "$(q 'SELECT count(*) FROM sessions')" -eq "$SESSIONS"
assert "the API's session is still PENDING (not cancelled by the frame)" \
  "$(q "SELECT state FROM sessions WHERE lower(hex(session_id)) = '$SID'")" -eq 1
assert "one log line per connection (two connections, ten frames)" "$(refusals)" -eq 2
expect_exit 2 "splitkey-rp has no way to send them any more (--server is gone)" \
  "$RP" auth --server "$URL" --person "$PERSON" --timeout 5
assert "still nothing stored" "$(snapshot)" = "$before"
# (the device's own request below writes its key record: last)
assert "the device is offered the API's session alone" "$(offered)" = "$SID"
e2e_finish
