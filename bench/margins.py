#!/usr/bin/env python3
"""Measured margins of gracecheck's thresholds on a correct server.

    margins.py REPORT.json...

Reads JSON reports (gracecheck run --json) of correct-server runs and prints,
for each threshold a check uses, the worst value observed and how far it is
from failing. A threshold is justified when the worst value over many runs
stays well inside it; docs/DESIGN.md quotes this table.
"""
import json
import re
import statistics
import sys

RESPONSE_LAG_ALLOWANCE_MS = 50.0   # harness/checks/checks.h kResponseLagAllowance
ORPHANED_QUERY_SETTLE_MS = 100.0   # harness/checks/checks.h kOrphanedQuerySettle


def duration_ms(text):
    m = re.search(r"([0-9.]+)(ms|s)\b", text)
    if not m:
        return None
    return float(m.group(1)) * (1000.0 if m.group(2) == "s" else 1.0)


rows = {}


def add(name, limit, value, scenario):
    if value is None:
        return
    r = rows.setdefault(name, {"limit": limit, "values": [], "worst_in": ""})
    r["values"].append((value, scenario))


for path in sys.argv[1:]:
    with open(path) as f:
        report = json.load(f)
    for run in report["runs"]:
        sc = run["scenario"]
        m = run["moments_ms"]
        checks = run["checks"]
        # db.closed_before_drain: how long after the last response the pool
        # began closing. Negative within the allowance is what the allowance
        # is for; the margin is (value + allowance).
        if m.get("db_pool_closed") is not None and m.get("last_response") is not None:
            add("pool closed after the last response (ms; fails below -%g)" % RESPONSE_LAG_ALLOWANCE_MS,
                -RESPONSE_LAG_ALLOWANCE_MS, m["db_pool_closed"] - m["last_response"], sc)
        # db.sessions_after_exit: sessions gone after the exit, within settle.
        c = checks.get("db.sessions_after_exit")
        if c and m.get("db_sessions_gone") is not None and m.get("exited") is not None:
            settle = duration_ms(c["expected"].split(" sessions ")[-1]) or 1000.0
            add("sessions gone after the exit (ms; settle %g)" % settle, settle,
                m["db_sessions_gone"] - m["exited"], sc)
        # process.exit: signal to exit, within the scenario's `within`.
        c = checks.get("process.exit")
        if c and run["exit"].get("fault_to_exit_ms") is not None and c["passed"]:
            within = duration_ms(c["expected"].split(" within ")[-1])
            if within:
                add("signal to exit, share of `within` (%)", 100.0,
                    100.0 * run["exit"]["fault_to_exit_ms"] / within, sc)
        # faults.delivered: lag against each fault's tolerance.
        for fault in run["faults"]:
            if fault.get("lag_ms") is not None and fault.get("tolerance_ms"):
                add("fault lag (ms; tolerance %g)" % fault["tolerance_ms"], fault["tolerance_ms"],
                    fault["lag_ms"], sc)
        # threads.growth: idle threads after the load minus before.
        c = checks.get("threads.growth")
        t = run["summary"]["threads"]
        if c and t.get("idle_after_load") is not None and t.get("before_load") is not None:
            allowed = int(re.search(r"<= \+?(-?\d+)", c["expected"]).group(1))
            add("thread growth after the load (allowed %+d)" % allowed, allowed,
                t["idle_after_load"] - t["before_load"], sc)
        # db.idle_in_transaction without the server log (an external server:
        # GRACECHECK_PG_URL): a session last seen idle in transaction and
        # gone by the next sample counts as left open (with sessions
        # abandoned). How long before the first session went the last sample
        # showing one idle in transaction came (after the fault), and how
        # many sessions were last seen so.
        rows_db = run["series"]["db_samples"]["rows"]
        if m.get("first_fault") is not None:
            after = [r for r in rows_db if r[0] >= m["first_fault"]]
            iit = [r for r in after if r[3] > 0]
            gone = next((b[0] for a, b in zip(after, after[1:]) if sum(b[1:]) < sum(a[1:])), None)
            if iit and gone is not None:
                add("last idle-in-transaction sample to the first session gone (ms)", None,
                    gone - iit[-1][0], sc)
        if m.get("exited") is not None:
            add("sessions last seen idle in transaction, gone by the exit", 0,
                sum(1 for s in run["db_sessions"]
                    if s["last_state"].startswith("idle in transaction")
                    and s["last_seen_ms"] <= m["exited"]), sc)
        # The keep-alive race: requests classified idle_closed (not drops).
        add("keep-alive races per run (idle_closed, not drops)", None,
            run["outcomes"]["all"].get("idle_closed", 0), sc)

print(f"{'threshold':<62} {'runs':>5} {'median':>9} {'worst':>9}  worst in")
for name, r in rows.items():
    vals = [v for v, _ in r["values"]]
    lower_is_worse = name.startswith("pool closed") or name.startswith("last idle-in")
    worst, where = (min if lower_is_worse else max)(r["values"], key=lambda x: x[0])
    print(f"{name:<62} {len(vals):>5} {statistics.median(vals):>9.2f} {worst:>9.2f}  {where}")
