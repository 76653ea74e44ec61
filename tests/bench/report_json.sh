#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# report_json.sh REPORT_JSON_TEST PYTHON
# splitkey-bench's --json writer (bench/report_json.c): the document parses
# with Python's json module, a string holding a quote, a backslash and
# control characters comes back exactly, keys keep their order, counts are
# integers and figures keep their decimals.
. "$(dirname "$0")/../cli/lib.sh" # ok, fail, expect_status, finish; $SK_TMP
PROG=$1
PY=$2
out=$SK_TMP/r.json
note=$'failed: the server said "no" in C:\\tmp\\sk \\"x\\"\ttab\nline\x01'

expect_status 0 "writing the report" -- "$PROG" "$out" "$note"
if [ -s "$out" ]; then ok; else fail "no report written"; fi
if [ -z "$(ls -A "$SK_TMP" | grep -v -e '^r\.json$' -e '^out$')" ]; then ok; else
  fail "files left beside the report: $(ls -A "$SK_TMP")"
fi

"$PY" - "$out" "$note" <<'PY'
import json
import re
import sys

path, note = sys.argv[1], sys.argv[2]
problems = []
text = open(path, encoding="utf-8").read()
try:
    doc = json.loads(text)
except ValueError as e:
    print(f"report_json: not JSON: {e}", file=sys.stderr)
    sys.exit(1)


def want(cond, msg):
    if not cond:
        problems.append(msg)


want(list(doc) == ["tool", "version", "openssl_baselines", "profiles"],
     f"top-level keys {list(doc)}")
want(doc.get("tool") == "splitkey-bench", f"tool {doc.get('tool')!r}")
want(doc.get("openssl_baselines") is False, "openssl_baselines is not false")
profiles = doc.get("profiles", {})
want(list(profiles) == ["4K"], f"profiles {list(profiles)} (the failed 6K run must be left out)")
p = profiles.get("4K", {})
want(list(p) == ["steps", "ratios", "in_process_signatures_per_second", "end_to_end",
                 "end_to_end_unavailable", "postgresql", "postgresql_unavailable"],
     f"profile keys {list(p)}")
want(p.get("postgresql") is None and p.get("postgresql_unavailable") == note,
     f"postgresql_unavailable {p.get('postgresql_unavailable')!r}, expected {note!r}")
want(p.get("end_to_end_unavailable") == note,
     f"end_to_end_unavailable {p.get('end_to_end_unavailable')!r}, expected {note!r}")
want(p.get("end_to_end", 0) is None, "end_to_end is not null")
# the escapes themselves, as JSON spells them
for esc in (r'\"no\"', r'C:\\tmp\\sk \\\"x\\\"', r'\t', r'\n', r'\u0001'):
    want(esc in text, f"{esc} not in the report")
steps = p.get("steps", {})
want(list(steps) == ["client_keygen", "server_keygen", "openssl_keygen_k", "device_partial",
                     "server_complete", "floor_gmp", "floor_openssl", "sign_in_process",
                     "single_sign_mbedtls_2k", "single_sign_openssl_2k"],
     f"steps {list(steps)}")
want(steps.get("client_keygen") == {"n": 0}, f"an empty step: {steps.get('client_keygen')!r}")
sc = steps.get("server_complete", {})
want(list(sc) == ["n", "median_ms", "min_ms", "max_ms", "p50_ms", "p90_ms", "p99_ms"],
     f"series keys {list(sc)}")
want(type(sc.get("n")) is int and sc.get("n") == 3, f"server_complete.n {sc.get('n')!r}")
want(sc.get("median_ms") == 1.005 and sc.get("min_ms") == 1.005 and sc.get("max_ms") == 1.0051,
     f"server_complete {sc!r}")
# 6 decimals, no binary noise: 1.0049999 ms rounds to 1.005
want(re.search(r'"min_ms": 1\.005\s*,', text) is not None, "min_ms is not written 1.005")
r = p.get("ratios", {})
want(r.get("server_step_over_floor") == 1.005, f"server_step_over_floor {r.get('server_step_over_floor')!r}")
want(r.get("server_step_over_openssl_floor", 0) is None, "a missing ratio is not null")
want(len(r) == 11, f"{len(r)} ratios")
ips = p.get("in_process_signatures_per_second")
want(type(ips) is float and ips == 250.0, f"in_process_signatures_per_second {ips!r}")
for msg in problems:
    print("report_json:", msg, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
if [ $? -eq 0 ]; then ok; else fail "the report's content"; fi

# a report that cannot be written: exit 1, a message, no file
expect_status 1 "an unwritable report" -- "$PROG" "$SK_TMP/none/r.json" "$note"
expect_output "cannot write $SK_TMP/none/r.json" "unwritable report named"

finish report_json
