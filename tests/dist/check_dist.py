#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check_dist.py - the systemd units and sample configuration files of
dist/ against the built programs.

  check_dist.py units  --bindir B --dist D --analyze PATH --sysusers PATH --src S
  check_dist.py config --bindir B --dist D

units: every unit passes "systemd-analyze verify" (on a copy whose ExecStart
names the built program) without a single warning and "systemd-analyze
security --offline" within the exposure bound; it runs as the user the
sysusers.d entry creates, with the hardening below; its ExecStart uses only
options of "PROG run --help" (or of the command UNIT_COMMANDS names) and
paths inside its StateDirectory= and
ConfigurationDirectory=; it stops with a signal the programs handle
(services/common/signals.c); LimitNOFILE= leaves room for the default
connection cap (services/common/connguard.h).

config: for every configuration file a program reads (asked of the program:
doc/man/skhelp.py), dist/config/NAME has exactly one "key = value" or
"#key = value" line per key, and no other; a commented default agrees with
the default --help states; the program runs with the sample (and with its
numeric defaults made active) and stops cleanly on SIGTERM; a misspelled key
is refused with exit status 2 naming FILE:LINE.
"""

import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', '..', 'doc', 'man'))
import skhelp  # noqa: E402

UNITS = ['splitkey-server', 'splitkey-ca', 'splitkey-ocsp', 'splitkey-tsa']
# Units that run another command than "PROG run": unit -> (program, command).
UNIT_COMMANDS = {'splitkey-ca-serve': ('splitkey-ca', 'serve')}
USER = 'splitkey'
EXPOSURE_MAX = 20  # "systemd-analyze security" exposure times 10: at most 2.0

failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL: ' + msg)


def ok(msg):
    print('ok: ' + msg)


# ------------------------------------------------------------------- units

def parse_unit(path):
    """{section: [(key, value)]}, keys in order, repeated keys kept."""
    unit = {}
    section = None
    with open(path, encoding='utf-8') as f:
        for raw in f:
            ln = raw.strip()
            if not ln or ln[0] in '#;':
                continue
            m = re.match(r'^\[(.+)\]$', ln)
            if m:
                section = m.group(1)
                unit.setdefault(section, [])
                continue
            k, _, v = ln.partition('=')
            unit.setdefault(section, []).append((k.strip(), v.strip()))
    return unit


def values(unit, section, key):
    return [v for k, v in unit.get(section, []) if k == key]


def value(unit, section, key):
    v = values(unit, section, key)
    return v[-1] if v else None


REQUIRED = {
    'Type': 'simple',  # the programs do not call sd_notify
    'User': USER,
    'Group': USER,
    'Restart': 'on-failure',
    'NoNewPrivileges': 'yes',
    'ProtectSystem': 'strict',
    'ProtectHome': 'yes',
    'PrivateTmp': 'yes',
    'PrivateDevices': 'yes',
    'MemoryDenyWriteExecute': 'yes',
    'LockPersonality': 'yes',
    'CapabilityBoundingSet': '',
    'UMask': '0077',
}


def header_define(path, name):
    with open(path, encoding='utf-8') as f:
        m = re.search(r'#define\s+%s\s+(\d+)u?' % name, f.read())
    if not m:
        raise SystemExit('%s: no #define %s' % (path, name))
    return int(m.group(1))


def handled_signals(path):
    """The signals signals.c installs its handler for (before it turns to
    the signals it ignores)."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    handled = text.split('SIG_IGN')[0]
    return set(re.findall(r'sigaction\((SIG[A-Z]+)\s*,', handled))


