#!/usr/bin/env python3
"""gracecheck's performance, measured beside the best-known tool where there is
one, in the same run on the same target; prints one table with ratios.

  1. Load throughput: closed model, CONNS connections for SECONDS against a
     static file served by nginx (one worker, pinned to CPU 1), gracecheck
     (recording and classifying every request) and wrk alternated ROUNDS
     times, both pinned to CPU 0 (taskset). Also against refapi's /healthz.
  2. Open-model accuracy: a fixed rate against nginx, achieved rate and
     latency percentiles; then the same with nginx frozen (SIGSTOP) for 1 s
     in the middle: without coordinated omission the requests that arrived
     during the freeze wait for it, and the percentiles say so (the expected
     figure is computed from the freeze's share of the run, as wrk2 would
     report); wrk, a closed-model tool, shows what coordinated omission hides.
  3. Memory per recorded request: peak RSS (VmHWM) of gracecheck over ~1M and
     ~5M requests; the difference divided by the difference in requests.
  4. Fault lag (200 harmless signals 15 ms apart under full load) and the
     probes' rates during shutdowns (sigterm-mid-load): /proc samples/s and
     pg_stat_activity samples/s from the first fault to the exit.
  5. Suite wall time: every shipped scenario once against refapi, split into
     the cluster's start, the scenarios' own time (target spawned -> exited
     or load ended) and the harness's overhead per scenario; then the same
     with --jobs 2.
  6. Scale: a closed model of 10,000 keep-alive connections against the
     correct refapi (a worker per connection), SIGTERM halfway: the verdict
     (it must pass), requests/s before the signal, gracecheck's peak RSS.

Usage: bench/run.py [--quick] [--only N[,N...]]   (bench/run.sh installs and builds first)
Figures are medians where there are rounds; the machine is shared, so read
ratios rather than absolute numbers.
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD_DIR", os.path.join(ROOT, "build"))
GRACECHECK = os.path.join(BUILD, "bin", "gracecheck")
REFAPI = os.path.join(BUILD, "bin", "refapi")

rows = []  # (section, measure, gracecheck, reference, ratio, target)


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, path="/healthz", timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                if s.recv(12).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"nothing answered on port {port}")


class Nginx:
    """nginx serving one small file, one process (no master), pinned to CPU 1."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "nginx")
        os.makedirs(os.path.join(self.dir, "www"), exist_ok=True)
        with open(os.path.join(self.dir, "www", "healthz"), "w") as f:
            f.write("ok\n")
        self.template = os.path.join(self.dir, "nginx.conf.in")
        d = self.dir
        with open(self.template, "w") as f:
            f.write(f"""daemon off;
master_process off;
worker_processes 1;
error_log {d}/error.log;
pid {d}/nginx-PORT.pid;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  keepalive_requests 1000000;
  server {{ listen 127.0.0.1:PORT; root {d}/www; }}
}}
""")

    def shell(self):
        """The target script for a scenario: config for gracecheck's {port}, then exec."""
        conf = os.path.join(self.dir, "nginx-{port}.conf")
        return (f"sed 's/PORT/{{port}}/g' {self.template} > {conf} && "
                f"exec taskset -c 1 nginx -p {self.dir} -c {conf}")

    def start(self, port):
        conf = os.path.join(self.dir, f"nginx-{port}.conf")
        with open(self.template) as f, open(conf, "w") as out:
            out.write(f.read().replace("PORT", str(port)))
        p = subprocess.Popen(["taskset", "-c", "1", "nginx", "-p", self.dir, "-c", conf],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_http(port)
        return p


def scenario(path, name, target, load, faults, expect="exit: { code: 0, within: 5s }"):
    with open(path, "w") as f:
        f.write(f"name: {name}\n{target}\n{load}\nfaults:\n{faults}\nexpect:\n  {expect}\n")


def nginx_target(nginx):
    return ("target:\n  shell: true\n  command: " + json.dumps(nginx.shell()) + "\n"
            "  ready: { http_get: /healthz, timeout: 10s }")


REFAPI_TARGET = ('target:\n  command: ["taskset", "-c", "1", "{refapi}", "--listen", '
                 '"127.0.0.1:{port}", "--db", "{database_url}"]')


def closed_load(seconds, conns):
    return (f"load:\n  model: closed\n  connections: {conns}\n  duration: {seconds}s\n"
            "  requests:\n    - { method: GET, path: /healthz }")


def load_thread_cpu_ns(pid):
    """On-CPU time of gracecheck's load generator thread (gc-load), or None."""
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().strip() != "gc-load":
                    continue
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                return int(f.read().split()[0])
    except OSError:
        pass
    return None


def run_gracecheck(tmp, yaml_path, repeat=1, pin=True, cpu=None):
    """Runs gracecheck, returns its JSON report; with `cpu` (a list), appends
    the load thread's on-CPU ns (sampled every 10 ms until the thread ends)."""
    out = os.path.join(tmp, "report.json")
    if os.path.exists(out):
        os.remove(out)
    argv = (["taskset", "-c", "0"] if pin else []) + [GRACECHECK, "run", yaml_path, "--json", out,
                                                       "--repeat", str(repeat)]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    last = None
    if cpu is not None:
        while proc.poll() is None:
            last = load_thread_cpu_ns(proc.pid) or last
            time.sleep(0.01)
        cpu.append(last)
    stdout, _ = proc.communicate()
    if not os.path.exists(out):
        raise RuntimeError(f"gracecheck wrote no report (exit {proc.returncode}):\n{stdout[-3000:]}")
    with open(out) as f:
        report = json.load(f)
    for run in report["runs"]:
        if run["verdict"] != "pass":
            failed = [name for name, c in run["checks"].items()
                      if c.get("status", "passed" if c["passed"] else "failed") == "failed"]
            log(f"note: a {run['scenario']} run failed {failed} (figures still read)")
    return report


def wrk(port, seconds, conns, latency=False, during=None):
    argv = ["taskset", "-c", "0", "wrk", "-t1", f"-c{conns}", f"-d{seconds}s",
            f"http://127.0.0.1:{port}/healthz"]
    if latency:
        argv.insert(4, "--latency")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    if during:
        during()
    out = proc.stdout.read()
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    cpu_ns_per_request = (usage.ru_utime + usage.ru_stime) * 1e9 / max(1, requests)
    pct = {}
    for p, v, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        pct[int(p)] = float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
    return rps, pct, cpu_ns_per_request


def fmt_num(x):
    return f"{x:,.0f}" if isinstance(x, (int, float)) else str(x)


def throughput(tmp, nginx, seconds, conns, rounds):
    yaml_nginx = os.path.join(tmp, "tput-nginx.yaml")
    scenario(yaml_nginx, "tput-nginx", nginx_target(nginx), closed_load(seconds, conns),
             f"  - {{ at: {seconds * 1000 + 200}ms, send: SIGTERM }}")
    yaml_refapi = os.path.join(tmp, "tput-refapi.yaml")
    scenario(yaml_refapi, "tput-refapi", REFAPI_TARGET, closed_load(seconds, conns),
             f"  - {{ at: {seconds * 1000 + 200}ms, send: SIGTERM }}")
    best = None
    for label, yaml_path, start in (
            ("nginx static file", yaml_nginx, lambda port: nginx.start(port)),
            ("refapi /healthz", yaml_refapi, lambda port: start_refapi(tmp, port))):
        port = free_port()
        server = start(port)
        g, w, gcpu, wcpu = [], [], [], []
        try:
            for i in range(rounds):
                cpu = []
                summary = run_gracecheck(tmp, yaml_path, cpu=cpu)["runs"][0]["summary"]
                g.append(summary["requests_per_second"])
                gcpu.append(cpu[0] / summary["requests"] if cpu[0] else float("nan"))
                rps, _, cpu_ns = wrk(port, seconds, conns)
                w.append(rps)
                wcpu.append(cpu_ns)
                log(f"throughput, {label}, round {i + 1}: gracecheck {g[-1]:,.0f} req/s "
                    f"{gcpu[-1] / 1000:.2f} us CPU/req, wrk {w[-1]:,.0f} req/s {wcpu[-1] / 1000:.2f} us CPU/req")
        finally:
            server.terminate()
            server.wait()
        gm, wm = statistics.median(g), statistics.median(w)
        gc, wc = statistics.median(gcpu) / 1000, statistics.median(wcpu) / 1000
        rows.append(("1 throughput", f"closed, {conns} conns, {label} (req/s, median of {rounds})",
                     fmt_num(gm), f"wrk {fmt_num(wm)}", f"{gm / wm:.2f}x", ">= 1.0x"))
        rows.append(("1 throughput", f"  generator CPU per request, {label} (us)",
                     f"{gc:.2f}", f"wrk {wc:.2f}", f"{wc / gc:.2f}x", ">= 1.0x (wrk's / ours)"))
        if label.startswith("nginx"):
            best = gm
    return best


def start_refapi(tmp, port):
    """refapi for wrk: on CPU 1, with a throwaway database (gracecheck with-db)."""
    p = subprocess.Popen([GRACECHECK, "with-db", "--", "taskset", "-c", "1", REFAPI, "--listen",
                          f"127.0.0.1:{port}", "--db", "{database_url}"], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(port, timeout=60)
    p.terminate = lambda: p.send_signal(2)  # SIGINT: with-db stops refapi, drops the database
    return p


def open_model(tmp, nginx, rate, seconds, conns):
    yaml_path = os.path.join(tmp, "open.yaml")
    load = (f"load:\n  model: open\n  rate: {rate}/s\n  connections: {conns}\n  duration: {seconds}s\n"
            "  requests:\n    - { method: GET, path: /healthz }")
    scenario(yaml_path, "open-accuracy", nginx_target(nginx), load,
             f"  - {{ at: {seconds * 1000 + 200}ms, send: SIGTERM }}")
    run = run_gracecheck(tmp, yaml_path)["runs"][0]
    s, lat = run["summary"], run["latency_ms"]["all"]
    achieved = s["requests"] / seconds
    rows.append(("2 open model", f"achieved rate at {rate:,}/s for {seconds} s (req/s)",
                 fmt_num(achieved), f"asked {rate:,}", f"{achieved / rate:.3f}x", "1.00x"))
    rows.append(("2 open model", "latency p50 / p99 / max, unloaded nginx (ms)",
                 f"{lat['p50']:.2f} / {lat['p99']:.2f} / {lat['max']:.1f}", "", "", ""))

    # The same with nginx frozen for `pause` s in the middle.
    pause = 1.0
    at = seconds / 2 - pause / 2
    stalled = os.path.join(tmp, "open-stall.yaml")
    scenario(stalled, "open-stall", nginx_target(nginx), load,
             f"  - {{ at: {int(at * 1000)}ms, pause: {int(pause * 1000)}ms }}\n"
             f"  - {{ at: {seconds * 1000 + 200}ms, send: SIGTERM }}")
    run = run_gracecheck(tmp, stalled)["runs"][0]
    lat = run["latency_ms"]["all"]
    # Arrivals are uniform: the share pause/seconds of them came during the
    # freeze, and each waited from its arrival to the freeze's end, so above
    # the (1 - share) quantile latency rises linearly to `pause`.
    share = pause / seconds
    expected_p99 = max(0.0, (0.99 - (1 - share)) / share) * pause * 1000
    port = free_port()
    server = nginx.start(port)
    try:
        def freeze():
            time.sleep(at)
            server.send_signal(19)  # SIGSTOP
            time.sleep(pause)
            server.send_signal(18)  # SIGCONT
        _, wpct, _ = wrk(port, int(seconds), conns, latency=True, during=freeze)
    finally:
        server.terminate()
        server.wait()
    rows.append(("2 open model", f"p99 with nginx frozen {pause:.0f} s of {seconds} s (ms)",
                 f"{lat['p99']:,.0f}", f"expected >= {expected_p99:,.0f}; wrk {wpct.get(99, float('nan')):,.0f}",
                 f"{lat['p99'] / expected_p99:.2f}x", ">= 1.0x of expected"))


def wait_peak_rss(proc):
    """Waits for `proc`; its peak RSS (VmHWM, KiB), read every 100 ms."""
    peak = 0
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                m = re.search(r"VmHWM:\s+(\d+)", f.read())
                if m:
                    peak = max(peak, int(m.group(1)))
        except OSError:
            pass
        time.sleep(0.1)
    return peak


def peak_rss(tmp, yaml_path):
    out = os.path.join(tmp, "mem.json")
    proc = subprocess.Popen(["taskset", "-c", "0", GRACECHECK, "run", yaml_path, "--json", out],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = wait_peak_rss(proc)
    with open(out) as f:
        n = json.load(f)["runs"][0]["summary"]["requests"]
    return peak, n


def memory(tmp, nginx, rps, small, large):
    sizes = []
    for want in (small, large):
        seconds = max(1, round(want / rps))
        yaml_path = os.path.join(tmp, f"mem-{want}.yaml")
        scenario(yaml_path, "memory", nginx_target(nginx), closed_load(seconds, 32),
                 f"  - {{ at: {seconds * 1000 + 200}ms, send: SIGTERM }}")
        kb, n = peak_rss(tmp, yaml_path)
        log(f"memory: {n:,} requests, peak RSS {kb / 1024:.0f} MiB")
        sizes.append((kb, n))
    (kb1, n1), (kb2, n2) = sizes
    per = (kb2 - kb1) * 1024 / max(1, n2 - n1)
    rows.append(("3 memory", f"peak RSS at {n1:,} / {n2:,} requests (MiB)",
                 f"{kb1 / 1024:.0f} / {kb2 / 1024:.0f}", "", "", ""))
    rows.append(("3 memory", "memory per recorded request (bytes)", f"{per:.1f}", "", "",
                 "<= 64"))


def fault_lag_and_probes(tmp, repeat):
    yaml_path = os.path.join(tmp, "lag.yaml")
    faults = "".join(f'  - {{ name: "w{i}", at: {200 + i * 15}ms, send: SIGWINCH }}\n'
                     for i in range(1, 201))
    faults += "  - { at: 3.4s, send: SIGTERM }"
    scenario(yaml_path, "fault-lag", REFAPI_TARGET.replace('"taskset", "-c", "1", ', ""),
             closed_load(3.5, 32), faults,
             # process.exit counts from the first fault, the first SIGWINCH here.
             "exit: { code: 0, within: 10s }")
    report = run_gracecheck(tmp, yaml_path, repeat=repeat, pin=False)
    lags = sorted(f["lag_ms"] for run in report["runs"] for f in run["faults"]
                  if f.get("lag_ms") is not None)
    q = lambda p: lags[min(len(lags) - 1, int(p * len(lags)))]
    rows.append(("4 faults", f"fault lag p50 / p99 / max, {len(lags)} faults under load (ms)",
                 f"{q(0.5):.3f} / {q(0.99):.3f} / {lags[-1]:.3f}", "", "", "p99 < 1"))

    report = run_gracecheck(tmp, os.path.join(ROOT, "scenarios", "sigterm-mid-load.yaml"),
                            repeat=repeat, pin=False)
    proc_rates, db_rates = [], []
    for run in report["runs"]:
        m = run["moments_ms"]
        start, end = m.get("first_fault"), m.get("exited")
        if start is None or end is None or end <= start:
            continue
        span = (end - start) / 1000
        for series, rates in (("proc_samples", proc_rates), ("db_samples", db_rates)):
            ts = [r[0] for r in run["series"][series]["rows"]]
            rates.append(sum(1 for t in ts if start <= t <= end) / span)
    rows.append(("4 probes", f"/proc samples/s during shutdown (median of {len(proc_rates)})",
                 fmt_num(statistics.median(proc_rates)), f"min {fmt_num(min(proc_rates))}", "",
                 ">= 1000"))
    rows.append(("4 probes", f"pg_stat_activity samples/s during shutdown (median of {len(db_rates)})",
                 fmt_num(statistics.median(db_rates)), f"min {fmt_num(min(db_rates))}", "",
                 ">= 100"))


def suite(tmp):
    files = sorted(os.path.join(ROOT, "scenarios", f) for f in os.listdir(os.path.join(ROOT, "scenarios"))
                   if f.endswith(".yaml"))
    for jobs in (1, 2):
        out = os.path.join(tmp, f"suite-{jobs}.json")
        begin = time.time()
        subprocess.run([GRACECHECK, "run", *files, "--json", out, "--jobs", str(jobs)], cwd=ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.time() - begin
        with open(out) as f:
            runs = json.load(f)["runs"]
        failed = sum(1 for run in runs if run["verdict"] != "pass")
        if jobs == 2:
            rows.append(("5 suite", f"  the same with --jobs 2: wall time (s); runs failed",
                         f"{wall:.1f}; {failed}", f"--jobs 1: {wall1:.1f}", f"{wall1 / wall:.2f}x", ""))
            break
        wall1 = wall
        own = 0.0
        for run in runs:
            m = run["moments_ms"]
            end = max(v for k, v in m.items() if k in ("exited", "load_end") and v is not None)
            own += (end - m["spawned"]) / 1000
        cluster = runs[0]["epoch_unix_ms"] / 1000 - begin
        overhead = (wall - cluster - own) / len(runs)
        rows.append(("5 suite", f"{len(runs)} shipped scenarios once: wall time (s); runs failed",
                     f"{wall:.1f}; {failed}", "", "", ""))
        rows.append(("5 suite", "  cluster start, once (s)", f"{cluster:.2f}", "", "", ""))
        rows.append(("5 suite", "  the scenarios' own time: spawn -> exit or load end (s)", f"{own:.1f}", "", "", ""))
        rows.append(("5 suite", "  harness overhead per scenario (ms)", f"{overhead * 1000:.0f}", "", "",
                     "<= 300"))


def scale(tmp, conns, seconds):
    """A closed model of `conns` keep-alive connections against the correct
    refapi (a worker per connection, its pool of 16), SIGTERM halfway: the
    verdict, requests/s before the signal and gracecheck's peak RSS."""
    yaml_path = os.path.join(tmp, f"scale-{conns}.yaml")
    scenario(yaml_path, f"keepalive-{conns}",
             'target:\n  command: ["{refapi}", "--listen", "127.0.0.1:{port}", "--db", '
             f'"{{database_url}}", "--threads", "{min(conns + 100, 10_000)}", "--pool", "16"]\n'
             "  ready: { http_get: /healthz, timeout: 20s }",
             f"load:\n  model: closed\n  connections: {conns}\n  duration: {seconds}s\n"
             "  timeout: 10s\n  requests:\n"
             "    - { weight: 9, method: GET, path: /healthz }\n"
             '    - { weight: 1, method: GET, path: "/items/{random:1..1000}", expect_status: [200, 404] }',
             f"  - {{ at: {seconds * 500}ms, send: SIGTERM }}",
             "exit: { code: graceful, within: 10s }\n"
             "  db_sessions: { after_exit: 0, abandoned: 0, closed_before_drain: 0 }")
    out = os.path.join(tmp, "scale.json")
    proc = subprocess.Popen([GRACECHECK, "run", yaml_path, "--json", out], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = wait_peak_rss(proc)
    stdout, _ = proc.communicate()
    if not os.path.exists(out):
        raise RuntimeError(f"gracecheck wrote no report (exit {proc.returncode}):\n{stdout[-3000:]}")
    with open(out) as f:
        run = json.load(f)["runs"][0]
    before = run["outcomes"]["before_fault"]["total"]
    span = (run["moments_ms"]["first_fault"] - run["moments_ms"]["load_start"]) / 1000
    failed = [n for n, c in run["checks"].items() if c.get("status") == "failed"]
    verdict = run["verdict"] + (f" ({', '.join(failed)})" if failed else "")
    log(f"scale: {conns} connections: {verdict}; exit code {proc.returncode}")
    rows.append(("6 scale", f"closed model, {conns:,} keep-alive conns, refapi, SIGTERM: verdict",
                 verdict, "", "", "pass"))
    rows.append(("6 scale", "  req/s before the signal; gracecheck peak RSS (MiB)",
                 f"{before / span:,.0f}; {peak / 1024:.0f}", "", "", ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs, 1 round (a smoke test)")
    ap.add_argument("--only", default="1,2,3,4,5,6", help="sections to run, e.g. 1,3")
    args = ap.parse_args()
    only = {int(x) for x in args.only.split(",")}
    for tool in ("wrk", "nginx", "taskset"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            sys.exit(f"bench: {tool} not found (ci/install-deps.sh --bench)")
    os.environ["PATH"] += ":/usr/sbin"
    seconds, rounds = (2, 1) if args.quick else (5, 3)
    tmp = tempfile.mkdtemp(prefix="gracecheck-bench-")
    os.chmod(tmp, 0o755)
    try:
        nginx = Nginx(tmp)
        rps = 50_000
        if 1 in only:
            rps = throughput(tmp, nginx, seconds, 50, rounds)
        if 2 in only:
            open_model(tmp, nginx, 10_000 if args.quick else 20_000, 4 if args.quick else 10, 64)
        if 3 in only:
            memory(tmp, nginx, rps, *((100_000, 300_000) if args.quick else (1_000_000, 5_000_000)))
        if 4 in only:
            fault_lag_and_probes(tmp, 1 if args.quick else 3)
        if 5 in only:
            suite(tmp)
        if 6 in only:
            scale(tmp, 2_000 if args.quick else 10_000, 4 if args.quick else 6)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    width = max(len(r[1]) for r in rows)
    cols = [max(len(r[i]) for r in rows + [("", "", "gracecheck", "reference", "ratio", "target")])
            for i in range(6)]
    print()
    print(f"{'':14} {'measure':{width}}  {'gracecheck':>{cols[2]}}  {'reference':{cols[3]}}  "
          f"{'ratio':>{cols[4]}}  target")
    for r in rows:
        print(f"{r[0]:14} {r[1]:{width}}  {r[2]:>{cols[2]}}  {r[3]:{cols[3]}}  {r[4]:>{cols[4]}}  {r[5]}")


if __name__ == "__main__":
    main()
