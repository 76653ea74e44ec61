#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# four_eyes.sh - the claim "no single operator can register a person for a
# qualified certificate" (doc/security.md), against a running
# splitkey-server: a token signed by one operator does not enrol (and is
# not spent); one operator cannot approve their own request; an
# unregistered key cannot approve; an operator removed after approving
# voids the token; a forged or altered approval is refused; every step is
# in the event log, written by the offline commands while run holds the
# store.
#   four_eyes.sh SERVER CLIENT SQLITE3
set -u
SERVER=$1 CLIENT=$2 SQLITE3=$3
. "$(dirname "$0")/../services/four_eyes_lib.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/sk-4eyes-XXXXXX")
SRV="$T/srv" PID= FAILED=0 N=0
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; FAILED=1; }
ok() { echo "ok: $*"; }
check() { local w=$1; shift; if "$@" >"$T/out" 2>&1; then ok "$w"; else fail "$w"; cat "$T/out" >&2; fi; }
refuse() { local w=$1; shift; if "$@" >"$T/out" 2>&1; then fail "$w (accepted)"; else ok "$w"; fi; }
sql() { "$SQLITE3" "$SRV/server.db" "$1"; }
count() { sql "SELECT count(*) FROM events WHERE kind = $1"; }
subject() { N=$((N + 1)); echo "C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-0101$N-12345"; }
enrol() { # enrol TOKEN-FILE
  chmod 600 "$1"
  "$CLIENT" enrol --state "$T/dev$N.$RANDOM" --server "$URL" --server-pub "$SRV/server.pub" \
    --purpose sign --pin-file "$T/pin" --profile 4K --token-file "$1"
}
state() { sql "SELECT (SELECT count(*) FROM keys) || '/' || (SELECT count(*) FROM used_tokens)"; }

"$SERVER" init --dir "$SRV" >/dev/null || exit 1
printf '12345\n' >"$T/pin" && chmod 600 "$T/pin"
"$SERVER" run --dir "$SRV" --listen tcp://127.0.0.1:0 --pool-profiles 4K --pool-size 2 \
  --ready-file "$T/ready" 2>>"$T/server.log" &
PID=$!
for _ in $(seq 1 600); do [ -s "$T/ready" ] && break; sleep 0.05; done
URL=$(head -n 1 "$T/ready") || exit 1

for who in a b c; do "$SERVER" operator keygen --out "$T/$who.key" >/dev/null; done
check "operator keygen: the secret key file is 0600" test "$(stat -c %a "$T/a.key")" = 600
check "operator add A" "$SERVER" operator add --dir "$SRV" --name anna --pub "$T/a.key.pub"
check "operator add B" "$SERVER" operator add --dir "$SRV" --name berta --pub "$T/b.key.pub"
refuse "the same key twice" "$SERVER" operator add --dir "$SRV" --name other --pub "$T/a.key.pub"
check "operator list names both" sh -c "'$SERVER' operator list --dir '$SRV' | grep -c -e '^anna ' -e '^berta ' | grep -qx 2"
check "adding operators is logged (kind 29)" test "$(count 29)" = 2

# 1. one operator alone: the token does not enrol and is not spent
S1=$(subject)
(umask 077; "$SERVER" token --dir "$SRV" --subject "$S1" --purpose sign --operator-key "$T/a.key" >"$T/t1" 2>"$T/t1.err")
check "token by A: minted, says it is not yet usable" grep -q "NOT YET USABLE" "$T/t1.err"
check "... and is logged (kind 23)" test "$(count 23)" = 1
before=$(state)
refuse "enrolment with a single operator's token" enrol "$T/t1"
check "... changes nothing (no key, token not spent)" test "$(state)" = "$before"
check "... and is logged as refused (kind 28, one approval)" \
  test "$(sql "SELECT detail FROM events WHERE kind = 28 ORDER BY seq DESC LIMIT 1")" = 1

# 2. A cannot approve A's own request
refuse "A approves A's own request" "$SERVER" token approve --dir "$SRV" --operator-key "$T/a.key" --token-file "$T/t1"
check "... logged (kind 25)" test "$(count 25)" = 1

# 3. an unregistered key can neither request nor approve
refuse "an unregistered key approves" "$SERVER" token approve --dir "$SRV" --operator-key "$T/c.key" --token-file "$T/t1"
refuse "an unregistered key requests" "$SERVER" token --dir "$SRV" --subject "$(subject)" --purpose sign --operator-key "$T/c.key"
check "... both logged (kind 26)" test "$(count 26)" = 2

