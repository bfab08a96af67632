#!/usr/bin/env python3
"""How the keep-alive race window (LoadOptions::race_window) bears on real drops.

For each detection-matrix row that must fail requests.dropped, runs it N times
(gracecheck run --out, request records kept) and prints, from the records:
the drops a race window can excuse (no response byte, on a reused connection,
or reset on a new one), the smallest write-to-close times among them, and how many
runs had *only* drops a window of W ms would excuse (runs whose bug the check
would then miss).

Usage: bench/race_window.py [N] (default 5; build/ must be built)
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRACECHECK = os.path.join(os.environ.get("BUILD_DIR", os.path.join(ROOT, "build")), "bin", "gracecheck")
WINDOWS_MS = (2, 10, 20)


def excusable(r, window_ms):
    """A drop the window would count as not taken: no response byte and a close
    within the window, on a reused connection (the keep-alive race) or, if a
    reset, on a new one (a listener closing with it in its accept queue)."""
    return (r["first_byte_ms"] is None and r["written_ms"] is not None
            and r["done_ms"] - r["written_ms"] <= window_ms
            and (r["reuse"] > 0 and r["outcome"] in ("eof", "reset")
                 or r["reuse"] == 0 and r["outcome"] == "reset"))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rows = yaml.safe_load(open(os.path.join(ROOT, "target", "detection-matrix.yaml")))
    with tempfile.TemporaryDirectory(prefix="gracecheck-window-") as tmp:
        for row in rows:
            if "requests.dropped" not in row["fail"]:
                continue
            out = os.path.join(tmp, row["bug"])
            target = (f"bug={{refapi}} --listen 127.0.0.1:{{port}} --db {{database_url}} "
                      f"{row.get('args', '')} --bug={row['bug']}")
            subprocess.run([GRACECHECK, "run", f"scenarios/{row['scenario']}.yaml", "--repeat", str(n),
                            "--out", out, "--target", target], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            drops_total, gaps = 0, []
            only_excusable = {w: 0 for w in WINDOWS_MS}
            for f in sorted(glob.glob(os.path.join(out, "*", "requests.jsonl"))):
                drops = [r for r in map(json.loads, open(f)) if r["dropped"]]
                drops_total += len(drops)
                for w in WINDOWS_MS:
                    if drops and all(excusable(r, w) for r in drops):
                        only_excusable[w] += 1
                gaps += [round(r["done_ms"] - r["written_ms"], 2) for r in drops
                         if excusable(r, float("inf"))]
            gaps.sort()
            print(f"{row['bug']:18} {n} runs: {drops_total} drops, {len(gaps)} a window could excuse "
                  f"(no response byte; reused, or reset on a new connection), smallest write-to-close {gaps[:5]} ms; runs with only drops "
                  f"a window would excuse: " + ", ".join(f"{w} ms: {only_excusable[w]}" for w in WINDOWS_MS),
                  flush=True)


if __name__ == "__main__":
    main()
