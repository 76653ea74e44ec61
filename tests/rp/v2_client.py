#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""v2_client.py - a relying party's client of an RP API in the shape of the
public Smart-ID RP API v2, written from that public description alone (no
code of the server): session creation for authentication, signing and
certificate choice, the session status long poll, and the verification code
the relying party shows.

Transport: HTTPS with the server's certificate pinned (the SHA-256 of its DER
form, compared after the handshake; no CA is trusted), and a TLS client
certificate presented as the relying party's credential.  Standard library
only (http.client under urllib, ssl, json).

As a program (used by the tests):
  v2_client.py --base URL --pin HEX [--cert FILE --key FILE] \\
      --uuid UUID --name NAME [--source ADDR] COMMAND ...
  COMMAND:
    create KIND SCHEME ID [--hash-file F | --hash-b64 B] [--hash-type T]
           [--level L] [--text T] [--interactions JSON] [--nonce N]
           [--props JSON] [--extra JSON]
                  KIND authentication|signature|certificatechoice,
                  SCHEME etsi|document|private
    status SESSION_ID [--timeout-ms N]
    raw METHOD PATH [BODY]
    vc --hash-file F        the verification code of a hash
  Prints the HTTP status on the first line and the JSON body on the second.
"""
import argparse
import base64
import hashlib
import http.client
import json
import ssl
import sys
import urllib.parse


class PinError(Exception):
    """The server's certificate is not the pinned one."""


def verification_code(digest):
    """The 4-digit code: the last two bytes of SHA-256(digest), big-endian,
    modulo 10000, zero-padded."""
    h = hashlib.sha256(digest).digest()
    return "%04d" % (int.from_bytes(h[-2:], "big") % 10000)


class V2Client:
    def __init__(self, base, pin_sha256_hex, rp_uuid, rp_name, cert=None, key=None,
                 timeout=150, source=None):
        u = urllib.parse.urlsplit(base)
        if u.scheme != "https":
            raise ValueError("the base URL must be https://")
        self.host = u.hostname
        self.port = u.port or 443
        self.prefix = u.path.rstrip("/")
        self.pin = bytes.fromhex(pin_sha256_hex)
        self.rp_uuid = rp_uuid
        self.rp_name = rp_name
        self.timeout = timeout
        self.source = (source, 0) if source else None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        # pinning replaces CA validation: the certificate is checked below
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if cert:
            ctx.load_cert_chain(cert, key)
        self.ctx = ctx

    def request(self, method, path, body=None):
        """Returns (HTTP status, decoded JSON or None, headers)."""
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                           timeout=self.timeout,
                                           source_address=self.source)
        try:
            conn.connect()
            der = conn.sock.getpeercert(binary_form=True)
            if hashlib.sha256(der).digest() != self.pin:
                raise PinError("the server certificate does not match the pin")
            data = None
            headers = {"Accept": "application/json"}
            if body is not None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, self.prefix + path, body=data, headers=headers)
            r = conn.getresponse()
            raw = r.read()
            try:
                doc = json.loads(raw) if raw else None
            except ValueError:
                doc = None
            return r.status, doc, dict(r.getheaders())
        finally:
            conn.close()

    def _base(self, level, nonce, extra):
        b = {"relyingPartyUUID": self.rp_uuid, "relyingPartyName": self.rp_name}
        if level is not None:
            b["certificateLevel"] = level
        if nonce is not None:
            b["nonce"] = nonce
        if extra:
            b.update(extra)
        return b

    def create(self, kind, scheme, ident, digest=None, hash_type="SHA256", level=None,
               interactions=None, nonce=None, props=None, extra=None):
        body = self._base(level, nonce, extra)
        if kind != "certificatechoice":
            body["hash"] = base64.b64encode(digest).decode()
            body["hashType"] = hash_type
            body["allowedInteractionsOrder"] = interactions or [
                {"type": "displayTextAndPIN", "displayText60": "Log in"}]
            if props is not None:
                body["requestProperties"] = props
        path = "/v2/%s/%s/%s" % (kind, scheme, urllib.parse.quote(ident, safe="/"))
        return self.request("POST", path, body)

    def status(self, session_id, timeout_ms=None):
        q = "" if timeout_ms is None else "?timeoutMs=%d" % timeout_ms
        return self.request("GET", "/v2/session/%s%s" % (session_id, q))

    def wait_complete(self, session_id, timeout_ms=10000, rounds=30):
        for _ in range(rounds):
            st, doc, _ = self.status(session_id, timeout_ms)
            if st != 200 or doc.get("state") == "COMPLETE":
                return st, doc
        return st, doc


def main(argv):
    ap = argparse.ArgumentParser(description="RP API v2 client")
    ap.add_argument("--base", required=True)
    ap.add_argument("--pin", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--uuid", default="00000000-0000-4000-8000-000000000000")
    ap.add_argument("--name", default="")
    ap.add_argument("--source", help="the local address to connect from")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("create")
    c.add_argument("kind")
    c.add_argument("scheme")
    c.add_argument("ident")
    c.add_argument("--hash-file")
    c.add_argument("--hash-b64")
    c.add_argument("--hash-type", default="SHA256")
    c.add_argument("--level")
    c.add_argument("--text", default="Log in to the bank")
    c.add_argument("--interactions")
    c.add_argument("--nonce")
    c.add_argument("--props")
    c.add_argument("--extra")
    s = sub.add_parser("status")
    s.add_argument("session")
    s.add_argument("--timeout-ms", type=int)
    s.add_argument("--until-complete", action="store_true")
    r = sub.add_parser("raw")
    r.add_argument("method")
    r.add_argument("path")
    r.add_argument("body", nargs="?")
    v = sub.add_parser("vc")
    v.add_argument("--hash-file", required=True)
    a = ap.parse_args(argv)
    if a.cmd == "vc":
        print(verification_code(open(a.hash_file, "rb").read()))
        return 0
    cl = V2Client(a.base, a.pin, a.uuid, a.name, a.cert, a.key, source=a.source)
    if a.cmd == "create":
        digest = None
        if a.hash_file:
            digest = open(a.hash_file, "rb").read()
        elif a.hash_b64:
            digest = base64.b64decode(a.hash_b64)
        inter = json.loads(a.interactions) if a.interactions else [
            {"type": "displayTextAndPIN", "displayText60": a.text}]
        st, doc, _ = cl.create(a.kind, a.scheme, a.ident, digest, a.hash_type, a.level, inter,
                               a.nonce, json.loads(a.props) if a.props else None,
                               json.loads(a.extra) if a.extra else None)
    elif a.cmd == "status":
        if a.until_complete:
            st, doc = cl.wait_complete(a.session, a.timeout_ms or 10000)
        else:
            st, doc, _ = cl.status(a.session, a.timeout_ms)
    else:
        body = a.body.encode() if a.body is not None else None
        st, doc, hdr = cl.request(a.method, a.path, body)
        if "Allow" in hdr:
            print("allow", hdr["Allow"], file=sys.stderr)
    print(st)
    print(json.dumps(doc, sort_keys=True))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except PinError as e:
        print("pin: %s" % e, file=sys.stderr)
        sys.exit(3)
