#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""chaos_pg.py - three share servers on one PostgreSQL database, devices
signing through them, and at random moments a kill -9 of one server
(restarted on its port) or of the whole PostgreSQL primary (postmaster and
its backends; restarted, crash recovery).  Then it counts, with psql as the
record:

  - every signature a device got acknowledged verified (sk_drive checks each
    under the key's n) and is in the event log: for every key, the signature
    events are exactly the acknowledged signatures plus the proof of
    possession (nothing acknowledged lost, nothing counted twice);
  - PIN attempts exact: every lockout run (three wrong PINs, sk_drive
    lockout, through a random server) left exactly three wrong-PIN events
    and one lock for its key;
  - no clone verdict and no destroyed key;
  - signing resumed after every kill (the signature count grew again).

Randomness is seeded (the seed is printed; --seed repeats a run).  The
default run is small (about a minute of work on two cores); --scale N
multiplies the signatures and the kills.

usage: chaos_pg.py SERVER SK_DRIVE [--seed S] [--scale N] [--keep]
Exit 0 when every count holds, 1 otherwise, 77 without PostgreSQL (1 when
SK_REQUIRE_PG=1).
"""
import glob
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SERVERS = 3
SIGNER_PROCS = 3
THREADS = 2


def log(*a):
    print(*a, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pg_bin():
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                    key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
                    reverse=True):
        if all(os.access(os.path.join(d, b), os.X_OK) for b in ("initdb", "pg_ctl", "postgres")):
            return d
    return None


class Cluster:
    """A PostgreSQL primary in a temporary directory, owned by postgres when
    run as root (PostgreSQL refuses root)."""

    def __init__(self, bindir, top):
        self.bin = bindir
        self.dir = os.path.join(top, "pg")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        self.port = None
        self.root = os.getuid() == 0
        os.makedirs(self.dir)
        if self.root:
            shutil.chown(top, "postgres")
            shutil.chown(self.dir, "postgres")

    def _as(self, cmd, **kw):
        if self.root:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        return subprocess.run(cmd, **kw)

    def init(self):
        r = self._as([self.bin + "/initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                      "--no-instructions", "-E", "UTF8", "--locale=C"],
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise SystemExit("initdb failed: " + r.stdout.decode(errors="replace"))
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        if self.root:
            shutil.chown(os.path.join(self.data, "pg_hba.conf"), "postgres")

    def start(self):
        for _ in range(50):
            if self.port is None:
                self.port = free_port()
            opts = ("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=on "
                    "-c synchronous_commit=on -c max_connections=100 -c shared_buffers=16MB"
                    % (self.port, self.dir))
            r = self._as([self.bin + "/pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "120",
                          "-o", opts, "start"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r.returncode == 0:
                return
            time.sleep(0.2)  # old backends still going away after a kill
        raise SystemExit("the PostgreSQL primary does not start; log:\n" + tail(self.log))

    def postmaster(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def kill9(self):
        """kill -9 of the postmaster and every process it started."""
        pm = self.postmaster()
        if pm is None:
            return
        kids = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pm)],
                              stdout=subprocess.PIPE).stdout.split()
        for pid in [pm] + [int(k) for k in kids]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for _ in range(500):
            try:
                os.kill(pm, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)

    def stop(self):
        self._as([self.bin + "/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def uri(self, db="splitkey"):
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, db)

    def psql(self, sql, db="splitkey"):
        r = subprocess.run([self.bin + "/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                            self.uri(db), "-c", sql], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode(errors="replace"))
        return r.stdout.decode().strip()

    def count(self, sql):
        """A count, asked until the primary answers."""
        for _ in range(3000):
            try:
                return int(self.psql(sql) or 0)
            except RuntimeError:
                time.sleep(0.1)
        raise SystemExit("psql gets no answer: " + sql)


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


class Server:
    def __init__(self, exe, top, name, srvdir, uri):
        self.exe, self.top, self.name, self.srvdir, self.uri = exe, top, name, srvdir, uri
        self.url = "tcp://127.0.0.1:0"
        self.proc = None
        self.log = os.path.join(top, name + ".log")

    def start(self):
        ready = os.path.join(self.top, "ready." + self.name)
        for _ in range(300):
            if os.path.exists(ready):
                os.unlink(ready)
            with open(self.log, "a") as lf:
                self.proc = subprocess.Popen(
                    [self.exe, "run", "--dir", self.srvdir, "--listen", self.url, "--ready-file",
                     ready, "--db", self.uri, "--open-enrolment", "--pool-size", "2",
                     "--pool-profiles", "4K", "--workers", "4", "--session-ttl", "3600"],
                    stdout=lf, stderr=lf)
            while self.proc.poll() is None:
                if os.path.exists(ready) and os.path.getsize(ready) > 0:
                    with open(ready) as f:
                        self.url = f.readline().strip()
                    return
                time.sleep(0.02)
            time.sleep(0.2)  # the port not free yet, or the database still recovering
        raise SystemExit("server %s does not start; log:\n%s" % (self.name, tail(self.log)))

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def term(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait()


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    server_exe, drive_exe = os.path.abspath(args[0]), os.path.abspath(args[1])
    seed, scale, keep = None, 1, False
    rest = args[2:]
    while rest:
        a = rest.pop(0)
        if a == "--seed" and rest:
            seed = int(rest.pop(0))
        elif a == "--scale" and rest:
            scale = max(1, int(rest.pop(0)))
        elif a == "--keep":
            keep = True
        else:
            print("unknown argument " + a, file=sys.stderr)
            return 2
    bindir = pg_bin()
    if bindir is None:
        if os.environ.get("SK_REQUIRE_PG") == "1":
            print("FAIL: PostgreSQL server binaries not found; SK_REQUIRE_PG=1 requires them",
                  file=sys.stderr)
            return 1
        print("SKIP: PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin)",
              file=sys.stderr)
        return 77
    if seed is None:
        seed = random.SystemRandom().randrange(1 << 31)
    rng = random.Random(seed)
    signs = 500 * scale  # per signer thread: outlasts the kills (about 100/s on two cores)
    server_kills = 4 * scale
    pg_kills = 2 * scale
    log("chaos_pg: seed %d (repeat with --seed %d), scale %d: %d signer processes x %d threads"
        " x %d signatures, %d server kills, %d primary kills"
        % (seed, seed, scale, SIGNER_PROCS, THREADS, signs, server_kills, pg_kills))

    top = tempfile.mkdtemp(prefix="sk-chaos-")
    os.chmod(top, 0o755)
    cluster = Cluster(bindir, top)
    servers, signers, failures = [], [], []

    def fail(what):
        failures.append(what)
        log("FAIL: " + what)

    def check(what, ok):
        if ok:
            log("ok: " + what)
        else:
            fail(what)

    try:
        cluster.init()
        cluster.start()
        cluster.psql("CREATE DATABASE splitkey", db="postgres")
        srvdir = os.path.join(top, "srv")
        subprocess.run([server_exe, "init", "--dir", srvdir], check=True,
                       stdout=subprocess.DEVNULL)
        for i in range(SERVERS):
            s = Server(server_exe, top, "s%d" % i, srvdir, cluster.uri())
            s.start()
            servers.append(s)
        log("servers: " + " ".join(s.url for s in servers) + " on " + cluster.uri())

        for i in range(SIGNER_PROCS):
            out = open(os.path.join(top, "sign%d.out" % i), "w")
            signers.append((subprocess.Popen(
                [drive_exe, "--server", servers[i % SERVERS].url, "--server-pub",
                 os.path.join(srvdir, "server.pub"), "--threads", str(THREADS), "--signs",
                 str(signs), "--timeout", "3000", "--give-up", "600", "sign"],
                stdout=out, stderr=subprocess.STDOUT), out))

        # the kills, in a seeded order, at seeded moments
        events = ["server"] * (server_kills - 1) + ["primary"] * (pg_kills - 1)
        rng.shuffle(events)
        first = ["server", "primary"]
        rng.shuffle(first)
        events = first + events  # one of each kind however soon the signers finish
        lockouts = []
        resumed = []
        for n, ev in enumerate(events):
            time.sleep(rng.uniform(1.0, 6.0))
            if all(p.poll() is not None for p, _ in signers):
                log("the signers finished before kill %d of %d" % (n + 1, len(events)))
                break
            before = cluster.count("SELECT count(*) FROM events WHERE kind = 5")
            t0 = time.monotonic()
            if ev == "server":
                victim = servers[rng.randrange(SERVERS)]
                log("kill -9 server %s (%d signatures so far)" % (victim.name, before))
                victim.kill9()
                time.sleep(rng.uniform(0.0, 1.0))
                victim.start()
            else:
                log("kill -9 the PostgreSQL primary (%d signatures so far)" % before)
                cluster.kill9()
                time.sleep(rng.uniform(0.0, 2.0))
                cluster.start()
            # a lockout run (three wrong PINs) through a random server
            lk = os.path.join(top, "lockout%d.out" % n)
            with open(lk, "w") as f:
                r = subprocess.run(
                    [drive_exe, "--server", servers[rng.randrange(SERVERS)].url, "--server-pub",
                     os.path.join(srvdir, "server.pub"), "--timeout", "3000", "--give-up", "600",
                     "lockout"], stdout=f, stderr=subprocess.STDOUT)
            lockouts.append((lk, r.returncode))
            # signing resumes: the count grows past what it was at the kill
            while any(p.poll() is None for p, _ in signers):
                if cluster.count("SELECT count(*) FROM events WHERE kind = 5") > before:
                    resumed.append(time.monotonic() - t0)
                    break
                time.sleep(0.1)
            else:
                if cluster.count("SELECT count(*) FROM events WHERE kind = 5") > before:
                    resumed.append(time.monotonic() - t0)
                else:
                    # the signers had finished their work before the kill: a
                    # probe key signs through a random server instead
                    with open(os.path.join(top, "probe%d.out" % n), "w") as f:
                        r = subprocess.run(
                            [drive_exe, "--server", servers[rng.randrange(SERVERS)].url,
                             "--server-pub", os.path.join(srvdir, "server.pub"), "--threads",
                             "1", "--signs", "2", "--timeout", "3000", "--give-up", "600",
                             "sign"], stdout=f, stderr=subprocess.STDOUT)
                    grew = cluster.count("SELECT count(*) FROM events WHERE kind = 5") > before
                    resumed.append(time.monotonic() - t0 if r.returncode == 0 and grew else None)

        for p, out in signers:
            p.wait()
            out.close()
        for s in servers:
            if s.term() != 0:
                fail("server %s did not stop cleanly on SIGTERM" % s.name)

        # --- the counts, from the database
        acked = {}
        for i in range(SIGNER_PROCS):
            with open(os.path.join(top, "sign%d.out" % i)) as f:
                text = f.read()
            for line in text.splitlines():
                w = line.split()
                if len(w) >= 4 and w[0] == "key" and w[2] == "signed":
                    acked[w[1]] = int(w[3])
                if w and w[0] == "signed":
                    log("signer %d: %s" % (i, line))
                    check("signer %d: all acknowledged signatures verified under n" % i,
                          "unverified 0" in line)
        check("signer processes exited 0 (every signature acknowledged and verified)",
              all(p.returncode == 0 for p, _ in signers))
        total = 0
        lost = 0
        for key, n in sorted(acked.items()):
            stored = cluster.count(
                "SELECT count(*) FROM events WHERE kind = 5 AND key_id = '\\x%s'::bytea" % key)
            total += n
            if stored != n + 1:
                lost += 1
                fail("key %s: %d signatures acknowledged, %d signature events (want %d)"
                     % (key[:8], n, stored, n + 1))
        check("%d acknowledged signatures of %d keys, each in the event log once"
              % (total, len(acked)), lost == 0 and len(acked) == SIGNER_PROCS * THREADS)
        check("every signer key ACTIVE", cluster.count(
            "SELECT count(*) FROM keys WHERE state = 3 AND key_id IN (%s)"
            % ",".join("'\\x%s'::bytea" % k for k in acked)) == len(acked))
        exact = 0
        for lk, rc in lockouts:
            with open(lk) as f:
                key = next((l.split()[1] for l in f if l.startswith("key ")), None)
            if rc != 0 or key is None:
                fail("lockout run %s exited %d" % (os.path.basename(lk), rc))
                continue
            wrong = cluster.count(
                "SELECT count(*) FROM events WHERE kind = 6 AND key_id = '\\x%s'::bytea" % key)
            locks = cluster.count(
                "SELECT count(*) FROM events WHERE kind = 7 AND key_id = '\\x%s'::bytea" % key)
            if wrong == 3 and locks == 1:
                exact += 1
            else:
                fail("lockout key %s: %d wrong PINs and %d locks counted (want 3 and 1)"
                     % (key[:8], wrong, locks))
        check("PIN attempts exact: %d lockout runs, each 3 wrong PINs and 1 lock in the log"
              % len(lockouts), exact == len(lockouts) and len(lockouts) > 0)
        check("no clone verdict",
              cluster.count("SELECT count(*) FROM events WHERE kind = 9") == 0)
        check("no key destroyed", cluster.count("SELECT count(*) FROM keys WHERE state = 5") == 0)
        done = [r for r in resumed if r is not None]
        check("signing resumed after each of the %d kills (slowest %.1f s)"
              % (len(resumed), max(done) if done else 0.0),
              len(done) == len(resumed) and len(resumed) >= 2)
    finally:
        for s in servers:
            if s.proc is not None and s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
        for p, _ in signers:
            if p.poll() is None:
                p.kill()
                p.wait()
        cluster.stop()
        if failures:
            for s in servers:
                log("--- server %s log (last 15 lines)" % s.name)
                log(tail(s.log, 15))
        if keep:
            log("kept " + top)
        else:
            shutil.rmtree(top, ignore_errors=True)
    if failures:
        log("chaos_pg: %d checks failed (seed %d)" % (len(failures), seed))
        return 1
    log("chaos_pg: all checks passed (seed %d)" % seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
