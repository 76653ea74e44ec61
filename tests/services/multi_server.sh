#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# multi_server.sh SERVER DRIVE ATK CLIENT RP OPENSSL PYTHON3 SQLITE3 - three
# splitkey-server processes of one server directory (one identity: one
# logical share server) on one store, and clients that talk to any of them:
#   - devices enrol and sign through all three at once: the server-key pool
#     is shared and no pool key is handed out twice (no two moduli share a
#     factor, python3), every signature verifies (openssl);
#   - one charged approval with different wrong PINs sent to the three
#     servers at once, round after round (atk_loopback guesses --spread):
#     each round is one check, the key locks at 3 and 6 and is destroyed at
#     the 9th; the event log holds exactly the counted attempts;
#   - one key signing through all three servers (relying parties on each
#     server's HTTPS API, the device approving through another one): no
#     clone verdict, every signature verifies (openssl);
#   - a relying party long-polling on server A while the device approves on
#     server B is answered by that one poll (parked, then woken by B's
#     commit): one status request at A (counted by a relay in front of A's
#     HTTPS API), not a second poll after the first one's wait ran out
#     (PostgreSQL; with SQLite the wake does not cross processes, which the
#     script reports);
#   - one registration token sent to the three servers at once enrols one
#     key.
# Written for SQLite (one file, WAL); with_pg.sh runs it on PostgreSQL.
SERVER=$1 DRIVE=$2 ATK=$3 CLIENT=$4 RP=$5 OPENSSL=$6 PYTHON3=$7 SQLITE3=$8

set -u
. "$(dirname "$0")/store_lib.sh"
. "$(dirname "$0")/four_eyes_lib.sh"
. "$(dirname "$0")/rp_test_lib.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/sk-multi-XXXXXX")
FAILED=0
PIDS=()

cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    FAILED=1
}

check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then
        echo "ok: $what"
    else
        fail "$what"
    fi
}

"$SERVER" init --dir "$T/srv" >/dev/null || { echo "init failed" >&2; exit 1; }
rp_test_register "$T/srv" || exit 1
DB="$T/server.db"
sql() { "$SQLITE3" "$DB" "$1"; }
# one-second locks, so the guesses go through all nine attempts
COMMON=(--open-enrolment --pool-size 3 --pool-profiles 4K --workers 6 --session-ttl 3600
    --lock1-seconds 1 --lock2-seconds 1)

# start NAME: a server of $T/srv on the shared store, on a free port; sets
# NAME_PID, NAME_URL (the device socket) and NAME_API (the relying party's
# options for its HTTPS API, RP_API_ARGS) once it listens.
start() {
    local name=$1
    rm -f "$T/ready.$name"
    "$SERVER" run --dir "$T/srv" --listen tcp://127.0.0.1:0 "${RP_LISTEN[@]}" \
        --ready-file "$T/ready.$name" --db "sqlite:$DB" "${COMMON[@]}" >>"$T/$name.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    local i=0
    while [ ! -s "$T/ready.$name" ]; do
        kill -0 "$pid" 2>/dev/null || return 1
        i=$((i + 1))
        [ $i -gt 30000 ] && return 1
        sleep 0.02
    done
    printf -v "${name}_PID" %s "$pid"
    printf -v "${name}_URL" %s "$(head -n1 "$T/ready.$name")"
    rp_test_args "$T/ready.$name" "$T/srv" || return 1
    # openly enrolled keys are ADVANCED
    eval "${name}_API=(\"\${RP_API_ARGS[@]}\" --level advanced)"
}

for s in A B C; do
    start $s || { cat "$T/$s.log" >&2; echo "server $s did not start" >&2; exit 1; }
done
URLS=("$A_URL" "$B_URL" "$C_URL")
# api I: the relying party's options for server I's API (0 A, 1 B, 2 C)
api() {
    case $1 in
    0) API=("${A_API[@]}") ;;
    1) API=("${B_API[@]}") ;;
    2) API=("${C_API[@]}") ;;
    esac
}
echo "servers: ${URLS[*]} on $(store_pg && echo PostgreSQL || echo SQLite)"

# --- devices on all three servers at once; the pool shared --------------------
n=0
for i in 0 1 2; do
    mkdir -p "$T/sign$i"
    "$DRIVE" --server "${URLS[$i]}" --server-pub "$T/srv/server.pub" --threads 3 --signs 8 \
        --out "$T/sign$i" sign >"$T/sign$i.out" 2>&1 &
    SIGNERS[$i]=$!
