# SPDX-License-Identifier: Apache-2.0
"""skhelp.py - what the splitkey programs say about themselves.

Shared by the manual page generator (mkman.py) and by the tests of the
manual pages (tests/man) and of the sample configuration files (tests/dist):
everything is read from the built programs, so the pages and the checks
follow the code.

  help_text(prog, sub)   the output of "PROG [SUB] --help" (exit status 0)
  version(prog)          the output of "PROG --version": (name, version)
  subcommands(prog)      the commands the top-level --help names
  options(text)          the "--name ARG   help" entries of a --help text
  flags_in(text)         every --flag a text mentions
  config_files(prog)     the "name = value" files the program reads and the
                         keys each accepts, found by asking the program

The service programs parse flags and configuration files with one table
(services/common/config.h): a file line "name = value" sets the option
--name, except for options marked flag-only, which the file refuses as an
unknown key.  --help does not show that mark, so config_files() asks the
program: it feeds it a file holding one line "name = x" per option and sees
whether it answers 'unknown key "name"'.  The bogus value makes every probe
stop at validation, before anything is opened or served.
"""

import os
import re
import subprocess
import tempfile

FLAG_RE = re.compile(r'(?<![\w-])--[A-Za-z0-9][A-Za-z0-9-]*')


class HelpError(Exception):
    """A program did not answer as expected."""


def run(cmd, env=None, stdin=subprocess.DEVNULL):
    """Runs cmd; returns (exit status, stdout, stderr) as text."""
    p = subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, check=False)
    return (p.returncode, p.stdout.decode('utf-8', 'replace'),
            p.stderr.decode('utf-8', 'replace'))


def prog_name(prog):
    return os.path.basename(prog)


def help_text(prog, sub=None):
    cmd = [prog] + ([sub] if sub else []) + ['--help']
    rc, out, err = run(cmd)
    if rc != 0 or not out.strip():
        raise HelpError('%s: exit status %d, %d bytes of help%s' %
                        (' '.join([prog_name(prog)] + cmd[1:]), rc, len(out),
                         (': ' + err.strip().splitlines()[0]) if err.strip() else ''))
    return out


def version(prog):
    rc, out, err = run([prog, '--version'])
    words = out.split()
    if rc != 0 or len(words) < 2:
        raise HelpError('%s --version: exit status %d, output "%s"' %
                        (prog_name(prog), rc, out.strip()))
    return words[0], words[1]


def subcommands(prog, top=None):
    """The commands of a program, in the order its --help lists them: the
    entries under a "commands:" heading (two spaces, then a lower-case
    word), and any "PROG WORD --help" it mentions (splitkey-ocsp names its
    one command only that way).  [] for a program without commands."""
    if top is None:
        top = help_text(prog)
    name = re.escape(prog_name(prog))
    found = []
    in_list = False
    for line in top.splitlines():
        if re.match(r'^[A-Za-z][A-Za-z ]*:\s*$', line):
            in_list = line.strip().lower() == 'commands:'
            continue
        if not line.strip():
            in_list = False
            continue
        m = re.match(r'^  ([a-z][a-z0-9-]*)(\s|$)', line)
        if in_list and m:
            found.append(m.group(1))
    for m in re.finditer(r"\b%s ([a-z][a-z0-9-]*) --help\b" % name, top):
        found.append(m.group(1))
    out = []
    for s in found:
        if s not in out:
            out.append(s)
    return out


class Opt:
    def __init__(self, name, arg, text):
        self.name = name  # without the leading "--"
        self.arg = arg    # the value placeholder, '' for a flag without one
        self.text = text  # the help text, one line

    def default(self):
        """The default the help text states as a plain number, or None."""
        m = re.search(r'\(default (\d+)[),;]', self.text)
        return m.group(1) if m else None

    def __repr__(self):
        return 'Opt(%r, %r)' % (self.name, self.arg)


OPT_START = re.compile(r'^( {0,8})(--?[A-Za-z0-9][A-Za-z0-9-]*)((?:[ =].*)?)$')
USAGE_COLUMN = 26  # services/common/config.c: "  %-26s %s"


