#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# server_store_safety.sh SERVER DRIVE SQLITE3 - the share server refuses,
# at start and with the reason, a store it must not serve from: a deleted
# or emptied database (it used one before), another deployment's database,
# an unwritable one and a corrupted one.  Each refusal exits 2 before
# listening and leaves the database as it was; --new-store starts afresh
# only on an empty store.  The enrolled key signs again once the right
# database is back.
SERVER=$1 DRIVE=$2 SQLITE3=$3
. "$(dirname "$0")/server_lib.sh"

# refused DESCRIPTION PATTERN [EXTRA-ARGS...]: the server exits 2 (a
# configuration error; 1 for a corrupted store, with WANT=1), says PATTERN
# on stderr and never writes the ready file.
refused() {
    local what=$1 pattern=$2 want=${WANT:-2}
    shift 2
    rm -f "$T/ready"
    local out rc
    out=$("$SERVER" run --dir "$T/srv" --listen tcp://127.0.0.1:0 --ready-file "$T/ready" \
        --db "sqlite:$T/server.db" "$@" 2>&1 >/dev/null)
    rc=$?
    if [ $rc -eq "$want" ] && [ ! -e "$T/ready" ] && printf '%s' "$out" | grep -q -- "$pattern"; then
        echo "ok: $what"
    else
        fail "$what (exit $rc): $out"
    fi
}

# 1. the first start creates the store and binds it to the directory
check "first start" start_server --open-enrolment --pool-size 0
check "DIR/store.id written" test -s "$T/srv/store.id"
check "a key enrols and signs" drive --signs 1 sign
stop_server
keys=$(sql "SELECT count(*) FROM keys")
check "one key stored" test "$keys" = 1
cp "$T/server.db" "$T/backup.db"
# check: the same checks on demand, writing nothing
before=$(sha256sum <"$T/server.db")
check "check: a store in order" "$SERVER" check --dir "$T/srv" --db "sqlite:$T/server.db"
check "... wrote nothing" test "$(sha256sum <"$T/server.db")" = "$before"

# 2. the database deleted: refused, nothing created in its place that a
#    later start would take for the store
rm -f "$T/server.db" "$T/server.db-wal" "$T/server.db-shm"
refused "a deleted database" "the store is empty, but this server has used a store before"
refused "... and again (the refusal changed nothing)" "the store is empty"

# 3. another deployment's database
SRV2=$(mktemp -d "$T/other-XXXXXX")
rmdir "$SRV2"
"$SERVER" init --dir "$SRV2" >/dev/null
"$SERVER" run --dir "$SRV2" --listen tcp://127.0.0.1:0 --ready-file "$T/ready2" \
    --db "sqlite:$T/other.db" >>"$T/server.log" 2>&1 &
P2=$!
while [ ! -s "$T/ready2" ] && kill -0 $P2 2>/dev/null; do sleep 0.02; done
kill -TERM $P2
wait $P2
cp "$T/other.db" "$T/server.db"
refused "another deployment's database" "not the one this server used"
"$SERVER" check --dir "$T/srv" --db "sqlite:$T/server.db" 2>"$T/check.err"
check "check: another deployment's database is reported (exit 1)" test $? -eq 1
check "... with the reason" grep -q "not the one" "$T/check.err"
check "... left as it was" test "$(sql 'SELECT count(*) FROM keys')" = 0

# 4. --new-store is only for an empty store
refused "--new-store on a store that has an id" "only for starting afresh" --new-store

# 5. the right database back: it serves, and the key still signs
cp "$T/backup.db" "$T/server.db"
rm -f "$T/server.db-wal" "$T/server.db-shm"
check "the restored database starts" start_server --open-enrolment --pool-size 0
stop_server

# 6. a corrupted database (every page but the first overwritten):
#    refused at start with the reason
cp "$T/backup.db" "$T/corrupt.db"
psize=$("$SQLITE3" "$T/corrupt.db" "PRAGMA page_size")
pages=$(( $(stat -c %s "$T/corrupt.db") / psize ))
dd if=/dev/urandom of="$T/corrupt.db" bs="$psize" seek=1 count=$((pages - 1)) conv=notrunc \
    status=none
cp "$T/corrupt.db" "$T/server.db"
WANT=1 refused "a corrupted database" "consistency check\|cannot open the store"
"$SERVER" check --dir "$T/srv" --db "sqlite:$T/server.db" 2>"$T/check.err"
check "check: a corrupted database is reported (exit 1)" test $? -eq 1
cp "$T/backup.db" "$T/server.db"

# 7. an unwritable database: refused at start, not at the first request.
#    root writes through file modes, so the server runs as another user then.
if [ "$(id -u)" -eq 0 ]; then
    RUNAS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    chown -R 65534:65534 "$T"
    chmod 0755 "$T"
else
    RUNAS=()
fi
chmod 0444 "$T/server.db"
chmod 0555 "$T"
out=$("${RUNAS[@]}" "$SERVER" run --dir "$T/srv" --listen tcp://127.0.0.1:0 \
    --ready-file "$T/ready-ro" --db "sqlite:$T/server.db" 2>&1 >/dev/null)
rc=$?
chmod 0755 "$T"
chmod 0644 "$T/server.db"
if [ $rc -ne 0 ] && [ ! -e "$T/ready-ro" ] && printf '%s' "$out" | grep -q "cannot be written\|cannot open the store"; then
    echo "ok: an unwritable database is refused at start"
else
    fail "an unwritable database (exit $rc): $out"
fi
[ "$(id -u)" -eq 0 ] && chown -R 0:0 "$T"

# 8. an empty store started afresh on purpose
rm -f "$T/server.db" "$T/server.db-wal" "$T/server.db-shm"
check "--new-store on an empty store" start_server --open-enrolment --pool-size 0 --new-store
stop_server
check "... rebinds the directory" start_server --open-enrolment --pool-size 0
stop_server

finish