done
for i in 0 1 2; do
    wait "${SIGNERS[$i]}"
    check "signers on server $i: 3 keys, 24 signatures, all verified" test $? = 0
    sed 's/^/  | /' "$T/sign$i.out"
done
verified=0
for i in 0 1 2; do
    for t in 0 1 2; do
        for j in 0 1 2; do
            "$OPENSSL" dgst -sha256 -verify "$T/sign$i/t$t.pem" -signature "$T/sign$i/t$t-$j.sig" \
                "$T/sign$i/t$t-$j.msg" >/dev/null 2>&1 && verified=$((verified + 1))
        done
    done
done
check "openssl verifies the 27 signatures kept (3 per key)" test "$verified" = 27
for i in 0 1 2; do
    for t in 0 1 2; do
        "$OPENSSL" rsa -pubin -in "$T/sign$i/t$t.pem" -noout -modulus 2>/dev/null | sed 's/^Modulus=//'
    done
done >"$T/moduli"
# n = n1 * n2 with n2 the pool key's: a pool key used twice is a common factor
check "no pool key handed out twice: 9 moduli, pairwise coprime" "$PYTHON3" -c '
import math, sys
ns = [int(l, 16) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if len(ns) == 9 and all(math.gcd(a, b) == 1
         for i, a in enumerate(ns) for b in ns[i + 1:]) else 1)' "$T/moduli"
check "9 keys ACTIVE in the store" test "$(sql "SELECT count(*) FROM keys WHERE state = 3")" = 9
check "81 signatures in the event log (9 proofs of possession + 72)" \
    test "$(sql "SELECT count(*) FROM events WHERE kind = 5")" = 81

# --- one charged approval, different wrong PINs, three servers at once ---------
check "guesses through three servers: one check per round, locks at 3 and 6, destroyed at 9" \
    bash -c '"$0" --server "$1" --server-pub "$2" --spread "$3" --threads 6 --floods 3 \
        --srv-dir "$5" --store "$6" guesses >"$4" 2>&1' "$ATK" "$A_URL" "$T/srv/server.pub" \
    "$A_URL,$B_URL,$C_URL" "$T/guesses.out" "$T/srv" "$(store_uri "$DB")"
sed 's/^/  | /' "$T/guesses.out"
mapfile -t gkeys < <(sed -n 's/^key \([0-9a-f]\{32\}\)$/\1/p' "$T/guesses.out")
if [ "${#gkeys[@]}" = 2 ]; then
    k=${gkeys[0]}
    check "guesses: exactly 8 wrong PINs counted for the destroyed key" \
        test "$(sql "SELECT count(*) FROM events WHERE kind = 6 AND key_id = X'$k'")" = 8
    check "guesses: locked twice (attempts 3 and 6)" \
        test "$(sql "SELECT count(*) FROM events WHERE kind = 7 AND key_id = X'$k'")" = 2
    check "guesses: destroyed once, by the lockout" \
        test "$(sql "SELECT count(*) FROM events WHERE kind = 8 AND detail = 2 AND key_id = X'$k'")" = 1
    check "guesses: no signature but the proof of possession" \
        test "$(sql "SELECT count(*) FROM events WHERE kind = 5 AND key_id = X'$k'")" = 1
    check "guesses: the key is DESTROYED in the store" \
        test "$(sql "SELECT state FROM keys WHERE key_id = X'$k'")" = 5
    rights=$(sed -n 's/^mixed rounds: \([0-9]\) of 4 .*/\1/p' "$T/guesses.out")
    k=${gkeys[1]}
    check "mixed rounds: the wrong PINs counted exactly ($((4 - ${rights:-9})))" \
        test "$(sql "SELECT count(*) FROM events WHERE kind = 6 AND key_id = X'$k'")" = $((4 - ${rights:-9}))
    check "mixed rounds: one signature per round that had the right PIN" \
        test "$(sql "SELECT count(*) FROM events WHERE kind = 5 AND key_id = X'$k'")" = $((1 + ${rights:-9}))
else
    fail "guesses: expected two key lines"
fi
check "no clone verdict anywhere so far" test "$(sql "SELECT count(*) FROM events WHERE kind = 9")" = 0

