#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mitm_proxy.py - a network attacker between splitkey-client and
splitkey-server, for tests/attack/replay_attacks.sh.

It relays nng's SP-over-TCP (req/rep) on loopback, records every frame in
both directions and, on command, replays recorded requests from
connections of its own, drops, delays or holds requests and replies,
delivers a held reply in place of a later one, and answers with forged
plain error frames.  It never reads anything sealed: it sees only what the
wire shows (channel tag, the Envelope's clear fields).

    mitm_proxy.py serve SERVER_PORT PORT_FILE CONTROL_SOCKET
    mitm_proxy.py ctl CONTROL_SOCKET COMMAND [ARG...]

'serve' listens on a free loopback port, writes the port to PORT_FILE and
serves until killed.  'ctl' sends one command over the control socket (a
Unix socket), prints the answer and exits 0 ("ok") or 1 ("err").

Commands (TYPE is a message type number or name, e.g. SignSubmit or 11,
or 'any'; N how many matching frames a rule applies to, default 1):
  drop-request TYPE [N]       the request never reaches the server
  drop-reply TYPE [N]         the server handles it, its reply is lost
  delay-reply TYPE MS [N]     the reply is delivered MS ms late
  hold-request TYPE [N]       the request is kept back until 'release'
  release [SEQ]               sends held requests (or one) to the server
                              now, on their own connection if it is
                              still open, else on a new one
  held                        how many requests are held
  forget                      drops every held request (never sent)
  hold-reply TYPE             the next reply is kept back (not delivered)
  swap-reply TYPE             the next reply is replaced by the kept one,
                              relabelled for the request it now answers
  inject TYPE KIND [forward]  the next request is answered with a forged
                              frame: KIND plain-<code> (an Envelope of
                              type PLAIN_ERROR) or ske-<code> (the
                              service's "SKE1" error frame), code one of
                              destroyed, clone, wrongpin, locked or a
                              number; with 'forward' the server handles
                              the request first and its reply is replaced
  rules                       every rule and how often it fired
  fired ID                    how often rule ID fired
  clear                       removes every rule not yet used up
  list [TYPE]                 the recorded requests (seq, conn, type, ...)
  last TYPE [K]               the seq of the K-th newest request of TYPE
  reply-of SEQ                what the server answered to request SEQ
  replay SEQ [N [parallel]]   sends recorded request SEQ to the server N
                              times, each on a new connection; one line
                              per answer
  grep HEX                    how many recorded frames contain the bytes
  dump DIR                    writes every recorded frame to DIR
"""
import os
import socket
import struct
import sys
import threading
import time

TYPES = {
    "EnrolInit": 1, "EnrolInitReply": 2, "EnrolSubmit": 3, "EnrolSubmitReply": 4,
    "SessionCreate": 5, "SessionCreateReply": 6, "SessionFetch": 7,
    "SessionFetchReply": 8, "SessionRefuse": 9, "SessionRefuseReply": 10,
    "SignSubmit": 11, "SignReply": 12, "KeyState": 13, "KeyStateReply": 14,
    "OtpRefresh": 15, "OtpRefreshReply": 16, "Revoke": 17, "RevokeReply": 18,
    "Error": 19, "PlainError": 20,
}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
MSG_PLAIN_ERROR = 20
PROTOCOL_VERSION = 2
# sk_error codes (negative in the library; positive in a protocol Error)
ERROR_CODES = {"wrongpin": 65, "locked": 66, "destroyed": 67, "clone": 68}
DESTROY_CLONE = 3
SP_REQ_HANDSHAKE = b"\x00SP\x00\x00\x30\x00\x00"  # nng SP header, protocol req0
REPLAY_TIMEOUT = 120.0


# ------------------------------------------------------------------ wire

def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def recv_frame(sock):
    (length,) = struct.unpack(">Q", recv_exact(sock, 8))
    return recv_exact(sock, length)


def send_frame(sock, frame):
    sock.sendall(struct.pack(">Q", len(frame)) + frame)


def split_header(frame):
    """An SP message: a backtrace of 32-bit words, the last one (the request
    id) with its top bit set, then the body."""
    i = 0
    while i + 4 <= len(frame):
        word = frame[i:i + 4]
        i += 4
        if word[0] & 0x80:
            return frame[:i], frame[i:]
    return frame, b""


def varint(data, i):
    value, shift = 0, 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def put_varint(value):
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def proto_fields(data):
    """The top-level fields of a protobuf message as {number: value}, or
    None when it does not parse."""
    fields = {}
    i = 0
    try:
        while i < len(data):
            key, i = varint(data, i)
            number, wire = key >> 3, key & 7
            if wire == 0:
                value, i = varint(data, i)
            elif wire == 2:
                n, i = varint(data, i)
                if i + n > len(data):
                    return None
                value = data[i:i + n]
                i += n
            elif wire == 1:
                value = data[i:i + 8]
                i += 8
            elif wire == 5:
                value = data[i:i + 4]
                i += 4
            else:
                return None
            fields[number] = value
    except IndexError:
        return None
    return fields


def describe(body, is_request):
    """What the wire shows of a body: (tag, envelope type, key id hex,
    detail).  Requests carry a 4-byte channel tag."""
    tag = ""
    if is_request:
        tag, body = body[:4].decode("latin-1"), body[4:]
        if tag != "SKD1":
            return tag, None, "", ""
    elif body[:4] == b"SKE1" and len(body) >= 8:
        (code,) = struct.unpack(">i", body[4:8])
        return "SKE1", None, "", "ske1 code=%d" % code
    env = proto_fields(body)
    if env is None or not isinstance(env.get(2, 0), int):
        return tag, None, "", "unparsed"
    mtype = env.get(2)
    key_id = env.get(1, b"")
    detail = ""
    if mtype == MSG_PLAIN_ERROR:
        err = proto_fields(env.get(4, b"")) or {}
        code = err.get(1, 0)
        if code >= 1 << 31:
            code -= 1 << 32
        detail = "plain-error code=%d" % code
    return tag, mtype, key_id.hex() if isinstance(key_id, bytes) else "", detail


def forged_frame(kind):
    """A forged unauthenticated error reply body."""
    form, _, what = kind.partition("-")
    code = ERROR_CODES.get(what)
    if code is None:
        code = abs(int(what))
    if form == "plain":
        err = b"\x08" + put_varint(code)
        if code == ERROR_CODES["wrongpin"]:
            err += b"\x10" + put_varint(0)
        if code == ERROR_CODES["locked"]:
            err += b"\x18" + put_varint(int(time.time()) + 86400)
        if code in (ERROR_CODES["destroyed"], ERROR_CODES["clone"]):
            err += b"\x20" + put_varint(DESTROY_CLONE)
        env = (b"\x10" + put_varint(MSG_PLAIN_ERROR) + b"\x22" + put_varint(len(err)) + err +
               b"\x28" + put_varint(PROTOCOL_VERSION))
        return env
    if form == "ske":
        text = b"forged"
        return b"SKE1" + struct.pack(">iH", -code, len(text)) + text
    raise ValueError("unknown frame kind " + kind)


def parse_type(word):
    if word == "any":
        return None
    if word.isdigit():
        return int(word)
    for name, number in TYPES.items():
        if name.lower() == word.lower():
            return number
    raise ValueError("unknown message type " + word)


# ------------------------------------------------------------------ state

class Record:
    def __init__(self, seq, conn, direction, header, body):
        self.seq, self.conn, self.direction = seq, conn, direction
        self.header, self.body = header, body
        self.tag, self.type, self.key_id, self.detail = describe(body, direction == "req")
        self.reply = None      # for a request: the Record of the server's answer
        self.request = None    # for a reply: the Record of the request
        self.fate = "forwarded"


class Rule:
    def __init__(self, rid, action, mtype, count, **params):
        self.id, self.action, self.type = rid, action, mtype
        self.left, self.fired = count, 0
        self.params = params

    def matches(self, mtype):
        return self.left > 0 and (self.type is None or self.type == mtype)

    def use(self):
        self.left -= 1
        self.fired += 1


class Proxy:
    def __init__(self, server_port):
        self.server_port = server_port
        self.lock = threading.RLock()
        self.records = []
        self.rules = []
        self.next_rule = 1
        self.conns = {}          # conn id -> Conn
        self.next_conn = 1
        self.kept_reply = None   # the reply hold-reply kept back
        self.held = []           # requests hold-request kept back: (Conn, Record)
        self.replay_id = 0x80000001

    def record(self, conn, direction, frame):
        header, body = split_header(frame)
        with self.lock:
            rec = Record(len(self.records) + 1, conn, direction, header, body)
            self.records.append(rec)
            return rec

    def take_rule(self, actions, mtype):
        with self.lock:
            for rule in self.rules:
                if rule.action in actions and rule.matches(mtype):
                    rule.use()
                    return rule
        return None

    def add_rule(self, action, mtype, count=1, **params):
        with self.lock:
            rule = Rule(self.next_rule, action, mtype, count, **params)
            self.next_rule += 1
            self.rules.append(rule)
            return rule.id


class Conn:
    """One client connection and the proxy's connection to the server."""

    def __init__(self, proxy, client):
        self.proxy = proxy
        self.client = client
        self.server = socket.create_connection(("127.0.0.1", proxy.server_port))
        self.client_lock = threading.Lock()
        self.server_lock = threading.Lock()
        self.pending = {}   # SP request id -> request Record
        self.open = True
        with proxy.lock:
            self.id = proxy.next_conn
            proxy.next_conn += 1
            proxy.conns[self.id] = self

    def to_client(self, frame):
        with self.client_lock:
            try:
                send_frame(self.client, frame)
            except OSError:
                pass

    def to_server(self, frame):
        with self.server_lock:
            send_frame(self.server, frame)

    def run(self):
        self.server.sendall(recv_exact(self.client, 8))  # SP handshakes
        self.client.sendall(recv_exact(self.server, 8))
        threading.Thread(target=self.replies, daemon=True).start()
        try:
            while True:
                self.request(recv_frame(self.client))
        except (EOFError, OSError):
            pass
        finally:
            self.close()

    def close(self):
        self.open = False
        for sock in (self.client, self.server):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def request(self, frame):
        p = self.proxy
        rec = p.record(self.id, "req", frame)
        rule = p.take_rule(("drop-request", "hold-request", "inject"), rec.type)
        if rule is not None and rule.action == "drop-request":
            rec.fate = "dropped (rule %d)" % rule.id
            return
        if rule is not None and rule.action == "hold-request":
            rec.fate = "held (rule %d)" % rule.id
            with p.lock:
                p.held.append((self, rec))
            return
        if rule is not None and rule.action == "inject" and not rule.params["forward"]:
            rec.fate = "answered by the proxy (rule %d)" % rule.id
            forged = forged_frame(rule.params["kind"])
            rec.reply = p.record(self.id, "rep", rec.header + forged)
            rec.reply.fate = "forged (rule %d)" % rule.id
            self.to_client(rec.header + forged)
            return
        with p.lock:
            self.pending[rec.header] = rec
            if rule is not None:
                rec.inject_rule = rule
        self.to_server(frame)

    def replies(self):
        try:
            while True:
                self.reply(recv_frame(self.server))
        except (EOFError, OSError):
            pass
        finally:
            self.close()

    def reply(self, frame):
        p = self.proxy
        rec = p.record(self.id, "rep", frame)
        with p.lock:
            req = self.pending.pop(rec.header, None)
        if req is not None:
            req.reply, rec.request = rec, req
        mtype = req.type if req is not None else None
        inject = getattr(req, "inject_rule", None)
        if inject is not None:
            rec.fate = "replaced by a forged frame (rule %d)" % inject.id
            forged = forged_frame(inject.params["kind"])
            p.record(self.id, "rep", rec.header + forged).fate = "forged (rule %d)" % inject.id
            self.to_client(rec.header + forged)
            return
        rule = p.take_rule(("drop-reply", "delay-reply", "hold-reply", "swap-reply"), mtype)
        if rule is None:
            self.to_client(frame)
            return
        if rule.action == "drop-reply":
            rec.fate = "dropped (rule %d)" % rule.id
        elif rule.action == "delay-reply":
            rec.fate = "delayed %d ms (rule %d)" % (rule.params["ms"], rule.id)
            threading.Timer(rule.params["ms"] / 1000.0, self.to_client, (frame,)).start()
        elif rule.action == "hold-reply":
            rec.fate = "kept back (rule %d)" % rule.id
            with p.lock:
                p.kept_reply = rec
        elif rule.action == "swap-reply":
            with p.lock:
                kept, p.kept_reply = p.kept_reply, None
            if kept is None:
                self.to_client(frame)
                return
            rec.fate = "replaced by reply %d (rule %d)" % (kept.seq, rule.id)
            kept.fate = "delivered in place of reply %d" % rec.seq
            self.to_client(rec.header + kept.body)


# ------------------------------------------------------------------ replay

def exchange_new_connection(proxy, body, timeout=REPLAY_TIMEOUT):
    """Sends one request body on a connection of the proxy's own; returns
    the reply body or None."""
    with proxy.lock:
        rid = proxy.replay_id
        proxy.replay_id = 0x80000001 + (proxy.replay_id - 0x80000000) % 0x7FFFFFFE
    header = struct.pack(">I", rid)
    sock = socket.create_connection(("127.0.0.1", proxy.server_port), timeout=timeout)
    try:
        sock.sendall(SP_REQ_HANDSHAKE)
        recv_exact(sock, 8)
        send_frame(sock, header + body)
        while True:
            reply_header, reply_body = split_header(recv_frame(sock))
            if reply_header == header:
                return reply_body
    except (EOFError, OSError):
        return None
    finally:
        sock.close()


def summary(body, original=None):
    if body is None:
        return "no-reply"
    tag, mtype, _, detail = describe(body, False)
    if tag == "SKE1":
        return detail
    if mtype == MSG_PLAIN_ERROR:
        return detail
    line = "sealed type=%s(%s) len=%d" % (mtype, TYPE_NAMES.get(mtype, "?"), len(body))
    if original is not None:
        line += " same-as-original=%s" % ("yes" if body == original else "no")
    return line


def replay(proxy, seq, times, parallel):
    with proxy.lock:
        rec = proxy.records[seq - 1]
    if rec.direction != "req":
        raise ValueError("frame %d is not a request" % seq)
    results = [None] * times

    def one(i):
        answer = exchange_new_connection(proxy, rec.body)
        if answer is not None:
            r = proxy.record(0, "rep", struct.pack(">I", 0x80000000) + answer)
            r.fate = "answer to a replay of %d" % seq
        results[i] = summary(answer)

    if parallel:
        threads = [threading.Thread(target=one, args=(i,)) for i in range(times)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for i in range(times):
            one(i)
    return ["replay %d of %d (%s): %s" % (i + 1, seq, TYPE_NAMES.get(rec.type, rec.tag), r)
            for i, r in enumerate(results)]


def release(proxy, seq):
    with proxy.lock:
        chosen = [h for h in proxy.held if seq is None or h[1].seq == seq]
        proxy.held = [h for h in proxy.held if h not in chosen]
    lines = []
    for conn, rec in chosen:
        if conn.open:
            rec.fate += ", released on its connection"
            with proxy.lock:
                conn.pending[rec.header] = rec
            try:
                conn.to_server(rec.header + rec.body)
                lines.append("released %d on connection %d" % (rec.seq, conn.id))
                continue
            except OSError:
                pass
        rec.fate += ", released on a new connection"
        answer = exchange_new_connection(proxy, rec.body)
        if answer is not None:
            r = proxy.record(0, "rep", rec.header + answer)
            r.request, rec.reply = rec, r
            r.fate = "answer to released %d (no client waits for it)" % rec.seq
        lines.append("released %d on a new connection: %s" % (rec.seq, summary(answer)))
    return lines


# ------------------------------------------------------------------ control

def control(proxy, words):
    cmd, args = words[0], words[1:]
    p = proxy
    if cmd in ("drop-request", "drop-reply", "hold-request"):
        count = int(args[1]) if len(args) > 1 else 1
        return ["rule %d" % p.add_rule(cmd, parse_type(args[0]), count)]
    if cmd == "delay-reply":
        count = int(args[2]) if len(args) > 2 else 1
        return ["rule %d" % p.add_rule(cmd, parse_type(args[0]), count, ms=int(args[1]))]
    if cmd in ("hold-reply", "swap-reply"):
        return ["rule %d" % p.add_rule(cmd, parse_type(args[0]), 1)]
    if cmd == "inject":
        forged_frame(args[1])  # refuses an unknown kind now
        forward = len(args) > 2 and args[2] == "forward"
        return ["rule %d" % p.add_rule(cmd, parse_type(args[0]), 1, kind=args[1],
                                       forward=forward)]
    if cmd == "release":
        return release(p, int(args[0]) if args else None)
    if cmd == "held":
        with p.lock:
            return ["%d" % len(p.held)]
    if cmd == "forget":
        with p.lock:
            n, p.held = len(p.held), []
        return ["forgot %d" % n]
    if cmd == "rules":
        with p.lock:
            return ["rule %d %s type=%s fired=%d left=%d" %
                    (r.id, r.action, r.type, r.fired, r.left) for r in p.rules]
    if cmd == "fired":
        with p.lock:
            for r in p.rules:
                if r.id == int(args[0]):
                    return ["%d" % r.fired]
        raise ValueError("no rule " + args[0])
    if cmd == "clear":
        with p.lock:
            p.rules = [r for r in p.rules if r.left == 0]
            p.kept_reply = None
        return []
    if cmd == "list":
        want = parse_type(args[0]) if args else None
        with p.lock:
            return ["%d conn=%d %s %s type=%s(%s) key=%s len=%d %s %s" %
                    (r.seq, r.conn, r.direction, r.tag or "-", r.type,
                     TYPE_NAMES.get(r.type, "?"), r.key_id or "-", len(r.body), r.detail,
                     r.fate)
                    for r in p.records
                    if r.direction == "req" and (want is None or r.type == want)]
    if cmd == "last":
        want = parse_type(args[0])
        k = int(args[1]) if len(args) > 1 else 1
        with p.lock:
            found = [r.seq for r in p.records if r.direction == "req" and r.type == want]
        if len(found) < k:
            raise ValueError("fewer than %d requests of type %s recorded" % (k, args[0]))
        return ["%d" % found[-k]]
    if cmd == "reply-of":
        with p.lock:
            rec = p.records[int(args[0]) - 1]
            return [summary(rec.reply.body if rec.reply is not None else None)]
    if cmd == "replay":
        times = int(args[1]) if len(args) > 1 else 1
        parallel = len(args) > 2 and args[2] == "parallel"
        return replay(p, int(args[0]), times, parallel)
    if cmd == "grep":
        needle = bytes.fromhex(args[0])
        with p.lock:
            return ["%d" % sum(1 for r in p.records if needle in r.header + r.body)]
    if cmd == "dump":
        os.makedirs(args[0], exist_ok=True)
        with p.lock:
            for r in p.records:
                name = "%05d-%s-%s.bin" % (r.seq, r.direction, TYPE_NAMES.get(r.type, "x"))
                with open(os.path.join(args[0], name), "wb") as f:
                    f.write(r.body)
            return ["%d" % len(p.records)]
    raise ValueError("unknown command " + cmd)


def serve_control(proxy, path):
    if os.path.exists(path):
        os.unlink(path)
    ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ctl.bind(path)
    ctl.listen(4)

    def handle(c):
        with c:
            data = b""
            while not data.endswith(b"\n"):
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
            try:
                lines = control(proxy, data.decode().split())
                answer = "ok\n" + "".join(line + "\n" for line in lines)
            except Exception as e:  # an answer for the script, never a crash
                answer = "err %s: %s\n" % (type(e).__name__, e)
            c.sendall(answer.encode())

    while True:
        c, _ = ctl.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


def serve(server_port, port_file, control_path):
    proxy = Proxy(server_port)
    threading.Thread(target=serve_control, args=(proxy, control_path), daemon=True).start()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    for _ in range(1000):  # the control socket first, then the port
        if os.path.exists(control_path):
            break
        time.sleep(0.01)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % listener.getsockname()[1])
    os.rename(port_file + ".tmp", port_file)
    while True:
        client, _ = listener.accept()
        try:
            conn = Conn(proxy, client)
        except OSError:
            client.close()
            continue
        threading.Thread(target=conn.run, daemon=True).start()


def ctl(path, words):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(" ".join(words).encode() + b"\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    text = data.decode()
    status, _, rest = text.partition("\n")
    sys.stdout.write(rest)
    if status != "ok":
        sys.stderr.write("mitm_proxy: %s\n" % status)
        return 1
    return 0


def main(argv):
    if len(argv) >= 5 and argv[1] == "serve":
        serve(int(argv[2]), argv[3], argv[4])
        return 0
    if len(argv) >= 4 and argv[1] == "ctl":
        return ctl(argv[2], argv[3:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