# 4. a second operator approves: the same token now enrols, once
"$SERVER" token approve --dir "$SRV" --operator-key "$T/b.key" --token-file "$T/t1" >"$T/t1ok" 2>/dev/null
check "B approves: logged (kind 24)" test "$(count 24)" = 1
check "enrolment with the approved token" enrol "$T/t1ok"
check "... logged with both operators (kind 27 twice, with TOKEN_USED)" \
  test "$(sql "SELECT count(*) FROM events e WHERE kind = 27 AND key_id = (SELECT key_id FROM events WHERE kind = 15 ORDER BY seq DESC LIMIT 1)")" = 2
refuse "the same token again" enrol "$T/t1ok"
check "one token use recorded" test "$(sql "SELECT count(*) FROM used_tokens")" = 1

# 5. an approval forged by an unregistered key (made with the library's own
# approval, by operator C whom nobody registered) or altered
(umask 077; "$SERVER" token --dir "$SRV" --subject "$(subject)" --purpose sign --operator-key "$T/a.key" >"$T/t2" 2>/dev/null)
"$SERVER" operator add --dir "$SRV" --name carl --pub "$T/c.key.pub" >/dev/null
"$SERVER" token approve --dir "$SRV" --operator-key "$T/c.key" --token-file "$T/t2" >"$T/t2c" 2>/dev/null
"$SERVER" operator remove --dir "$SRV" --name carl >/dev/null
check "operator remove is logged (kind 30)" test "$(count 30)" = 1
before=$(state)
refuse "enrolment with an approval of a removed operator (removed after approving)" enrol "$T/t2c"
check "... changes nothing" test "$(state)" = "$before"
# alter one character inside the approvals (the third dot-separated part)
python3 - "$T/t2c" "$T/t2x" <<'PY'
import sys
parts = open(sys.argv[1]).read().strip().split('.')
a = parts[2]
i = len(a) // 2
parts[2] = a[:i] + ('A' if a[i] != 'A' else 'B') + a[i + 1:]
open(sys.argv[2], 'w').write('.'.join(parts) + '\n')
PY
refuse "approve a token whose approval was altered" "$SERVER" token approve --dir "$SRV" --operator-key "$T/b.key" --token-file "$T/t2x"
"$SERVER" operator add --dir "$SRV" --name carl --pub "$T/c.key.pub" >/dev/null
before=$(state)
refuse "enrolment with an altered approval" enrol "$T/t2x"
check "... changes nothing" test "$(state)" = "$before"
check "... logged as refused (detail -1)" \
  test "$(sql "SELECT detail FROM events WHERE kind = 28 ORDER BY seq DESC LIMIT 1")" = -1
# A's approval copied twice (the same operator counted twice)
python3 - "$T/t2" "$T/t2d" <<'PY'
import base64, sys
parts = open(sys.argv[1]).read().strip().split('.')
raw = base64.urlsafe_b64decode(parts[2] + '=' * (-len(parts[2]) % 4))
parts[2] = base64.urlsafe_b64encode(raw + raw).decode().rstrip('=')
open(sys.argv[2], 'w').write('.'.join(parts) + '\n')
PY
refuse "enrolment with one operator's approval twice" enrol "$T/t2d"
check "... changes nothing" test "$(state)" = "$before"

# 6. operator removed between approval and enrolment
(umask 077; "$SERVER" token --dir "$SRV" --subject "$(subject)" --purpose sign --operator-key "$T/a.key" >"$T/t3" 2>/dev/null)
"$SERVER" token approve --dir "$SRV" --operator-key "$T/b.key" --token-file "$T/t3" >"$T/t3ok" 2>/dev/null
check "operator remove B" "$SERVER" operator remove --dir "$SRV" --name berta
before=$(state)
refuse "enrolment after an approving operator was removed" enrol "$T/t3ok"
check "... changes nothing" test "$(state)" = "$before"
check "operator add B again" "$SERVER" operator add --dir "$SRV" --name berta --pub "$T/b.key.pub"
check "... and the token enrols" enrol "$T/t3ok"

check "the server still runs" kill -0 "$PID"
[ "$FAILED" -eq 0 ] || { tail -n 30 "$T/server.log" >&2; exit 1; }
echo "all four-eyes checks passed"