# --- one key signing through all three servers ---------------------------------
SUBJECT="C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-020202-22222"
PERSON="PNOLV-020202-22222"
printf '12345\n' >"$T/pin"
printf 'Agreement of sale: one bicycle, 350 EUR.\n' >"$T/doc.txt"
DEV="$T/dev"
check "enrol through server B" "$CLIENT" enrol --state "$DEV" --server "$B_URL" \
    --server-pub "$T/srv/server.pub" --purpose sign --pin-file "$T/pin" --profile 4K \
    --subject "$SUBJECT"
"$CLIENT" pubkey --state "$DEV" --purpose sign --out "$T/sign.pub" >/dev/null
use() { printf '%s\n' "$1" >"$DEV/sign.server"; } # the device reaches another server
# the session as the device lists it: the API's UUID without its dashes
sid_of() { sed -n 's/^session \([0-9a-f-]\{36\}\) for .*$/\1/p' "$1" | tr -d -; }
wait_code() { # wait_code FILE PID
    local i
    for i in $(seq 1 3000); do
        grep -q "verification code:" "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.02
    done
    return 1
}
signed=0
for round in 1 2 3; do
    # a relying party on each server, all for the same key at once
    for i in 0 1 2; do
        api "$i"
        "$RP" sign "${API[@]}" --person "$PERSON" --purpose sign --in "$T/doc.txt" \
            --out "$T/r$round-$i.sig" --pub "$T/sign.pub" >"$T/r$round-$i.out" 2>&1 &
        RPS[$i]=$!
    done
    for i in 0 1 2; do
        wait_code "$T/r$round-$i.out" "${RPS[$i]}" || fail "round $round: relying party $i printed no code"
    done
    # each session approved through a server other than its relying party's
    for i in 0 1 2; do
        use "${URLS[$(((i + round) % 3))]}"
        sid=$(sid_of "$T/r$round-$i.out")
        "$CLIENT" approve "$sid" --state "$DEV" --pin-file "$T/pin" >"$T/a.out" 2>&1 ||
            { fail "round $round: approve session $i"; sed 's/^/  | /' "$T/a.out" >&2; }
    done
    # and one the device opens itself, through the third server
    use "${URLS[$(((round + 2) % 3))]}"
    "$CLIENT" sign --state "$DEV" --purpose sign --pin-file "$T/pin" --in "$T/doc.txt" \
        --out "$T/d$round.sig" >"$T/d.out" 2>&1 || { fail "round $round: device sign"; cat "$T/d.out" >&2; }
    for i in 0 1 2; do
        wait "${RPS[$i]}" || fail "round $round: relying party on server $i"
        # the API's signatures are PKCS#1 v1.5
        "$OPENSSL" dgst -sha256 -verify "$T/sign.pub" -sigopt rsa_padding_mode:pkcs1 \
            -signature "$T/r$round-$i.sig" "$T/doc.txt" \
            >/dev/null 2>&1 && signed=$((signed + 1))
    done
    "$OPENSSL" dgst -sha256 -verify "$T/sign.pub" -sigopt rsa_padding_mode:pss \
        -sigopt rsa_pss_saltlen:digest -signature "$T/d$round.sig" "$T/doc.txt" \
        >/dev/null 2>&1 && signed=$((signed + 1))
done
check "one key through three servers: openssl verifies all 12 signatures" test "$signed" = 12
key=$("$CLIENT" status --state "$DEV" --purpose sign | sed -n 's/^ *key id: *\([0-9a-f]*\).*/\1/p')
if [ -n "$key" ]; then
    check "... 13 signatures in the event log (proof of possession + 12)" \
        test "$(sql "SELECT count(*) FROM events WHERE kind = 5 AND key_id = X'$key'")" = 13
    check "... the key is ACTIVE" test "$(sql "SELECT state FROM keys WHERE key_id = X'$key'")" = 3
else
    fail "no key id from splitkey-client status"
fi
check "no clone verdict: the key was never taken for a copy" \
    test "$(sql "SELECT count(*) FROM events WHERE kind = 9")" = 0

