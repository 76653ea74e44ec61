#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mkman.py - the manual pages of splitkey, from the programs themselves.

  mkman.py page --prog BIN --source NAME.h2m --out NAME.1 [--help2man PATH]
  mkman.py conf --bindir DIR --source splitkey.conf.h2m --out splitkey.conf.5

page: help2man(1) writes the page from "PROG --help" and "PROG --version";
the source file (help2man's include format: "[SECTION]" then roff text)
adds what --help cannot say (NAME, DESCRIPTION, FILES, ENVIRONMENT, EXIT
STATUS, EXAMPLES, SEE ALSO).  help2man does not know about commands, so this
script adds a SYNOPSIS from the usage lines and a COMMANDS section holding
every "PROG COMMAND --help", converted to roff.

conf: the page of the "name = value" configuration files, with the keys each
program accepts (asked of the programs: skhelp.config_files) described by
their --help; the source holds the prose around them.

The options and commands therefore come from the code at build time and
cannot drift from it; tests/man checks that every --flag the programs print
is in the pages.
"""

import argparse
import datetime
import os
import re
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import skhelp  # noqa: E402

MANUAL = 'splitkey manual'


# ------------------------------------------------------------------ roff text

def esc(s):
    """Escapes text for roff (not at the start of a line: see line())."""
    return s.replace('\\', '\\e').replace('-', '\\-')


def line(s):
    """A text line: one starting with '.' or "'" would be a request."""
    return '\\&' + s if s[:1] in ('.', "'") else s


INLINE_FLAG = re.compile(r"(?<![\w'-])(--[A-Za-z0-9][A-Za-z0-9-]*)")


def inline(s):
    """Text with every --flag in bold."""
    out, pos = [], 0
    for m in INLINE_FLAG.finditer(s):
        out.append(esc(s[pos:m.start()]))
        out.append('\\fB' + esc(m.group(1)) + '\\fR')
        pos = m.end()
    out.append(esc(s[pos:]))
    return ''.join(out)


PLACEHOLDER = re.compile(r'^[A-Z][A-Z0-9_.:]*$')


def synopsis_words(s, prog, sub=None):
    """A usage line: the program, its command and flags bold, placeholders
    italic."""
    out = []
    words = s.split()
    if sub is not None and len(words) > 1 and words[0] == prog and words[1] == sub:
        out.append('\\fB%s %s\\fR' % (esc(prog), esc(sub)))
        words = words[2:]
    for w in words:
        core = w.strip('[](){}|,')
        if not core:
            out.append(esc(w))
            continue
        lead = w[:w.index(core)]
        trail = w[len(lead) + len(core):]
        parts = []
        for p in core.split('|'):
            if p.startswith('-') or p == prog:
                parts.append('\\fB' + esc(p) + '\\fR')
            elif PLACEHOLDER.match(p):
                parts.append('\\fI' + esc(p) + '\\fR')
            else:
                parts.append(esc(p))
        out.append(esc(lead) + '|'.join(parts) + esc(trail))
    return ' '.join(out)


def usage_lines(text, prog):
    """The usage lines at the top of a --help text (an indented line goes on
    the line before it, unless it starts with the program's name)."""
    lines = text.split('\n')
    if not lines or not re.match(r'^\s*[Uu]sage:', lines[0]):
        return [], lines
    usages = []
    i = 0
    while i < len(lines) and lines[i].strip():
        if i > 0 and not lines[i].startswith(' '):
            break  # the text after a usage block without a blank line
        cur = re.sub(r'^\s*[Uu]sage:\s*', '', lines[i]).strip()
        if cur.startswith(prog + ' ') or cur == prog or not usages:
            usages.append(cur)
        else:
            usages[-1] += ' ' + cur
        i += 1
    return usages, lines[i:]


WORD_ENTRY = re.compile(r'^( {1,8})([a-z][\w-]*(?: [^ ]+)?) {2,}(\S.*)$')


def term(t):
    """An option list term: "--name ARG" as \\fB--name\\fR \\fIARG\\fR."""
    m = re.match(r'^(-[^ =]*)([ =])?(.*)$', t)
    if not m:
        return '\\fB' + esc(t) + '\\fR'
    s = '\\fB' + esc(m.group(1)) + '\\fR'
    if m.group(3):
        s += esc(m.group(2)) + '\\fI' + esc(m.group(3)) + '\\fR'
    return s


def help_to_roff(text, prog, sub=None):
    """A command's --help text as roff: its usage lines, paragraphs, option
    lists (.TP), and verbatim blocks (command lines continued with '\\')."""
    usages, rest = usage_lines(text.rstrip('\n'), prog)
    out = []
    if usages:
        out.append('.PP')
        for i, u in enumerate(usages):
            if i:
                out.append('.br')
            out.append(synopsis_words(u, prog, sub))
    mode = None
    indent = 0
    for raw in rest:
        if not raw.strip():
            if mode == 'verb':
                out += ['.fi', '.RE']
            mode = None
            continue
        if mode == 'verb' or (raw.rstrip().endswith('\\') and raw.startswith(' ')):
            if mode != 'verb':
                out += ['.RS', '.nf']
                mode = 'verb'
            out.append(line(esc(raw.strip())))
            if not raw.rstrip().endswith('\\'):
                out += ['.fi', '.RE']
                mode = None
            continue
        e = skhelp.split_entry(raw)
        m = None if e else WORD_ENTRY.match(raw) if raw.startswith(' ') else None
        if e or m:
            out.append('.TP')
            if e:
                out.append(term(e[1] + (' ' + e[2] if e[2] else '')))
                desc, indent = e[3], e[0]
            else:
                out.append('\\fB' + esc(m.group(2)) + '\\fR')
                desc, indent = m.group(3), len(m.group(1))
            if desc:
                out.append(line(inline(desc.strip())))
            mode = 'list'
            continue
        lead = len(raw) - len(raw.lstrip())
        if mode == 'list' and lead > indent + 2:
            out.append(line(inline(raw.strip())))
            continue
        if mode != 'text':
            out.append('.PP')
            mode = 'text'
        out.append(line(inline(raw.strip())))
    if mode == 'verb':
        out += ['.fi', '.RE']
    return '\n'.join(out)


# ----------------------------------------------------------- source files

SECTION = re.compile(r'^\[([<=>]?)([^\]]+)\]\s*$')


def read_source(path):
    """The sections of a source file, in order: [(heading, text)]."""
    sections = []
    with open(path, encoding='utf-8') as f:
        for raw in f.read().split('\n'):
            m = SECTION.match(raw)
            if m:
                sections.append([m.group(1) + m.group(2).strip(), []])
            elif sections:
                sections[-1][1].append(raw)
    return [(h, '\n'.join(t).strip('\n')) for h, t in sections]


def page_date():
    epoch = os.environ.get('SOURCE_DATE_EPOCH')
    when = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch
            else datetime.datetime.now(datetime.timezone.utc))
    return when.strftime('%B %Y')


# ------------------------------------------------------------- section 1

def filter_help(prog, argv):
    """Runs the program for help2man: "--help" prints its help without the
    usage lines (the SYNOPSIS holds them; help2man would misread a usage
    continued on indented lines); anything else runs the program as it is."""
    if argv != ['--help']:
        os.execv(prog, [prog] + argv)
    text = skhelp.help_text(prog)
    _, rest = usage_lines(text.rstrip('\n'), skhelp.prog_name(prog))
    sys.stdout.write('\n'.join(rest).lstrip('\n') + '\n')
    return 0


def make_page(args):
    prog = os.path.abspath(args.prog)
    name = skhelp.prog_name(prog)
    pname, ver = skhelp.version(prog)
    if pname != name:
        raise skhelp.HelpError('%s --version names "%s"' % (name, pname))
    top = skhelp.help_text(prog)
    subs = skhelp.subcommands(prog, top)
    source = read_source(args.source)
    for h, _ in source:
        if h.upper().lstrip('<=>') in ('SYNOPSIS', 'COMMANDS', 'OPTIONS'):
            raise skhelp.HelpError('%s: [%s] comes from the program; leave it out'
                                   % (args.source, h))
    usages, _ = usage_lines(top, name)
    inc = ['[SYNOPSIS]']
    for i, u in enumerate(usages):
        if i:
            inc.append('.br')
        inc.append(synopsis_words(u, name))
    if subs:
        inc.append('.br')
        inc.append('\\fB%s\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR' % esc(name))
    inc.append('.br')
    inc.append('\\fB%s\\fR \\fB\\-\\-version\\fR' % esc(name))
    inc.append('')
    if subs:
        inc.append('[COMMANDS]')
        for s in subs:
            inc.append('.SS "%s %s"' % (esc(name), esc(s)))
            inc.append(help_to_roff(skhelp.help_text(prog, s), name, s))
        inc.append('')
    for h, text in source:
        inc.append('[%s]' % h)
        inc.append(text)
        inc.append('')
    with tempfile.TemporaryDirectory(prefix='sk-man-') as tmp:
        incpath = os.path.join(tmp, name + '.h2m')
        out = os.path.join(tmp, name + '.1')
        with open(incpath, 'w', encoding='utf-8') as f:
            f.write('\n'.join(inc) + '\n')
        wrapper = os.path.join(tmp, name)
        with open(wrapper, 'w', encoding='utf-8') as f:
            f.write('#!/bin/sh\nexec %s %s filter-help %s "$@"\n' %
                    (shlex.quote(sys.executable), shlex.quote(os.path.abspath(__file__)),
                     shlex.quote(prog)))
        os.chmod(wrapper, 0o755)
        cmd = [args.help2man, '--no-info', '--section=1', '--manual=' + MANUAL,
               '--source=splitkey ' + ver, '--include=' + incpath, '--output=' + out, wrapper]
        rc, sout, serr = skhelp.run(cmd)
        if rc != 0:
            raise skhelp.HelpError('help2man %s: exit status %d: %s' % (name, rc, serr.strip()))
        with open(out, encoding='utf-8') as f:
            page = f.read()
    write(args.out, page)


# ------------------------------------------------------------- section 5

CONF_PROGRAMS = ['splitkey-server', 'splitkey-ca', 'splitkey-ocsp', 'splitkey-tsa']


def make_conf(args):
    source = read_source(args.source)
    heads = [h.upper() for h, _ in source]
    for need in ('NAME', 'DESCRIPTION'):
        if need not in heads:
            raise skhelp.HelpError('%s: no [%s]' % (args.source, need))
    ver = None
    generated = []
    for name in CONF_PROGRAMS:
        prog = os.path.join(os.path.abspath(args.bindir), name)
        pname, pver = skhelp.version(prog)
        if ver is None:
            ver = pver
        files = skhelp.config_files(prog)
        if not files:
            generated.append('.SH "%s"' % esc(name.upper()))
            generated.append('.B %s' % esc(name))
            generated.append('reads no configuration file: every setting is an option of')
            generated.append('.BR %s (1).' % esc(name))
            continue
        every = skhelp.all_options(prog)
        for cf in files:
            sub = [entry for entry in skhelp.CONF_FILES[name] if entry[0] == cf.name][0][2]
            generated.append('.SH "%s"' % esc(cf.name.upper()))
            generated.append('The configuration of')
            generated.append('.BR %s (1):' % esc(name))
            generated.append(line(inline(cf.how + '.')))
            generated.append('It accepts these keys:')
            for k in cf.keys:
                generated.append('.TP')
                generated.append('\\fB%s\\fR = \\fI%s\\fR' %
                                 (esc(k.name), esc(k.arg) if k.arg else 'true\\fR|\\fIfalse'))
                generated.append(line(inline(k.text)))
            keynames = [k.name for k in cf.keys]
            only = ['--' + o.name for o in every.get(sub, []) if o.name not in keynames]
            if only:
                generated.append('.PP')
                generated.append('These options of')
                generated.append('.B %s %s' % (esc(name), esc(sub)))
                generated.append('are accepted on the command line only: %s.' %
                                 ', '.join('\\fB%s\\fR' % esc(o) for o in only))
    out = ['.\\" Generated by doc/man/mkman.py from the programs\' --help and '
           'doc/man/splitkey.conf.h2m: do not edit.',
           '.TH SPLITKEY.CONF 5 "%s" "splitkey %s" "%s"' % (page_date(), ver, MANUAL)]
    done_generated = False
    for h, text in source:
        if h.upper() not in ('NAME', 'SYNOPSIS', 'DESCRIPTION') and not done_generated:
            out += generated
            done_generated = True
        out.append('.SH %s' % (h.upper() if ' ' not in h else '"%s"' % h.upper()))
        out.append(text)
    if not done_generated:
        out += generated
    write(args.out, '\n'.join(out) + '\n')


def write(path, text):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description='Writes the manual pages of splitkey.')
    sp = ap.add_subparsers(dest='what', required=True)
    p = sp.add_parser('page', help='a section 1 page of a program')
    p.add_argument('--prog', required=True)
    p.add_argument('--source', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--help2man', default='help2man')
    c = sp.add_parser('conf', help='the section 5 page of the configuration files')
    c.add_argument('--bindir', required=True)
    c.add_argument('--source', required=True)
    c.add_argument('--out', required=True)
    if sys.argv[1:2] == ['filter-help'] and len(sys.argv) >= 3:
        try:
            return filter_help(sys.argv[2], sys.argv[3:])
        except skhelp.HelpError as e:
            print('mkman.py: %s' % e, file=sys.stderr)
            return 1
    args = ap.parse_args()
    try:
        if args.what == 'page':
            make_page(args)
        else:
            make_conf(args)
    except (skhelp.HelpError, OSError, subprocess.SubprocessError) as e:
        print('mkman.py: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