def split_entry(line):
    """An option line "  --name ARG   help" as (indent, name, arg, help), or
    None.  The help follows a gap of two spaces or more, or a single space
    when "--name ARG" fills the column (the formatter's "%-26s %s"): the
    word after the name is then its ARG."""
    m = OPT_START.match(line)
    if not m:
        return None
    indent, name, rest = len(m.group(1)), m.group(2), m.group(3)
    if not rest.strip():
        return indent, name, '', ''
    gap = re.search(r' {2,}', rest)
    if gap:
        left, text = rest[:gap.start()], rest[gap.end():]
        if ' ' in left.strip(' =') and not left.startswith('='):
            return None  # more than one word before the gap: not an entry
        return indent, name, left.strip(' ='), text.strip()
    if rest.startswith('=') or len(name) >= USAGE_COLUMN:
        return None
    words = rest.strip().split(' ', 1)
    return indent, name, words[0], words[1].strip() if len(words) > 1 else ''


def options(text):
    """The option entries of a --help text: lines "  --name ARG   help",
    with the help continued on more deeply indented lines."""
    opts = []
    cur = None
    indent = 0
    for line in text.splitlines():
        e = split_entry(line)
        if e and e[1].startswith('--'):
            cur = Opt(e[1][2:], e[2], e[3])
            indent = e[0]
            opts.append(cur)
            continue
        if cur is not None and line.strip() and len(line) - len(line.lstrip()) > indent + 2 \
                and not line.lstrip().startswith('-'):
            cur.text = (cur.text + ' ' + line.strip()).strip()
            continue
        cur = None
    return opts


def flags_in(text):
    return set(FLAG_RE.findall(text))


def all_options(prog):
    """Every option of every command of the program: {command: [Opt]}
    (the key None for a program without commands)."""
    subs = subcommands(prog)
    if not subs:
        return {None: options(help_text(prog))}
    return {s: options(help_text(prog, s)) for s in subs}


# --------------------------------------------------------- configuration files

class ConfFile:
    def __init__(self, name, how, keys):
        self.name = name  # e.g. "server.conf"
        self.how = how    # a phrase: how the program finds it
        self.keys = keys  # [Opt], in --help order


# How each program is given a configuration file.  kind "flag": the file
# named by "run --config FILE" (only while run accepts --config); kind
# "dir": the file NAME inside the directory "SUB --dir DIR" loads.
CONF_FILES = {
    'splitkey-server': [('server.conf', 'flag', 'run', None,
                         'read by run from --config FILE, or from DIR/server.conf when '
                         'there is no --config')],
    'splitkey-ca': [('ca.conf', 'dir', 'run', 'ca.conf',
                     'read from DIR/ca.conf by every command that opens the CA; '
                     'written by init')],
    'splitkey-ocsp': [('ocsp.conf', 'flag', 'run', None,
                       'read by run from --config FILE')],
    'splitkey-tsa': [('tsa.conf', 'flag', 'run', None,
                      'read by run from --config FILE')],
}

PROBE_KEY = 'no-such-key-probe'


def _probe(cmd, path, key):
    """True when the program, run as cmd, refuses the line "key = x" in the
    file at path as an unknown key."""
    with open(path, 'w') as f:
        f.write('%s = x\n' % key)
    rc, out, err = run(cmd)
    return rc != 0 and ('unknown key "%s"' % key) in err


def config_files(prog):
    """The configuration files the program reads, with the keys each one
    accepts (in the order of the program's --help, each key once)."""
    name = prog_name(prog)
    result = []
    entries = CONF_FILES.get(name, [])
    every = all_options(prog) if entries else {}
    for fname, kind, sub, inner, how in entries:
        if sub not in every:
            continue
        sub_opts = [o.name for o in every[sub]]
        if kind == 'flag' and 'config' not in sub_opts:
            continue  # this program reads no such file (yet)
        cands = []
        for s in [sub] + [s for s in every if s != sub]:
            for o in every[s]:
                if o.name not in [c.name for c in cands]:
                    cands.append(o)
        with tempfile.TemporaryDirectory(prefix='sk-probe-') as tmp:
            d = os.path.join(tmp, 'dir')
            os.makedirs(d)
            if kind == 'flag':
                path = os.path.join(tmp, 'probe.conf')
                cmd = [prog, sub, '--config', path] + (['--dir', d] if 'dir' in sub_opts else [])
            else:
                path = os.path.join(d, inner)
                cmd = [prog, sub, '--dir', d]
            if not _probe(cmd, path, PROBE_KEY):
                raise HelpError('%s %s: an unknown key in %s is not reported as such: '
                                'cannot tell its keys' % (name, sub, fname))
            keys = [o for o in cands if not _probe(cmd, path, o.name)]
        result.append(ConfFile(fname, how, keys))
    return result