# --- a long poll on A woken by a commit on B ------------------------------------
# The API logs no request line, and splitkey-rp opens one connection per
# request: a relay in front of A's API (the TLS passes through untouched, so
# the pinned certificate is A's) counts them, one line per connection.
cat >"$T/relay.py" <<'EOF_RELAY'
import os, socket, sys, threading
port, portfile, logfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(16)
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
while True:
    c, _ = ls.accept()
    with open(logfile, "a") as f:
        f.write("connection\n")
    u = socket.create_connection(("127.0.0.1", port))
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
EOF_RELAY
A_RP_PORT=$(sed -n 2p "$T/ready.A")
A_RP_PORT=${A_RP_PORT##*:}
"$PYTHON3" "$T/relay.py" "$A_RP_PORT" "$T/relay.port" "$T/relay.log" 2>"$T/relay.err" &
PIDS+=("$!")
for i in $(seq 1 3000); do
    [ -s "$T/relay.port" ] && break
    sleep 0.02
done
[ -s "$T/relay.port" ] || fail "long poll: the relay did not start"
: >"$T/relay.log"
RELAY_API=()
for a in "${A_API[@]}"; do
    case $a in https://*) a="https://127.0.0.1:$(cat "$T/relay.port")/v2/" ;; esac
    RELAY_API+=("$a")
done
polls() { # the relying party's requests at A after its create
    echo $(($(grep -c '^connection$' "$T/relay.log") - 1))
}
"$RP" sign "${RELAY_API[@]}" --person "$PERSON" --purpose sign --in "$T/doc.txt" \
    --out "$T/lp.sig" --pub "$T/sign.pub" >"$T/lp.out" 2>&1 &
LP=$!
wait_code "$T/lp.out" "$LP" || fail "long poll: no code printed"
t0=$(date +%s%N) # splitkey-rp polls right after printing its code, asking to wait 10 s
sleep 1.5 # the poll is parked at A by now
use "$B_URL"
check "long poll: approved through server B" "$CLIENT" approve "$(sid_of "$T/lp.out")" \
    --state "$DEV" --pin-file "$T/pin"
wait "$LP"
check "long poll: the relying party got the signature" test $? = 0
lp_ms=$((($(date +%s%N) - t0) / 1000000))
check "long poll: openssl verifies it" "$OPENSSL" dgst -sha256 -verify "$T/sign.pub" \
    -sigopt rsa_padding_mode:pkcs1 -signature "$T/lp.sig" "$T/doc.txt"
lp_polls=$(polls)
if store_pg; then
    # the poll parked at A went out just before t0 with a 10 s wait; left
    # to its deadline it answers (COMPLETE then) 10 s after it went out,
    # i.e. at >= 9.9 s here (measured so on SQLite, where nothing wakes
    # it); woken by B's commit it answers right after the approval, at
    # about 2-3 s.  So: answered before the deadline, by that one poll.
    check "long poll: one poll at A (got $lp_polls)" test "$lp_polls" = 1
    check "long poll: woken by B's commit, before its 10 s wait ran out (${lp_ms} ms)" \
        test "$lp_ms" -lt 9000
else
    echo "note: SQLite: a commit of one process wakes no poll parked in another" \
        "($lp_polls polls, $lp_ms ms)"
fi

# --- one registration token, three servers at once ------------------------------
TSUBJ="C=LV,GN=JANIS,SN=OZOLS,serialNumber=PNOLV-030303-33333"
four_eyes_token "$T/srv" "$TSUBJ" sign "sqlite:$DB" >"$T/token" || fail "no token"
chmod 600 "$T/token"
for i in 0 1 2; do
    "$CLIENT" enrol --state "$T/tdev$i" --server "${URLS[$i]}" --server-pub "$T/srv/server.pub" \
        --purpose sign --pin-file "$T/pin" --profile 4K --token-file "$T/token" >"$T/t$i.out" 2>&1 &
    TOK[$i]=$!
done
ok=0
for i in 0 1 2; do
    wait "${TOK[$i]}" && ok=$((ok + 1))
done
check "one token, three servers at once: one enrolment (got $ok)" test "$ok" = 1
check "... one token use recorded" test "$(sql "SELECT count(*) FROM used_tokens")" = 1
check "... one ACTIVE key for the token's person" \
    test "$(sql "SELECT count(*) FROM keys WHERE person_id = 'PNOLV-030303-33333' AND state = 3")" = 1

for s in A B C; do
    pid_var=${s}_PID
    kill -TERM "${!pid_var}"
    wait "${!pid_var}"
    check "SIGTERM stops server $s cleanly" test $? = 0
done
if [ "$FAILED" -ne 0 ]; then
    for s in A B C; do
        echo "--- server $s log (last 20 lines)" >&2
        tail -n 20 "$T/$s.log" >&2
    done
    exit 1
fi
echo "all checks passed"
