#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# flood.sh - connection floods against a real splitkey-server limited to
# 1024 descriptors (ulimit -n 1024), on loopback:
#   - about 1,100 connections that finish the SP handshake and then stay
#     idle, from 127.0.0.2 ... 127.0.0.30, reopened as soon as the server
#     closes them, plus a few that trickle the bytes of a frame that never
#     ends: the honest device (127.0.0.1) still signs while they are open,
#     the trickling ones are closed by the server, the log has the cap
#     lines, and the server never comes near its descriptor limit;
#   - a few idle and trickling connections well below the caps: closed by
#     the idle timeout (--idle-seconds 3), and logged;
#   - about 1,100 raw TCP connections that never send the SP header (nng
#     holds each for its 10 s handshake timeout, out of the guard's reach):
#     the process runs out of descriptors, says so in its log, and serves
#     the device again once they are gone;
#   - the same flood kept up (connections reopened as the server drops
#     them): after SK_CONNGUARD_WEDGE_S (15 s) short of descriptors the
#     server closes its listener, which frees every connection still in
#     the handshake, listens again, and serves the device once the flood
#     stops;
#   - one peer opening more connections than the per-peer cap (on a second
#     run of the server with --max-conns-per-peer 8): exactly the extra
#     ones are closed, the others stay open.
#
#   flood.sh SERVER CLIENT PYTHON3 OPENSSL
#
# The flooding is done by a Python helper written to the temporary
# directory.  Nothing here depends on how fast the machine is: every wait
# is a hang guard with a generous bound.  Exit status 0 when every check
# passed, 77 when the machine cannot run it (no 127.0.0.2, no /proc).
# KEEP_T=1 keeps the temporary directory (logs, helper) for a look after.
set -u
if [ $# -lt 4 ]; then
  echo "usage: $0 SERVER CLIENT PYTHON3 OPENSSL" >&2
  exit 2
fi
SERVER=$1 CLIENT=$2 PY=$3 OPENSSL=$4
FD_LIMIT=1024
IDLE_FLOOD=1100 # handshaken idle connections kept open by the attacker
SLOW=16         # connections trickling a frame
RAW=1100        # connections that never send the SP header
SUBJECT="C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-010101-12345"
export SPLITKEY_CLIENT_TIMEOUT_MS=30000

T=$(mktemp -d "${TMPDIR:-/tmp}/sk-flood.XXXXXX")
SRV_PID=
HELPER_PID=
FAILED=0
CHECKS=0

cleanup() {
  local p
  for p in $HELPER_PID $SRV_PID; do
    if kill -0 "$p" 2>/dev/null; then
      kill -9 "$p" 2>/dev/null
      wait "$p" 2>/dev/null
    fi
  done
  [ -n "${KEEP_T:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  FAILED=1
}

check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  CHECKS=$((CHECKS + 1))
  if "$@" >"$T/last.out" 2>&1; then
    echo "ok: $what"
  else
    fail "$what"
    sed 's/^/  | /' "$T/last.out" >&2
  fi
}

[ -d /proc/self/fd ] || { echo "no /proc: skipped"; exit 77; }
(ulimit -n "$FD_LIMIT") 2>/dev/null || { echo "cannot set ulimit -n $FD_LIMIT: skipped"; exit 77; }
"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null ||
  { echo "cannot bind 127.0.0.2: skipped"; exit 77; }

# ---------------------------------------------------------------- helper
cat >"$T/flood.py" <<'PYEOF'
"""Connection floods for flood.sh (see there).

  flood.py flood HOST PORT SERVER_PID STATUS STOP IDLE SLOW
  flood.py raw HOST PORT SERVER_PID COUNT LOG PATTERN
  flood.py rawhold HOST PORT SERVER_PID LOG PATTERN
  flood.py perpeer HOST PORT ADDR CAP EXTRA
"""
import errno
import json
import os
import re
import resource
import selectors
import socket
import sys
import time

SP_HEADER = b"\x00SP\x00\x00\x30\x00\x00"  # SP over TCP, protocol req0 (0x30)
GUARD_S = 1800.0  # the flood stops by itself after this, whatever happens


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 8192 if hard == resource.RLIM_INFINITY else min(hard, 8192)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def open_nb(host, port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    if src:
        s.bind((src, 0))
    err = s.connect_ex((host, port))
    if err not in (0, errno.EINPROGRESS):
        s.close()
        return None
    return s


def server_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


class Conn:
    __slots__ = ("sock", "slow", "state", "got", "sent", "next_send", "src")

    def __init__(self, sock, slow, src):
        self.sock, self.slow, self.src = sock, slow, src
        self.state, self.got, self.sent, self.next_send = "connecting", b"", 0, 0.0


def flood(host, port, pid, status, stop, n_idle, n_slow):
    """Keeps n_idle handshaken idle connections open (reopening those the
    server closes, at most RATE a second) and n_slow that trickle a frame
    after the handshake; samples the server's descriptor count."""
    RATE = 250
    sources = ["127.0.0.%d" % i for i in range(2, 31)]
    frame = (4000).to_bytes(8, "big") + b"\x80\x00\x00\x01" + b"x" * 3996
    sel = selectors.DefaultSelector()
    st = {"opened": 0, "handshakes": 0, "closed_by_server": 0, "slow_open": 0,
          "slow_handshaken": 0, "slow_closed": 0, "open_now": 0, "max_server_fds": 0,
          "server_fds": 0, "connect_failures": 0}
    conns = set()
    next_src = 0
    start = time.monotonic()
    budget, budget_t = RATE, start
    last_status = 0.0

    def add(slow):
        nonlocal next_src
        src = "127.0.0.40" if slow else sources[next_src % len(sources)]
        next_src += 1
        s = open_nb(host, port, src)
        if s is None:
            st["connect_failures"] += 1
            return
        c = Conn(s, slow, src)
        conns.add(c)
        sel.register(s, selectors.EVENT_WRITE, c)
        st["opened"] += 1

    def drop(c, by_server):
        try:
            sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()
        conns.discard(c)
        if by_server:
            st["closed_by_server"] += 1
            if c.slow:
                st["slow_closed"] += 1

    for _ in range(n_slow):
        add(True)
    while time.monotonic() - start < GUARD_S and not os.path.exists(stop):
        now = time.monotonic()
        if now - budget_t >= 1.0:
            budget, budget_t = RATE, now
        idle_now = sum(1 for c in conns if not c.slow)
        while idle_now < n_idle and budget > 0:
            add(False)
            idle_now += 1
            budget -= 1
        for key, ev in sel.select(timeout=0.05):
            c = key.data
            if c.state == "connecting":
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err != 0:
                    st["connect_failures"] += 1
                    drop(c, False)
                    continue
                try:
                    c.sock.send(SP_HEADER)
                except OSError:
                    drop(c, True)
                    continue
                c.state = "handshake"
                sel.modify(c.sock, selectors.EVENT_READ, c)
                continue
            try:
                data = c.sock.recv(64)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                drop(c, c.state != "connecting")
                continue
            if c.state == "handshake":
                c.got += data
                if len(c.got) >= 8:
                    c.state = "open"
                    st["handshakes"] += 1
                    if c.slow:
                        st["slow_handshaken"] += 1
                        c.next_send = time.monotonic()
        # the slow ones: one byte of the frame every 0.25 s
        now = time.monotonic()
        for c in list(conns):
            if c.slow and c.state == "open" and now >= c.next_send and c.sent < len(frame):
                try:
                    c.sock.send(frame[c.sent:c.sent + 1])
                    c.sent += 1
                except BlockingIOError:
                    pass
                except OSError:
                    drop(c, True)
                    continue
                c.next_send = now + 0.25
        if now - last_status >= 0.2:
            last_status = now
            fds = server_fds(pid)
            st["server_fds"] = fds
            st["max_server_fds"] = max(st["max_server_fds"], fds)
            st["open_now"] = sum(1 for c in conns if c.state == "open")
            st["slow_open"] = sum(1 for c in conns if c.slow and c.state == "open")
            tmp = status + ".tmp"
            with open(tmp, "w") as f:
                json.dump(st, f)
            os.replace(tmp, status)
    for c in list(conns):
        drop(c, False)
    with open(status + ".tmp", "w") as f:
        json.dump(st, f)
    os.replace(status + ".tmp", status)
    print(json.dumps(st))


def raw(host, port, pid, count, log, pattern):
    """Opens count TCP connections that never send the SP header (50 at a
    time, so that the listen backlog does not overflow), more while the
    server still has descriptors, until the server's log matches pattern;
    then closes them all."""
    socks, most = [], 0
    rx = re.compile(pattern)
    start, seen = time.monotonic(), False
    while time.monotonic() - start < 60.0 and not seen:
        fds = server_fds(pid)
        most = max(most, fds)
        if len(socks) < count or (len(socks) < 3 * count and 0 <= fds < 1000):
            for i in range(50):
                s = open_nb(host, port, "127.0.0.%d" % (50 + len(socks) % 20))
                if s is not None:
                    socks.append(s)
        time.sleep(0.05)
        with open(log, errors="replace") as f:
            seen = rx.search(f.read()) is not None
    for s in socks:
        s.close()
    print("raw connections: %d; server descriptors at most %d; log line seen: %s"
          % (len(socks), most, "yes" if seen else "no"))
    return 0 if seen else 1


def rawhold(host, port, pid, log, pattern):
    """Keeps the server short of descriptors with connections that never
    send the SP header (reopening as the server drops them) until its log
    matches pattern (at most 120 s); then closes them all.  Succeeds when
    the pattern was seen and the server closed some of them."""
    socks, most, dropped = [], 0, 0
    rx = re.compile(pattern)
    start, seen, pruned = time.monotonic(), False, time.monotonic()
    while time.monotonic() - start < 120.0 and not seen:
        fds = server_fds(pid)
        most = max(most, fds)
        if 0 <= fds < 1000 and len(socks) < 6000:
            for i in range(50):
                s = open_nb(host, port, "127.0.0.%d" % (50 + len(socks) % 20))
                if s is not None:
                    socks.append(s)
        if time.monotonic() - pruned >= 1.0:
            pruned = time.monotonic()
            keep = []
            for s in socks:
                if is_closed(s):
                    s.close()
                    dropped += 1
                else:
                    keep.append(s)
            socks = keep
        time.sleep(0.05)
        with open(log, errors="replace") as f:
            seen = rx.search(f.read()) is not None
    for s in socks:
        s.close()
    print("held for %.0f s; server descriptors at most %d; dropped by the server: %d; "
          "log line seen: %s" % (time.monotonic() - start, most, dropped,
                                 "yes" if seen else "no"))
    return 0 if seen and dropped > 0 else 1


def handshake(host, port, src):
    s = socket.create_connection((host, port), timeout=30, source_address=(src, 0))
    s.sendall(SP_HEADER)
    got = b""
    while len(got) < 8:
        d = s.recv(8 - len(got))
        if not d:
            break  # closed right after the handshake: counted below
        got += d
    s.setblocking(False)
    return s


def is_closed(s):
    try:
        return s.recv(64) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def perpeer(host, port, addr, cap, extra):
    """Opens cap + extra connections from addr one after another, and one
    from another address; exactly extra must be closed, the rest open."""
    mine = [handshake(host, port, addr) for _ in range(cap + extra)]
    other = handshake(host, port, "127.0.0.32")
    start = time.monotonic()
    while time.monotonic() - start < 60.0:
        if sum(1 for s in mine if is_closed(s)) >= extra:
            break
        time.sleep(0.1)
    time.sleep(1.0)  # anything else the server were to close goes now
    closed = sum(1 for s in mine if is_closed(s))
    other_open = not is_closed(other)
    print("from %s: %d opened, %d closed by the server, %d open; other peer open: %s"
          % (addr, len(mine), closed, len(mine) - closed, other_open))
    ok = closed == extra and other_open
    for s in mine + [other]:
        s.close()
    return 0 if ok else 1


def main():
    raise_nofile()
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "flood":
        flood(host, port, int(sys.argv[4]), sys.argv[5], sys.argv[6], int(sys.argv[7]),
              int(sys.argv[8]))
        return 0
    if mode == "raw":
        return raw(host, port, int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7])
    if mode == "rawhold":
        return rawhold(host, port, int(sys.argv[4]), sys.argv[5], sys.argv[6])
    if mode == "perpeer":
        return perpeer(host, port, sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    return 2


sys.exit(main())
PYEOF

# ---------------------------------------------------------------- server
"$SERVER" init --dir "$T/srv" >/dev/null || { echo "init failed" >&2; exit 1; }

# start_server LOG [ARGS...]: a server under ulimit -n $FD_LIMIT on a free
# port; sets SRV_PID, URL, HOST and PORT once it listens.
start_server() {
  local log=$1
  shift
  rm -f "$T/ready"
  (
    ulimit -n "$FD_LIMIT" || exit 1
    exec "$SERVER" run --dir "$T/srv" --listen tcp://127.0.0.1:0 --ready-file "$T/ready" \
      --db "sqlite:$T/server.db" --open-enrolment --pool-profiles 4K --workers 4 "$@"
  ) >>"$log" 2>&1 &
  SRV_PID=$!
  local i=0
  while [ ! -s "$T/ready" ]; do
    kill -0 "$SRV_PID" 2>/dev/null || { SRV_PID=; return 1; }
    i=$((i + 1))
    [ $i -gt 6000 ] && return 1
    sleep 0.02
  done
  URL=$(head -n1 "$T/ready")
  HOST=${URL#tcp://}
  PORT=${HOST##*:}
  HOST=${HOST%:*}
}

# stop_server: SIGTERM, then waits for the exit (hang guard 120 s; a
# server still running then is killed and the check fails).
stop_server() {
  local i rc
  kill -TERM "$SRV_PID" || return 1
  for i in $(seq 1 1200); do
    kill -0 "$SRV_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SRV_PID" 2>/dev/null; then
    echo "the server did not stop within 120 s of SIGTERM" >&2
    kill -9 "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
    SRV_PID=
    return 1
  fi
  wait "$SRV_PID"
  rc=$?
  SRV_PID=
  return $rc
}

fds_of() { ls "/proc/$1/fd" | wc -l; }

sign_and_verify() { # sign_and_verify N: signs doc.txt, checks it with openssl
  timeout 300 "$CLIENT" sign --state "$T/dev" --purpose sign --pin-file "$T/pin" \
    --in "$T/doc.txt" --out "$T/sig.$1" --scheme pss --hash sha256 &&
    "$OPENSSL" dgst -sha256 -verify "$T/sign.pub" -signature "$T/sig.$1" \
      -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest "$T/doc.txt"
}

# wait_status EXPR: waits (hang guard 120 s) until the helper's status
# satisfies the Python expression over st.
wait_status() {
  local i
  for i in $(seq 1 1200); do
    if [ -s "$T/status.json" ] &&
      "$PY" -c "import json,sys; st = json.load(open('$T/status.json')); sys.exit(0 if ($1) else 1)" 2>/dev/null; then
      return 0
    fi
    kill -0 "$HELPER_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

status() { "$PY" -c "import json; print(json.load(open('$T/status.json'))['$1'])"; }

printf '12345\n' >"$T/pin"
printf 'Delivery note: 40 crates, received in full.\n' >"$T/doc.txt"

start_server "$T/server.log" --pool-size 2 --idle-seconds 3 ||
  { cat "$T/server.log" >&2; echo "the server did not start" >&2; exit 1; }
check "the startup line names the caps derived from ulimit -n $FD_LIMIT" \
  grep -q "connections at most 512, 256 per peer, closed after 3 s idle" "$T/server.log"
check "enrol a signing key" timeout 300 "$CLIENT" enrol --state "$T/dev" --server "$URL" \
  --server-pub "$T/srv/server.pub" --purpose sign --pin-file "$T/pin" --profile 4K \
  --subject "$SUBJECT"
check "pubkey" "$CLIENT" pubkey --state "$T/dev" --purpose sign --out "$T/sign.pub"
check "a signature before the flood" sign_and_verify 0

# --- idle and slow connections
rm -f "$T/stop" "$T/status.json"
"$PY" "$T/flood.py" flood "$HOST" "$PORT" "$SRV_PID" "$T/status.json" "$T/stop" \
  "$IDLE_FLOOD" "$SLOW" >"$T/flood.out" 2>&1 &
HELPER_PID=$!
check "the flood is in place: $IDLE_FLOOD handshaken connections and more" \
  wait_status "st['handshakes'] >= $IDLE_FLOOD and st['slow_handshaken'] >= $SLOW"
sleep 1.5 # the flood's connections are now idle long enough to make room
for n in 1 2 3; do
  check "the honest device signs during the flood ($n)" sign_and_verify "$n"
done
check "the flood is still on: the attacker holds hundreds of connections" \
  test "$(status open_now)" -ge 400
check "the trickling connections were closed by the server" \
  wait_status "st['slow_closed'] >= $SLOW"
check "the server closed flood connections" test "$(status closed_by_server)" -gt "$SLOW"
check "the server is alive during the flood" kill -0 "$SRV_PID"
fds_now=$(fds_of "$SRV_PID")
touch "$T/stop"
wait "$HELPER_PID"
HELPER_PID=
sed 's/^/  [flood] /' "$T/flood.out"
max_fds=$("$PY" -c "import json; print(json.load(open('$T/status.json'))['max_server_fds'])")
echo "  server descriptors: $fds_now at the end of the flood, $max_fds at most (limit $FD_LIMIT)"
check "the server stayed below its descriptor limit" test "$max_fds" -lt "$FD_LIMIT"
check "the server stayed below its descriptor limit (at the end)" test "$fds_now" -lt "$FD_LIMIT"
check "the log has the cap line" grep -q "connection cap reached" "$T/server.log"
check "the log lines are rate-limited (a few, not one per connection)" \
  test "$(grep -c "connection cap reached\|idle connections:" "$T/server.log")" -lt 100

# --- below the caps, only the idle timeout closes idle and trickling ones
rm -f "$T/stop" "$T/status.json"
"$PY" "$T/flood.py" flood "$HOST" "$PORT" "$SRV_PID" "$T/status.json" "$T/stop" 20 8 \
  >"$T/idle.out" 2>&1 &
HELPER_PID=$!
check "idle and trickling connections below the caps are closed after --idle-seconds" \
  wait_status "st['slow_closed'] >= 8 and st['closed_by_server'] >= 28"
touch "$T/stop"
wait "$HELPER_PID"
HELPER_PID=
sed 's/^/  [idle] /' "$T/idle.out"
check "the log has the idle line" grep -q "idle connections: .* closed" "$T/server.log"

# --- descriptor exhaustion: connections that never finish the handshake
check "raw connections exhaust the descriptors, and the log says so" \
  "$PY" "$T/flood.py" raw "$HOST" "$PORT" "$SRV_PID" "$RAW" "$T/server.log" \
  "descriptors (nearly )?exhausted"
sed 's/^/  [raw] /' "$T/last.out"
check "the honest device signs once they are gone" sign_and_verify 4
check "a raw flood kept up: the server recovers its listener after 15 s short of descriptors" \
  "$PY" "$T/flood.py" rawhold "$HOST" "$PORT" "$SRV_PID" "$T/server.log" "listening again on"
sed 's/^/  [raw kept up] /' "$T/last.out"
check "the log says why the listener was closed" grep -q "descriptors short for 15 s" "$T/server.log"
check "the honest device signs after the recovery" sign_and_verify 5
check "the server is alive after the exhaustion" kill -0 "$SRV_PID"
check "SIGTERM stops the server cleanly" stop_server
check "the server said it stopped" grep -q "notice stopped" "$T/server.log"

# --- one peer over its cap
start_server "$T/server2.log" --pool-size 0 --max-conns-per-peer 8 --idle-seconds 600 ||
  { cat "$T/server2.log" >&2; echo "the server did not restart" >&2; exit 1; }
check "8 of 16 connections from one peer closed, the other peer's kept" \
  "$PY" "$T/flood.py" perpeer "$HOST" "$PORT" 127.0.0.31 8 8
sed 's/^/  [per-peer] /' "$T/last.out"
check "the log has the per-peer line" grep -q "per-peer cap of 8 (last from 127.0.0.31" \
  "$T/server2.log"
check "SIGTERM stops the second server cleanly" stop_server

if [ "$FAILED" -ne 0 ]; then
  echo "--- server log (lines other than requests, last 40)" >&2
  grep -hv " req kind=" "$T/server.log" "$T/server2.log" 2>/dev/null | tail -n 40 >&2
  echo "flood.sh: checks failed" >&2
  exit 1
fi
echo "flood.sh: $CHECKS checks passed"
exit 0