def check_units(args):
    if not args.analyze or not os.path.isfile(args.analyze):
        fail('systemd-analyze not found: install the Debian package systemd')
        return
    sysdir = os.path.join(args.dist, 'systemd')
    signals = handled_signals(os.path.join(args.src, 'services', 'common', 'signals.c'))
    conn_min = (header_define(os.path.join(args.src, 'services', 'common', 'connguard.h'),
                              'SK_CONNGUARD_DEFAULT_MAX') +
                header_define(os.path.join(args.src, 'services', 'common', 'connguard.h'),
                              'SK_CONNGUARD_FD_RESERVE'))
    if not {'SIGTERM'} <= signals:
        fail('signals.c handles %s, not SIGTERM' % sorted(signals))

    # the user: the sysusers.d entry creates it, and no other
    sysusers = os.path.join(sysdir, 'splitkey.sysusers')
    with open(sysusers, encoding='utf-8') as f:
        users = [ln.split()[1] for ln in f if ln.split()[:1] == ['u']]
    if users != [USER]:
        fail('%s creates %s, not the user %s' % (sysusers, users, USER))
    if not args.sysusers or not os.path.isfile(args.sysusers):
        fail('systemd-sysusers not found: install the Debian package systemd')
    else:
        with tempfile.TemporaryDirectory(prefix='sk-sysusers-') as root:
            os.makedirs(os.path.join(root, 'etc'))
            rc, out, err = skhelp.run([args.sysusers, '--root=' + root, '--dry-run', sysusers])
            if rc != 0 or 'Unknown' in err or "user '%s'" % USER not in out + err:
                fail('systemd-sysusers --dry-run %s: exit status %d: %s' %
                     (sysusers, rc, (out + err).strip()))
            else:
                ok('%s creates the user %s' % (os.path.basename(sysusers), USER))

    with tempfile.TemporaryDirectory(prefix='sk-units-') as tmp:
        for name in UNITS + sorted(UNIT_COMMANDS):
            pname, command = UNIT_COMMANDS.get(name, (name, 'run'))
            src = os.path.join(sysdir, name + '.service')
            prog = os.path.join(args.bindir, pname)
            if not os.path.isfile(src):
                fail('%s: missing' % src)
                continue
            unit = parse_unit(src)
            svc = 'Service'

            # systemd's own checks, on a copy that names the built program
            with open(src, encoding='utf-8') as f:
                text = f.read()
            copy = os.path.join(tmp, name + '.service')
            with open(copy, 'w', encoding='utf-8') as f:
                f.write(re.sub(r'^ExecStart=/usr/bin/', 'ExecStart=%s/' % args.bindir, text,
                               flags=re.M))
            rc, out, err = skhelp.run([args.analyze, 'verify', '--man=no', copy])
            if rc != 0 or out.strip() or err.strip():
                fail('systemd-analyze verify %s: exit status %d: %s' %
                     (name, rc, (out + err).strip()))
            else:
                ok('systemd-analyze verify %s.service: no warnings' % name)
            rc, out, err = skhelp.run([args.analyze, 'security', '--offline=yes',
                                       '--threshold=%d' % EXPOSURE_MAX, copy])
            level = re.search(r'Overall exposure level for \S+: (\S+)', out)
            if rc != 0:
                fail('systemd-analyze security %s: exposure %s, above %.1f' %
                     (name, level.group(1) if level else '?', EXPOSURE_MAX / 10))
            else:
                ok('systemd-analyze security %s.service: exposure %s' %
                   (name, level.group(1) if level else '?'))

            for k, want in REQUIRED.items():
                got = value(unit, svc, k)
                if got != want:
                    fail('%s: %s=%s, expected %s=%s' % (name, k, got, k, want))
            fam = set((value(unit, svc, 'RestrictAddressFamilies') or '').split())
            if fam != {'AF_INET', 'AF_INET6', 'AF_UNIX'}:
                fail('%s: RestrictAddressFamilies=%s' % (name, ' '.join(sorted(fam))))
            if '@system-service' not in ' '.join(values(unit, svc, 'SystemCallFilter')).split():
                fail('%s: no SystemCallFilter=@system-service' % name)
            sig = value(unit, svc, 'KillSignal') or 'SIGTERM'
            if sig not in signals:
                fail('%s: KillSignal=%s, but the programs handle %s' %
                     (name, sig, ', '.join(sorted(signals))))
            nofile = value(unit, svc, 'LimitNOFILE')
            if nofile is None or not nofile.isdigit() or int(nofile) < conn_min:
                fail('%s: LimitNOFILE=%s: the default connection cap needs %d' %
                     (name, nofile, conn_min))
            if value(unit, 'Install', 'WantedBy') is None:
                fail('%s: no WantedBy= in [Install]' % name)

            # ExecStart: the program's own options, paths the unit provides
            argv = shlex.split(value(unit, svc, 'ExecStart') or '')
            if argv[:2] != ['/usr/bin/' + pname, command]:
                fail('%s: ExecStart=%s: expected /usr/bin/%s %s ...' %
                     (name, argv, pname, command))
                continue
            run_opts = {o.name: o for o in skhelp.options(skhelp.help_text(prog, command))}
            state = ['/var/lib/' + d for d in ' '.join(values(unit, svc, 'StateDirectory')).split()]
            conf = ['/etc/' + d for d in
                    ' '.join(values(unit, svc, 'ConfigurationDirectory')).split()]
            if not state or any(not d.startswith('/var/lib/splitkey/') for d in state):
                fail('%s: StateDirectory= %s, expected splitkey/...' % (name, state))
            i = 2
            while i < len(argv):
                a = argv[i]
                if not a.startswith('--') or a[2:].split('=')[0] not in run_opts:
                    fail('%s: ExecStart: %s is not an option of %s %s' %
                         (name, a, pname, command))
                    i += 1
                    continue
                o = run_opts[a[2:].split('=')[0]]
                val = a.split('=', 1)[1] if '=' in a else (argv[i + 1] if o.arg else None)
                i += 1 if '=' in a or not o.arg else 2
                if val is None or not val.startswith('/'):
                    continue
                if val.startswith('/var/') and not any(
                        val == d or val.startswith(d + '/') for d in state):
                    fail('%s: ExecStart: %s %s is outside StateDirectory= %s' %
                         (name, a, val, state))
                if val.startswith('/etc/') and not any(
                        os.path.dirname(val) == d for d in conf):
                    fail('%s: ExecStart: %s %s is outside ConfigurationDirectory= %s' %
                         (name, a, val, conf))
            ok('%s.service: ExecStart %s' % (name, ' '.join(argv[1:])))


