#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Recompute splitkey two-party RSA test vectors with nothing but Python 3.

An implementation independent of splitkey (standard library only: hashlib and
Python's own big integers).  For every vector file given (or every *.json in
the directories given) it recomputes, from the values in the file:

  n1 = p1 * q1, d1 = e^-1 mod lambda1 = lcm(p1 - 1, q1 - 1),
  ds         = (d1 - dc) mod lambda1          (the split)
  digest     = HASH(message)
  salt       = first hLen bytes of the DRBG seeded with `seed`   (PSS only)
  em         = EMSA-PKCS1-v1_5 or EMSA-PSS encoding of digest (and salt)
  y          = em^dc mod n1                   (device)
  s1         = y * em^ds mod n1               (server, then s1^e = em mod n1)
  d2         = e^-1 mod lcm(p2 - 1, q2 - 1),  n2 = p2 * q2,  n = n1 * n2
  s2         = em^d2 mod n2
  signature  = s1 + n1 * ((s2 - s1) * n1^-1 mod n2),  and signature^e = em mod n

and compares each with the file.  It cannot regenerate the keys from their
seeds (that needs splitkey's prime search); `splitkey vectors --check` does.

Usage: recompute.py FILE_OR_DIR...     exit 0 when everything matches.
"""
import functools
import hashlib
import json
import math
import os
import struct
import sys

HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}

# DER DigestInfo prefixes, RFC 8017 section 9.2 note 1.
DIGESTINFO = {
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}


# ----------------------------------------------------------------- the DRBG

def _rotl(v, c):
    return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))


def _quarter(x, a, b, c, d):
    x[a] = (x[a] + x[b]) & 0xFFFFFFFF; x[d] = _rotl(x[d] ^ x[a], 16)
    x[c] = (x[c] + x[d]) & 0xFFFFFFFF; x[b] = _rotl(x[b] ^ x[c], 12)
    x[a] = (x[a] + x[b]) & 0xFFFFFFFF; x[d] = _rotl(x[d] ^ x[a], 8)
    x[c] = (x[c] + x[d]) & 0xFFFFFFFF; x[b] = _rotl(x[b] ^ x[c], 7)


def chacha20_block(key, counter, nonce):
    """The RFC 8439 section 2.3 block function."""
    state = list(struct.unpack("<4I", b"expand 32-byte k")) + list(struct.unpack("<8I", key))
    state += [counter] + list(struct.unpack("<3I", nonce))
    x = state[:]
    for _ in range(10):
        _quarter(x, 0, 4, 8, 12); _quarter(x, 1, 5, 9, 13)
        _quarter(x, 2, 6, 10, 14); _quarter(x, 3, 7, 11, 15)
        _quarter(x, 0, 5, 10, 15); _quarter(x, 1, 6, 11, 12)
        _quarter(x, 2, 7, 8, 13); _quarter(x, 3, 4, 9, 14)
    return struct.pack("<16I", *[(a + b) & 0xFFFFFFFF for a, b in zip(x, state)])


def drbg(seed, length):
    """The first `length` bytes of splitkey's test DRBG seeded with `seed`."""
    key = hashlib.sha256(b"splitkey drbg v1" + seed).digest()
    out = b""
    counter = 0
    while len(out) < length:
        out += chacha20_block(key, counter, bytes(12))
        counter += 1
    return out[:length]


# -------------------------------------------------------------- encodings

def emsa_pkcs1_v15(digest, hash_name, em_len):
    t = DIGESTINFO[hash_name] + digest
    return b"\x00\x01" + b"\xff" * (em_len - len(t) - 3) + b"\x00" + t


def mgf1(seed, length, hash_fn):
    out = b""
    counter = 0
    while len(out) < length:
        out += hash_fn(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:length]


def emsa_pss(digest, salt, hash_name, mod_bits):
    """RFC 8017 9.1.1 with emBits = modBits - 1; returned left-padded to the
    modulus byte length (the integer representative, as in the files)."""
    hash_fn = HASHES[hash_name]
    em_bits = mod_bits - 1
    em_len = (em_bits + 7) // 8
    h = hash_fn(b"\x00" * 8 + digest + salt).digest()
    db = b"\x00" * (em_len - len(salt) - len(h) - 2) + b"\x01" + salt
    masked = bytes(a ^ b for a, b in zip(db, mgf1(h, len(db), hash_fn)))
    top_mask = 0xFF >> (8 * em_len - em_bits)
    masked = bytes([masked[0] & top_mask]) + masked[1:]
    em = masked + h + b"\xbc"
    return em.rjust((mod_bits + 7) // 8, b"\x00")


# ------------------------------------------------------------------ checks

@functools.lru_cache(maxsize=None)
def probably_prime(n, rounds=32):
    """Miller-Rabin with the first `rounds` primes as bases (cached: the six
    vectors of a profile share their primes)."""
    bases = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
             73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131][:rounds]
    if n < 2:
        return False
    for b in bases:
        if n % b == 0:
            return n == b
    r, t = n - 1, 0
    while r % 2 == 0:
        r, t = r // 2, t + 1
    for a in bases:
        x = pow(a, r, n)
        if x in (1, n - 1):
            continue
        for _ in range(t - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def recompute(path):
    """Returns a list of (field, problem) for one vector file."""
    v = json.load(open(path))
    problems = []
    k = {"4K": 2048, "6K": 3072, "8K": 4096}[v["profile"]]
    if v["k"] != k:
        problems.append(("k", "does not match the profile"))
    b = {name: bytes.fromhex(v[name]) for name in (
        "seed_client", "seed_server", "seed", "e", "n1", "p1", "q1", "d1", "dc", "ds",
        "p2", "q2", "d2",
        "n2", "n", "message", "digest", "salt", "em", "y", "s1", "s2", "signature")}
    i = {name: int.from_bytes(val, "big") for name, val in b.items()}
    e, n1, dc, ds, p2, q2 = i["e"], i["n1"], i["dc"], i["ds"], i["p2"], i["q2"]

    def expect(field, value, why):
        width = len(b[field])
        got = value if isinstance(value, bytes) else value.to_bytes(width, "big")
        if got != b[field]:
            problems.append((field, why))

    hash_name, scheme = v["hash"], v["scheme"]
    h_len = HASHES[hash_name]().digest_size
    expect("digest", HASHES[hash_name](b["message"]).digest(), "is not HASH(message)")
    expect("salt", drbg(b["seed"], h_len) if scheme == "pss" else b"",
           "is not the first hLen bytes of DRBG(seed)")
    if scheme == "pss":
        em = emsa_pss(b["digest"], b["salt"], hash_name, 2 * k)
    else:
        em = emsa_pkcs1_v15(b["digest"], hash_name, 2 * k // 8)
    expect("em", em, "is not the encoding of digest (and salt)")
    m = int.from_bytes(em, "big")

    p1, q1 = i["p1"], i["q1"]
    expect("n1", p1 * q1, "is not p1 * q1")
    lambda1 = math.lcm(p1 - 1, q1 - 1)
    d1 = pow(e, -1, lambda1)
    expect("d1", d1, "is not e^-1 mod lcm(p1 - 1, q1 - 1)")
    expect("ds", (d1 - dc) % lambda1, "is not (d1 - dc) mod lcm(p1 - 1, q1 - 1)")
    for name in ("p1", "q1", "p2", "q2"):
        if not probably_prime(i[name]):
            problems.append((name, "is not prime"))
    if p1 >= q1:
        problems.append(("p1", "is not below q1 (the vectors list p1 < q1)"))
    for name, (p, q) in (("q1", (p1, q1)), ("q2", (p2, q2))):
        if p.bit_length() != k // 2 or q.bit_length() != k // 2:
            problems.append((name, "a prime of the pair does not have k/2 bits"))
        if abs(p - q) <= 1 << (k // 2 - 100):
            problems.append((name, "|p - q| <= 2^(k/2 - 100)"))
        if (p * q) ** 2 < 1 << (2 * k - 1):
            problems.append((name, "p * q < sqrt(2) * 2^(k-1)"))
    if dc >= 1 << (k + 128):
        problems.append(("dc", "is not below 2^(k+128)"))

    n2 = p2 * q2
    n = n1 * n2
    d2 = pow(e, -1, math.lcm(p2 - 1, q2 - 1))
    expect("n2", n2, "is not p2 * q2")
    expect("n", n, "is not n1 * n2")
    expect("d2", d2, "is not e^-1 mod lcm(p2 - 1, q2 - 1)")
    if n.bit_length() != 2 * k or n1.bit_length() != k or n2.bit_length() != k:
        problems.append(("n", "n1, n2 or n has the wrong number of bits"))

    y = pow(m, dc, n1)
    expect("y", y, "is not em^dc mod n1")
    s1 = y * pow(m, ds, n1) % n1
    expect("s1", s1, "is not y * em^ds mod n1")
    if pow(s1, e, n1) != m % n1:
        problems.append(("ds", "s1^e != em (mod n1): dc + ds is not a private exponent"))
    s2 = pow(m, d2, n2)
    expect("s2", s2, "is not em^d2 mod n2")
    s = s1 + n1 * ((s2 - s1) * pow(n1, -1, n2) % n2)
    expect("signature", s, "is not the CRT combination of s1 and s2")
    if pow(i["signature"], e, i["n"]) != m:
        problems.append(("signature", "signature^e mod n is not em"))
    return problems


def main(args):
    if not args:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    files = []
    for a in args:
        if os.path.isdir(a):
            files += sorted(os.path.join(a, f) for f in os.listdir(a) if f.endswith(".json"))
        else:
            files.append(a)
    if not files:
        print("no vector files", file=sys.stderr)
        return 1
    bad = 0
    for f in files:
        try:
            problems = recompute(f)
        except (ValueError, KeyError, TypeError) as exc:
            problems = [("(file)", "cannot be read: %r" % exc)]
        for field, why in problems:
            print("%s: field %s: %s" % (f, field, why))
        print("%s: %s" % (f, "ok" if not problems else "FAILED"))
        bad += bool(problems)
    print("recomputed %d vectors: %s" % (len(files), "all match" if not bad else "%d do not match" % bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
