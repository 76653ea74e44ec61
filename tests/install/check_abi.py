#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A library's exported interface is exactly what doc/abi.md says.

  check_abi.py --objdump OBJDUMP --lib LIB.so --node NODE
               [--private-node NODE] [--nm NM --archive LIB.a] HEADER...

From the shared library's dynamic symbol table:
  - every exported symbol starts with sk_ and carries a version node;
  - the nodes are NODE (public) and, if given, the private node;
  - every function the HEADERs mark SK_API is exported in NODE (a function
    left out of the version script or built hidden fails here);
  - nothing in NODE is missing from the HEADERs (no internal function
    exported by accident);
  - the private node holds only functions no header declares.
From the static archive, if given: its global definitions are exactly the
functions the HEADERs declare (every other global was made local).
"""
import argparse
import re
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--objdump", required=True)
ap.add_argument("--lib", required=True)
ap.add_argument("--node", required=True)
ap.add_argument("--private-node")
ap.add_argument("--nm")
ap.add_argument("--archive")
ap.add_argument("headers", nargs="+")
args = ap.parse_args()
failures = []

declared = set()
for header in args.headers:
    with open(header, encoding="utf-8") as f:
        text = f.read()
    # SK_API ... sk_name( possibly across lines: the last sk_ identifier
    # before the parenthesis is the function's name.
    for m in re.finditer(r"\bSK_API\b([^;{]*?)\b(sk_[a-z0-9_]+)\s*\(", text, re.S):
        declared.add(m.group(2))
if not declared:
    failures.append("no SK_API declarations read from the headers")

out = subprocess.run([args.objdump, "-T", args.lib], check=True, capture_output=True,
                     text=True).stdout
exported = {}  # name -> version node
for line in out.splitlines():
    # "0000000000012345 g    DF .text  0000000000000042  SPLITKEY_0  sk_foo"
    fields = line.split()
    if len(fields) < 7 or fields[1] != "g" or "*UND*" in line:
        continue
    name, node = fields[-1], fields[-2]
    if node.startswith("(") or node == "Base":
        failures.append(f"{name}: exported without a version node ({node})")
        continue
    if name == node:  # the version node's own definition
        continue
    exported[name] = node

nodes = {args.node} | ({args.private_node} if args.private_node else set())
for name, node in sorted(exported.items()):
    if not name.startswith("sk_"):
        failures.append(f"{name}: exported without the sk_ prefix")
    if node not in nodes:
        failures.append(f"{name}: unexpected version node {node}")

public = {n for n, v in exported.items() if v == args.node}
private = {n for n, v in exported.items() if v == args.private_node}
for name in sorted(declared - public):
    failures.append(f"{name}: declared SK_API but not exported in {args.node}")
for name in sorted(public - declared):
    failures.append(f"{name}: exported in {args.node} but no header declares it")
for name in sorted(private & declared):
    failures.append(f"{name}: a public function in the private node")
summary = f"{args.lib.split('/')[-1]}: {len(public)} functions in {args.node}"
if args.private_node:
    summary += f", {len(private)} in {args.private_node}"

if args.archive:
    out = subprocess.run([args.nm, "-g", "--defined-only", args.archive], check=True,
                         capture_output=True, text=True).stdout
    globals_ = {l.split()[-1] for l in out.splitlines() if len(l.split()) == 3}
    for name in sorted(globals_ - declared):
        failures.append(f"{args.archive.split('/')[-1]}: global {name} is not in the headers")
    for name in sorted(declared - globals_):
        failures.append(f"{args.archive.split('/')[-1]}: {name} declared but not defined")
    summary += f"; {args.archive.split('/')[-1]}: {len(globals_)} globals"

for f in failures:
    print("abi: " + f)
print(f"abi: {summary}; {len(failures)} problems")
sys.exit(1 if failures else 0)