# ------------------------------------------------------------------ config

SETTING = re.compile(r'^(#?)([a-z][a-z0-9-]*)\s*=\s*(.*?)\s*$')


def settings(path):
    """[(line number, commented, key, value)] of a sample: a setting is
    "key = value" or "#key = value"; prose comments start with "# "."""
    out = []
    with open(path, encoding='utf-8') as f:
        for n, raw in enumerate(f, 1):
            ln = raw.rstrip('\n')
            m = SETTING.match(ln)
            if m:
                out.append((n, m.group(1) == '#', m.group(2), m.group(3)))
            elif ln.startswith('#') and not (ln == '#' or ln.startswith('# ')):
                out.append((n, True, None, ln))
    return out


class Service:
    """A program started in the background until it writes its ready file
    or exits."""

    def __init__(self, cmd, ready):
        self.ready = ready
        self.err = tempfile.TemporaryFile()
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=self.err)

    def wait_ready(self):
        while True:
            if os.path.exists(self.ready) and os.path.getsize(self.ready) > 0:
                return True
            if self.p.poll() is not None:
                return False
            time.sleep(0.02)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        return self.p.wait()

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode('utf-8', 'replace').strip()


def start(prog, kind, sub, sample, work, setup):
    """Runs "PROG SUB" on the configuration file at sample, with command-line
    values for what depends on this machine (the address, the directories);
    returns (ready, exit status, stderr)."""
    ready = os.path.join(work, 'ready')
    if os.path.exists(ready):
        os.unlink(ready)
    opts = {o.name for o in skhelp.options(skhelp.help_text(prog, sub))}
    cmd = [prog, sub]
    if kind == 'dir':
        shutil.copyfile(sample, os.path.join(setup['dir'], 'ca.conf'))
        cmd += ['--dir', setup['dir']]
    else:
        cmd += ['--config', sample]
        if 'dir' in opts:
            cmd += ['--dir', setup['dir']]
    overrides = {'listen': 'tcp://127.0.0.1:0', 'http': '127.0.0.1:0', 'pool-size': '0',
                 'ca-dir': setup.get('ca_dir'), 'ready-file': ready}
    for k, v in overrides.items():
        if k in opts and v is not None:
            cmd += ['--' + k, v]
    s = Service(cmd, ready)
    up = s.wait_ready()
    rc = s.stop()
    return up, rc, s.stderr()


