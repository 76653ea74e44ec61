#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check_json.py FILE PROFILE...: the JSON splitkey-bench --json wrote holds
every step, grid cell and ratio for each PROFILE, every figure is a positive
number where it must be, and every ratio agrees with the figures it is made of.
No timing target is checked: the bench reports those, tests do not assert them.
Exit 0 when all holds; otherwise one line per problem and exit 1."""
import json
import math
import sys

STEPS = ["client_keygen", "server_keygen", "openssl_keygen_k", "device_partial",
         "server_complete", "floor_gmp", "floor_openssl", "sign_in_process",
         "single_sign_mbedtls_2k", "single_sign_openssl_2k"]
OPENSSL_STEPS = {"openssl_keygen_k", "floor_openssl", "single_sign_openssl_2k"}
RATIOS = ["server_step_over_floor", "server_step_over_openssl_floor",
          "client_keygen_over_openssl_keygen", "server_step_over_single_mbedtls",
          "server_step_over_single_openssl", "end_to_end_over_in_process",
          "workers_2_over_1", "signatures_per_second", "floor_2_threads_over_1",
          "workers_2_over_1_over_floor_scaling", "workers_2_over_1_cpu_ceiling"]
WORKERS = [1, 2]
CLIENTS = [1, 2, 4, 8]

problems = []


def bad(msg):
    problems.append(msg)


def positive(where, v):
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v <= 0:
        bad(f"{where}: {v!r} is not a positive number")
        return False
    return True


def close(where, got, want, rel):
    if not (isinstance(got, (int, float)) and isinstance(want, (int, float))):
        bad(f"{where}: cannot compare {got!r} with {want!r}")
    elif abs(got - want) > rel * abs(want):
        bad(f"{where}: {got} but its parts give {want}")


def check_series(where, s):
    if not isinstance(s, dict) or not positive(where + ".n", s.get("n")):
        return
    for k in ("median_ms", "min_ms", "max_ms", "p50_ms", "p90_ms", "p99_ms"):
        positive(f"{where}.{k}", s.get(k))
    if all(isinstance(s.get(k), (int, float)) for k in ("min_ms", "p50_ms", "p90_ms", "p99_ms", "max_ms")):
        if not s["min_ms"] <= s["p50_ms"] <= s["p90_ms"] <= s["p99_ms"] <= s["max_ms"]:
            bad(f"{where}: quantiles out of order")


def check_grid(where, grid, unit):
    if not isinstance(grid, dict):
        bad(f"{where}: missing")
        return {}
    cells = {}
    for w in WORKERS:
        for c in CLIENTS:
            name = f"{where}.workers_{w}.clients_{c}"
            cell = grid.get(f"workers_{w}", {}).get(f"clients_{c}")
            if not isinstance(cell, dict):
                bad(f"{name}: missing")
                continue
            cells[(w, c)] = cell
            positive(name + ".n", cell.get("n"))
            positive(f"{name}.{unit}s_per_second", cell.get(f"{unit}s_per_second"))
            positive(f"{name}.server_cpu_ms_per_{unit}", cell.get(f"server_cpu_ms_per_{unit}"))
            cc = cell.get(f"client_cpu_ms_per_{unit}")
            if not isinstance(cc, (int, float)) or cc < 0:
                bad(f"{name}.client_cpu_ms_per_{unit}: {cc!r}")
            idle = cell.get("idle_fraction")
            if not isinstance(idle, (int, float)) or not 0 <= idle <= 1:
                bad(f"{name}.idle_fraction: {idle!r} is not a share from 0 to 1")
            qs = [cell.get(k) for k in ("p50_ms", "p90_ms", "p99_ms")]
            if all(positive(f"{name}.quantile", q) for q in qs) and not qs[0] <= qs[1] <= qs[2]:
                bad(f"{name}: p50 <= p90 <= p99 does not hold")
    return cells


def check_profile(name, p, openssl):
    steps = p.get("steps", {})
    for s in STEPS:
        if s in OPENSSL_STEPS and not openssl:
            continue
        check_series(f"{name}.steps.{s}", steps.get(s))
    ratios = p.get("ratios", {})
    for r in RATIOS:
        if r == "server_step_over_openssl_floor" and not openssl:
            continue
        positive(f"{name}.ratios.{r}", ratios.get(r))

    def med(step):
        return steps.get(step, {}).get("median_ms")

    close(f"{name}.ratios.server_step_over_floor", ratios.get("server_step_over_floor"),
          (med("server_complete") or 0) / (med("floor_gmp") or 1), 1e-5)
    close(f"{name}.ratios.server_step_over_single_mbedtls",
          ratios.get("server_step_over_single_mbedtls"),
          (med("server_complete") or 0) / (med("single_sign_mbedtls_2k") or 1), 1e-5)

    # SQLite against PostgreSQL: figures, or null and why (no --pg-uri)
    pg = p.get("postgresql")
    if pg is None:
        if not isinstance(p.get("postgresql_unavailable"), str):
            bad(f"{name}.postgresql: null without postgresql_unavailable")
    elif not isinstance(pg, dict):
        bad(f"{name}.postgresql: {pg!r}")
    else:
        for k in ("sqlite_1_server", "postgresql_1_server", "postgresql_2_servers"):
            c = pg.get(k, {})
            for f in ("signatures", "rounds", "signatures_per_second", "over_sqlite_1_server"):
                positive(f"{name}.postgresql.{k}.{f}", c.get(f))
        close(f"{name}.postgresql.sqlite_1_server.over_sqlite_1_server",
              pg.get("sqlite_1_server", {}).get("over_sqlite_1_server"), 1.0, 1e-9)

    e = p.get("end_to_end")
    if not isinstance(e, dict):
        bad(f"{name}.end_to_end: missing ({p.get('end_to_end_unavailable')!r})")
        return
    keys, enrolled = e.get("keys"), e.get("enrolled")
    positive(f"{name}.end_to_end.keys", keys)
    positive(f"{name}.end_to_end.cores", e.get("cores"))
    enrol = check_grid(f"{name}.end_to_end.enrolment", e.get("enrolment"), "enrolment")
    sign = check_grid(f"{name}.end_to_end.signing", e.get("signing"), "signature")
    server = check_grid(f"{name}.end_to_end.server_throughput", e.get("server_throughput"),
                        "signature")
    check_series(f"{name}.end_to_end.sign_in_process_interleaved",
                 e.get("sign_in_process_interleaved"))
    check_series(f"{name}.end_to_end.disk_flush", e.get("disk_flush"))
    # every enrolled key was counted once, and at least the signing keys were enrolled
    if len(enrol) == 8 and isinstance(enrolled, int) and isinstance(keys, int):
        if sum(c.get("n", 0) for c in enrol.values()) != enrolled:
            bad(f"{name}.end_to_end: the enrolment cells do not add up to {enrolled}")
        if enrolled < keys:
            bad(f"{name}.end_to_end: {enrolled} keys enrolled, fewer than the {keys} that sign")
    # a burst signs every key once: whole bursts, the same number for both servers
    if len(server) == 8 and isinstance(keys, int):
        for c in CLIENTS:
            n1, n2 = server[(1, c)].get("n"), server[(2, c)].get("n")
            if not isinstance(n1, int) or n1 % keys or n1 != n2:
                bad(f"{name}: bursts of {c} clients signed {n1} and {n2}, not equal multiples of {keys}")
    if (1, 1) in sign:
        inproc = e.get("sign_in_process_interleaved", {})
        if inproc.get("n") != sign[(1, 1)].get("n"):
            bad(f"{name}: {inproc.get('n')} in-process signings interleaved with "
                f"{sign[(1, 1)].get('n')} end-to-end ones")
        pairs = e.get("end_to_end_over_in_process_pairs", {})
        if pairs.get("n") != inproc.get("n"):
            bad(f"{name}: {pairs.get('n')} paired ratios for {inproc.get('n')} in-process signings")
        if all(positive(f"{name}.end_to_end_over_in_process_pairs.{q}", pairs.get(q))
               for q in ("p10", "p50", "p90")) and not pairs["p10"] <= pairs["p50"] <= pairs["p90"]:
            bad(f"{name}.end_to_end_over_in_process_pairs: quantiles out of order")
        close(f"{name}.ratios.end_to_end_over_in_process", ratios.get("end_to_end_over_in_process"),
              pairs.get("p50", 0), 1e-5)
        close(f"{name}.end_to_end.end_to_end_p50_over_in_process_median",
              e.get("end_to_end_p50_over_in_process_median"),
              sign[(1, 1)].get("p50_ms", 0) / (inproc.get("median_ms") or 1), 1e-5)
    # 2 workers / 1 worker: the median over the rounds of the paired rates
    by = e.get("workers_2_over_1_by_clients", {})
    if len(server) == 8:
        for c in CLIENTS:
            r1, r2 = server[(1, c)].get("round_rates"), server[(2, c)].get("round_rates")
            if not (isinstance(r1, list) and isinstance(r2, list) and r1 and len(r1) == len(r2)):
                bad(f"{name}: round rates of {c} clients: {r1!r} and {r2!r}")
                continue
            if not all(positive(f"{name}: round rate", v) for v in r1 + r2):
                continue
            q = sorted(b / a for a, b in zip(r1, r2))
            mid = (q[(len(q) - 1) // 2] + q[len(q) // 2]) / 2
            close(f"{name}.end_to_end.workers_2_over_1_by_clients.clients_{c}",
                  by.get(f"clients_{c}"), mid, 1e-3)
            if c == 8:
                close(f"{name}.ratios.workers_2_over_1", ratios.get("workers_2_over_1"), mid, 1e-3)
        best = max(server[(2, c)].get("signatures_per_second", 0) for c in CLIENTS)
        close(f"{name}.ratios.signatures_per_second", ratios.get("signatures_per_second"), best, 1e-3)
    runs = e.get("floor_runs", {})
    if not (positive(f"{name}.floor_runs.threads_1", runs.get("threads_1")) and
            runs.get("threads_2") == 2 * runs.get("threads_1")):
        bad(f"{name}.end_to_end.floor_runs: {runs!r}")
    for k in ("server_cpu_ms_per_signature", "server_cpu_ms_per_signing_with_session_create",
              "implied_capacity_signatures_per_second", "signatures_per_second_device_inline"):
        positive(f"{name}.end_to_end.{k}", e.get(k))


def main():
    if len(sys.argv) < 3:
        print("usage: check_json.py FILE PROFILE...", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    if doc.get("tool") != "splitkey-bench":
        bad("tool is not splitkey-bench")
    openssl = doc.get("openssl_baselines") is True
    for name in sys.argv[2:]:
        p = doc.get("profiles", {}).get(name)
        if not isinstance(p, dict):
            bad(f"profile {name}: missing")
            continue
        check_profile(name, p, openssl)
    for msg in problems:
        print("check_json:", msg, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
