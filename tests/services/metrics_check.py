#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""metrics_check.py - parses a Prometheus text exposition (format 0.0.4) as
served by GET /metrics and checks it against what a test sent.

    metrics_check.py METRICS_FILE LOG_FILE [NAME=VALUE ...]

Checks the format itself (every sample belongs to a family announced by
# HELP and # TYPE; histogram buckets are cumulative, end in le="+Inf", and
_count equals the +Inf bucket), that every request line of the server's log
(text format; "-" for none) is counted in splitkey_requests_total under its
kind and outcome, and that every histogram's _count equals the sum of its
kind's splitkey_requests_total.  Each NAME=VALUE argument is a sample (written as
in the exposition, labels in any order) that must have exactly that value;
NAME~ asks only that the sample exists.  Prints what it checked; exit 1 on
any failure.
"""
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')

failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg)


def ok(msg):
    print("ok: " + msg)


def parse_labels(text):
    labels = {}
    pos = 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        if m is None:
            raise ValueError("bad labels: " + text)
        value = m.group(2).replace('\\n', '\n').replace('\\"', '"').replace('\\\\', '\\')
        labels[m.group(1)] = value
        pos = m.end()
    return labels


def key(name, labels):
    return (name, tuple(sorted(labels.items())))


def parse(text):
    families = {}  # name -> type
    helps = set()
    samples = {}
    for line in text.splitlines():
        if line.startswith('# HELP '):
            helps.add(line.split(' ', 3)[2])
            continue
        if line.startswith('# TYPE '):
            _, _, name, typ = line.split(' ', 3)
            families[name] = typ
            continue
        if line.startswith('#') or not line:
            continue
        m = SAMPLE.match(line)
        if m is None:
            fail("not a sample line: " + line)
            continue
        name, labels, value = m.group(1), parse_labels(m.group(3) or ''), m.group(4)
        k = key(name, labels)
        if k in samples:
            fail("sample twice: " + line)
        samples[k] = float(value)
    return families, helps, samples


def family_of(name, families):
    if name in families:
        return name
    for suffix in ('_bucket', '_sum', '_count'):
        if name.endswith(suffix) and families.get(name[:-len(suffix)]) == 'histogram':
            return name[:-len(suffix)]
    return None


# the outcome label of a log line's outcome code (the table in metrics.c)
OUTCOMES = {0: 'ok', -1: 'internal', -2: 'nomem', -3: 'arg', -4: 'not_initialised',
            -5: 'buffer_too_small', -6: 'rng', -7: 'unsupported', -8: 'used',
            -20: 'key_format', -21: 'key_size', -22: 'key_weak', -23: 'key_mismatch',
            -24: 'bad_value', -25: 'partial_invalid', -26: 'fault', -27: 'keygen',
            -40: 'hash', -41: 'encoding', -42: 'verify', -43: 'pem', -44: 'der',
            -60: 'proto_decode', -61: 'proto_auth', -62: 'proto_replay', -63: 'proto_state',
            -64: 'proto_server_sig', -65: 'wrong_pin', -66: 'locked', -67: 'destroyed',
            -68: 'clone_detected', -69: 'session_expired', -70: 'session_refused',
            -71: 'session_unknown', -72: 'not_active', -73: 'token', -74: 'bad_signature',
            -75: 'limit', -76: 'pending', -77: 'ca_unavailable', -78: 'ca_refused',
            -79: 'proto_version', -80: 'proto_challenge', -81: 'lease',
            -82: 'session_cancelled', -83: 'level', -84: 'wrong_vc', -100: 'pki',
            -101: 'csr', -102: 'cert', -103: 'ocsp', -104: 'audit', -120: 'store',
            -121: 'store_busy', -122: 'store_conflict', -123: 'not_found', -200: 'config',
            -201: 'timeout', -202: 'transport', -203: 'io', -204: 'perm', -205: 'exists',
            -206: 'stale', -207: 'connect', -208: 'rp_refused'}


def main():
    metrics_file, log_file = sys.argv[1], sys.argv[2]
    with open(metrics_file) as f:
        families, helps, samples = parse(f.read())

    for (name, _), _ in samples.items():
        fam = family_of(name, families)
        if fam is None:
            fail("sample %s has no # TYPE" % name)
        elif fam not in helps:
            fail("family %s has no # HELP" % fam)

    # histograms: cumulative buckets ending in +Inf, _count = +Inf bucket
    hists = [n for n, t in families.items() if t == 'histogram']
    for h in hists:
        series = {}
        for (name, labels), v in samples.items():
            if name == h + '_bucket':
                rest = tuple(p for p in labels if p[0] != 'le')
                le = dict(labels)['le']
                series.setdefault(rest, []).append((float('inf') if le == '+Inf' else float(le), v))
        for rest, buckets in series.items():
            buckets.sort()
            counts = [v for _, v in buckets]
            if counts != sorted(counts):
                fail("%s%s: buckets not cumulative" % (h, rest))
            if buckets[-1][0] != float('inf'):
                fail("%s%s: no +Inf bucket" % (h, rest))
            count = samples.get((h + '_count', rest))
            if count != buckets[-1][1]:
                fail("%s%s: _count %s != +Inf bucket %s" % (h, rest, count, buckets[-1][1]))
            if (h + '_sum', rest) not in samples:
                fail("%s%s: no _sum" % (h, rest))
    ok("format: %d families, %d samples, %d histograms" % (len(families), len(samples), len(hists)))

    # requests_total against the log, and against the duration histograms
    req = {}
    for (name, labels), v in samples.items():
        if name == 'splitkey_requests_total':
            d = dict(labels)
            req[(d['kind'], d['outcome'])] = v
    logged = {}
    if log_file != '-':
        with open(log_file, errors='replace') as f:
            for line in f:
                m = re.search(r' req kind=(\S+) key=\S+ outcome=(-?\d+)', line)
                if m:
                    k = (m.group(1), OUTCOMES.get(int(m.group(2)), 'other'))
                    logged[k] = logged.get(k, 0) + 1
    if log_file != '-' and logged != req:
        fail("requests_total %s != the request log lines %s" % (sorted(req.items()),
                                                                sorted(logged.items())))
    elif log_file != '-':
        ok("requests_total equals the request log line by line (%d lines)" % sum(logged.values()))
    kinds = {k for k, _ in req}
    for kind in kinds:
        total = sum(v for (k, _), v in req.items() if k == kind)
        count = samples.get(('splitkey_request_duration_seconds_count', (('kind', kind),)))
        if count != total:
            fail("duration _count{kind=%s} %s != requests_total %s" % (kind, count, total))
        else:
            ok("duration _count{kind=%s} = requests_total = %d" % (kind, total))

    for arg in sys.argv[3:]:
        exists_only = arg.endswith('~')
        spec, _, want = (arg[:-1], '', '') if exists_only else arg.rpartition('=')
        m = SAMPLE.match(spec + ' 0')
        k = key(m.group(1), parse_labels(m.group(3) or ''))
        if k not in samples:
            fail("no sample " + spec)
        elif exists_only:
            ok("%s present (%g)" % (spec, samples[k]))
        elif samples[k] != float(want):
            fail("%s = %g, expected %s" % (spec, samples[k], want))
        else:
            ok("%s = %s" % (spec, want))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