def setup_for(name, bindir, work):
    """Makes what a program's run needs besides its configuration: the
    server's identity, a CA directory, a TSA directory with its
    certificate."""
    setup = {}
    if name == 'splitkey-server':
        d = os.path.join(work, 'srv')
        rc, out, err = skhelp.run([os.path.join(bindir, name), 'init', '--dir', d])
        if rc != 0:
            raise SystemExit('splitkey-server init: %s' % err.strip())
        setup['dir'] = d
    if name in ('splitkey-ca', 'splitkey-ocsp', 'splitkey-tsa'):
        d = os.path.join(work, 'ca')
        rc, out, err = skhelp.run([os.path.join(bindir, 'splitkey-ca'), 'init', '--dir', d,
                                   '--subject', 'CN=Sample CA,O=Example,C=LV',
                                   '--key', 'ec-p384',
                                   '--ocsp-url', 'http://ocsp.example.org/',
                                   '--ca-url', 'http://pki.example.org/ca.crt',
                                   '--pds-url', 'https://pki.example.org/pds_en.pdf'])
        if rc != 0:
            raise SystemExit('splitkey-ca init: %s' % err.strip())
        setup['dir'] = setup['ca_dir'] = d
    if name == 'splitkey-tsa':
        # the TSA key and the certificate the CA issues for it
        t = os.path.join(work, 'tsa')
        subject = 'C=LV,O=Example,CN=Sample TSA'
        for cmd in ([os.path.join(bindir, 'splitkey-tsa'), 'init', '--dir', t,
                     '--subject', subject, '--key', 'ec-p384'],
                    [os.path.join(bindir, 'splitkey-ca'), 'issue-tsa', '--dir', setup['ca_dir'],
                     '--subject', subject, '--csr', os.path.join(t, 'tsa.csr'),
                     '--out', os.path.join(t, 'tsa.pem')]):
            rc, out, err = skhelp.run(cmd)
            if rc != 0:
                raise SystemExit('%s %s: %s' % (os.path.basename(cmd[0]), cmd[1], err.strip()))
        setup['dir'] = t
        del setup['ca_dir']
    return setup


def misspell(key, keys):
    for cand in (key[:-1], key + 's', key.replace('-', '_')):
        if cand != key and cand not in keys:
            return cand
    return key + 'x'


