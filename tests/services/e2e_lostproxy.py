#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""e2e_lostproxy.py - a loopback proxy in front of splitkey-server that loses
replies: it forwards nng's SP-over-TCP frames both ways but drops the reply to
the first DROP approvals (device requests of message type SIGN_SUBMIT), after
the server has handled them.  For the lost-reply tests of splitkey-client.

    e2e_lostproxy.py SERVER_PORT DROP PORT_FILE

It listens on a free loopback port, writes the port to PORT_FILE, and serves
until killed."""
import socket
import struct
import sys
import threading

SIGN_SUBMIT = 11
server_port, drop, port_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
to_drop = set()  # SP request ids whose reply is lost


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def read_frame(sock):
    (length,) = struct.unpack(">Q", read_exact(sock, 8))
    return read_exact(sock, length)


def varint(data, i):
    value, shift = 0, 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def envelope_type(body):
    """Field 2 (type) of a protobuf Envelope, or None."""
    i = 0
    try:
        while i < len(body):
            key, i = varint(body, i)
            field, wire = key >> 3, key & 7
            if wire == 0:
                value, i = varint(body, i)
                if field == 2:
                    return value
            elif wire == 2:
                n, i = varint(body, i)
                i += n
            else:
                return None
    except IndexError:
        return None
    return None


def client_to_server(c, s):
    global drop
    try:
        while True:
            frame = read_frame(c)
            req_id, body = frame[:4], frame[4:]
            if body[:4] == b"SKD1" and envelope_type(body[4:]) == SIGN_SUBMIT:
                with lock:
                    if drop > 0:
                        drop -= 1
                        to_drop.add(req_id)
            s.sendall(struct.pack(">Q", len(frame)) + frame)
    except (EOFError, OSError):
        pass
    finally:
        for sock in (c, s):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def server_to_client(s, c):
    try:
        while True:
            frame = read_frame(s)
            with lock:
                lost = frame[:4] in to_drop
                to_drop.discard(frame[:4])
            if not lost:
                c.sendall(struct.pack(">Q", len(frame)) + frame)
    except (EOFError, OSError):
        pass


def serve(c):
    s = socket.create_connection(("127.0.0.1", server_port))
    s.sendall(read_exact(c, 8))  # SP handshakes, 8 bytes each way
    c.sendall(read_exact(s, 8))
    threading.Thread(target=server_to_client, args=(s, c), daemon=True).start()
    client_to_server(c, s)


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(16)
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % listener.getsockname()[1])
import os
os.rename(port_file + ".tmp", port_file)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
