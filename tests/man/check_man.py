#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check_man.py - the manual pages in <build>/man against the built programs.

  check_man.py --bindir B --mandir M --groff PATH

Every program B/splitkey* has its page M/PROG.1, and splitkey-server brings
M/splitkey.conf.5.  Each page renders with "groff -man -ww -z" without a
warning; it names the version "PROG --version" prints; it mentions every
--flag that "PROG --help" and "PROG COMMAND --help" print, and every
command.  splitkey.conf.5 mentions every key of every configuration file
the programs read.
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', '..', 'doc', 'man'))
import skhelp  # noqa: E402

FLAG = re.compile(r'(?<![\w-])--[A-Za-z0-9][A-Za-z0-9-]*')
CONF_PROGRAMS = ['splitkey-server', 'splitkey-ca', 'splitkey-ocsp', 'splitkey-tsa']

failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL: ' + msg)


def ok(msg):
    print('ok: ' + msg)


def plain(page):
    """The text of a roff page, escapes undone (enough to find words)."""
    t = re.sub(r'\\f[BIRP]|\\f\(..|\\f\[[A-Z]*\]|\\&|\\%', '', page)
    t = t.replace('\\-', '-').replace('\\(dq', '"').replace('\\e', '\\')
    return t


def render(groff, path):
    rc, out, err = skhelp.run([groff, '-man', '-ww', '-z', path])
    if rc != 0 or out.strip() or err.strip():
        fail('groff -man -ww -z %s: exit status %d: %s' % (path, rc, (out + err).strip()))
        return False
    return True


def th_version(page):
    m = re.search(r'^\.TH\s+(.*)$', page, re.M)
    return m.group(1) if m else ''


def check_program(prog, page_path, groff):
    name = os.path.basename(prog)
    if not os.path.isfile(page_path):
        fail('%s: no manual page %s' % (name, page_path))
        return
    with open(page_path, encoding='utf-8') as f:
        page = f.read()
    if not render(groff, page_path):
        return
    pname, ver = skhelp.version(prog)
    th = th_version(page)
    if pname != name or ('splitkey %s' % ver) not in th or not th.startswith(name.upper()):
        fail('%s: .TH %s does not name %s %s (%s --version)' % (page_path, th, name, ver, name))
    text = plain(page)
    helps = {'': skhelp.help_text(prog)}
    subs = skhelp.subcommands(prog, helps[''])
    for s in subs:
        helps[s] = skhelp.help_text(prog, s)
        if '%s %s' % (name, s) not in text:
            fail('%s: no section on "%s %s"' % (page_path, name, s))
    missing = []
    nflags = 0
    for s, h in helps.items():
        for flag in sorted(set(FLAG.findall(h))):
            nflags += 1
            if not re.search(r'(?<![\w-])%s(?![\w-])' % re.escape(flag), text):
                missing.append('%s (%s --help)' % (flag, (name + ' ' + s).strip()))
    if missing:
        fail('%s lacks %s' % (page_path, ', '.join(missing)))
    else:
        ok('%s: renders cleanly, version %s, %d commands, all %d flags of their --help' %
           (os.path.basename(page_path), ver, len(subs), nflags))


def check_conf(bindir, page_path, groff):
    if not os.path.isfile(page_path):
        fail('no manual page %s' % page_path)
        return
    with open(page_path, encoding='utf-8') as f:
        page = f.read()
    if not render(groff, page_path):
        return
    _, ver = skhelp.version(os.path.join(bindir, 'splitkey-server'))
    if ('splitkey %s' % ver) not in th_version(page):
        fail('%s: .TH %s does not name splitkey %s' % (page_path, th_version(page), ver))
    text = plain(page)
    n = 0
    for name in CONF_PROGRAMS:
        for cf in skhelp.config_files(os.path.join(bindir, name)):
            if cf.name.upper() not in text:
                fail('%s: no section on %s' % (page_path, cf.name))
            for k in cf.keys:
                n += 1
                if not re.search(r'^%s = ' % re.escape(k.name), text, re.M):
                    fail('%s: no key %s of %s' % (page_path, k.name, cf.name))
    ok('%s: renders cleanly, version %s, all %d configuration keys' %
       (os.path.basename(page_path), ver, n))


def main():
    ap = argparse.ArgumentParser(description='Checks the manual pages.')
    ap.add_argument('--bindir', required=True)
    ap.add_argument('--mandir', required=True)
    ap.add_argument('--groff', default='')
    args = ap.parse_args()
    if not args.groff or not os.path.isfile(args.groff):
        print('FAIL: groff not found: install the Debian package groff-base')
        return 1
    progs = sorted(p for p in os.listdir(args.bindir)
                   if p.startswith('splitkey') and os.access(os.path.join(args.bindir, p),
                                                             os.X_OK))
    if not progs:
        fail('no programs in %s' % args.bindir)
    try:
        for p in progs:
            check_program(os.path.join(args.bindir, p), os.path.join(args.mandir, p + '.1'),
                          args.groff)
        if 'splitkey-server' in progs:
            check_conf(args.bindir, os.path.join(args.mandir, 'splitkey.conf.5'), args.groff)
    except skhelp.HelpError as e:
        fail(str(e))
    if failures:
        print('%d check(s) failed' % len(failures))
        return 1
    print('all checks passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