def check_config(args):
    cdir = os.path.join(args.dist, 'config')
    expected = set()
    for name in UNITS:
        prog = os.path.join(args.bindir, name)
        files = skhelp.config_files(prog)
        if not files:
            ok('%s reads no configuration file' % name)
        for cf in files:
            expected.add(cf.name)
            sample = os.path.join(cdir, cf.name)
            if not os.path.isfile(sample):
                fail('%s reads %s, but there is no sample %s' % (name, cf.name, sample))
                continue
            keys = {k.name: k for k in cf.keys}
            lines = settings(sample)
            seen = {}
            for n, commented, key, val in lines:
                where = '%s:%d' % (sample, n)
                if key is None:
                    fail('%s: "%s" is neither a setting "#key = value" nor a comment "# ..."'
                         % (where, val))
                elif key not in keys:
                    fail('%s: "%s" is not a key of %s (%s accepts: %s)' %
                         (where, key, cf.name, name, ', '.join(keys)))
                elif key in seen:
                    fail('%s: "%s" again (line %d)' % (where, key, seen[key]))
                else:
                    seen[key] = n
                    d = keys[key].default()
                    if commented and d is not None and val != d:
                        fail('%s: #%s = %s, but the default is %s (%s --help)' %
                             (where, key, val, d, name))
            missing = [k for k in keys if k not in seen]
            if missing:
                fail('%s: no line for %s (keys of %s in %s)' %
                     (sample, ', '.join(missing), cf.name, name))
            else:
                ok('%s: a line for each of the %d keys of %s' % (sample, len(keys), name))

            kind, sub = [(e[1], e[2]) for e in skhelp.CONF_FILES[name] if e[0] == cf.name][0]
            with tempfile.TemporaryDirectory(prefix='sk-dist-') as work:
                setup = setup_for(name, args.bindir, work)
                with open(sample, encoding='utf-8') as f:
                    text = f.read()
                variants = [('the sample', text)]
                active = []
                for n, commented, key, val in lines:
                    if commented and key in keys and keys[key].default() is not None:
                        active.append(key)
                        text_lines = text.split('\n')
                        text_lines[n - 1] = text_lines[n - 1][1:]
                        text = '\n'.join(text_lines)
                variants.append(('the sample with its numeric defaults active (%s)' %
                                 ', '.join(active), text))
                for what, body in variants:
                    path = os.path.join(work, cf.name)
                    with open(path, 'w', encoding='utf-8') as f:
                        f.write(body)
                    up, rc, err = start(prog, kind, sub, path, work, setup)
                    if not up or rc != 0:
                        fail('%s %s with %s: %s, exit status %d: %s' %
                             (name, sub, what, 'ran' if up else 'did not start', rc, err))
                    else:
                        ok('%s %s runs with %s and stops on SIGTERM' % (name, sub, what))

                # a misspelled key: refused, with the file and the line
                first = [k for _, c, k, _ in lines if k in keys and not c]
                key = first[0] if first else list(keys)[0]
                bad = misspell(key, keys)
                body = variants[0][1].rstrip('\n') + '\n%s = %s\n' % (
                    bad, [v for _, _, k, v in lines if k == key][0])
                badline = body.count('\n')
                path = os.path.join(work, cf.name)
                with open(path, 'w', encoding='utf-8') as f:
                    f.write(body)
                up, rc, err = start(prog, kind, sub, path, work, setup)
                where = ':%d:' % badline
                if up or rc != 2 or ('unknown key "%s"' % bad) not in err or where not in err:
                    fail('%s %s with "%s" (misspelled) in %s: %s, exit status %d: %s' %
                         (name, sub, bad, cf.name, 'ran' if up else 'stopped', rc, err))
                else:
                    ok('%s refuses "%s" with exit status 2: %s' % (name, bad, err))
    stale = sorted(set(f for f in os.listdir(cdir) if f.endswith('.conf')) - expected)
    for f in stale:
        fail('%s: no program reads a file %s' % (os.path.join(cdir, f), f))


def main():
    ap = argparse.ArgumentParser(description='Checks dist/ against the programs.')
    sp = ap.add_subparsers(dest='what', required=True)
    u = sp.add_parser('units')
    u.add_argument('--bindir', required=True)
    u.add_argument('--dist', required=True)
    u.add_argument('--src', required=True)
    u.add_argument('--analyze', default='')
    u.add_argument('--sysusers', default='')
    c = sp.add_parser('config')
    c.add_argument('--bindir', required=True)
    c.add_argument('--dist', required=True)
    args = ap.parse_args()
    args.bindir = os.path.abspath(args.bindir)
    try:
        if args.what == 'units':
            check_units(args)
        else:
            check_config(args)
    except skhelp.HelpError as e:
        fail(str(e))
    if failures:
        print('%d check(s) failed' % len(failures))
        return 1
    print('all checks passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
