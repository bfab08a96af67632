#!/usr/bin/env python3
"""A pre-fork HTTP server (a master forking workers that share its
listener, as gunicorn, uvicorn --workers and PHP-FPM do), for gracecheck's
own tests of the process-tree checks. No database.

    prefork_server.py PORT [--workers N] [--bug NAME]... [--helper-leaves MS]
                      [--late-worker MS]

The master binds 127.0.0.1:PORT, forks N workers (default 2) and waits.
Each worker serves HTTP/1.0 (one request per connection) with a thread per
connection: `GET /` answers 200 after 2 ms, `GET /healthz` 200 at once.

Shutdown (correct): on SIGTERM the master forwards it to every worker and
waits for them; a worker stops accepting, finishes its requests in flight
and exits 0; the master then exits 0.

  --bug leak-threads   each worker starts a thread per request that never
                       ends (1 -> 92 threads per worker after 200 requests,
                       as seen on a real server); the master does not.
  --bug orphan-helper  the master starts a helper process that outlives it.
  --helper-leaves MS   the master starts a helper that exits by itself MS
                       ms after the master did (its cue: the pipe from the
                       master closes), as Python's multiprocessing resource
                       tracker does 8-11 ms after a uvicorn supervisor.
  --late-worker MS     the last worker is forked MS ms after the others,
                       once the first already answers (gunicorn's arbiter
                       spawns its workers one after another, and each
                       boots in its own time): the tree is still growing
                       at the readiness. Not a bug: gracecheck waits for
                       the tree to settle before its baseline.
"""
import faulthandler
import os
import select
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LEAKED = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    leak = False
    # A connection that sends nothing is closed after this long: a worker
    # draining at SIGTERM joins its connections' threads, and one that
    # waited for a request that never comes would hold the exit for ever
    # (a client may open a connection and not use it; real servers have a
    # read timeout for this). Without it the server hung at SIGTERM in 1 of
    # 50 runs.
    timeout = 0.25

    def do_GET(self):
        if self.path != "/healthz":
            time.sleep(0.002)
            if Handler.leak:
                t = threading.Thread(target=time.sleep, args=(3600,), daemon=True)
                t.start()
                LEAKED.append(t)
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def worker(server):
    # SIGTERM: stop accepting (serve_forever returns), then the requests in
    # flight finish (server_close joins their threads), then exit 0.
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    loop = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    loop.start()
    # Python runs signal handlers on the main thread only, and the kernel may
    # deliver the signal to another one (the accept loop's): a wait with no
    # timeout could then never wake.
    while not stopping.wait(0.01):
        pass
    # The drain is bounded, as a real server's is (Go's Shutdown with a
    # context deadline): a worker exits 1 s after the signal at the latest.
    # (A drain that never ended still hung 1 run in 50; not diagnosed.)
    drained = threading.Event()

    def drain():
        server.shutdown()
        loop.join()
        server.server_close()
        drained.set()

    threading.Thread(target=drain, daemon=True).start()
    if not drained.wait(1.0):
        print("prefork_server.py: the drain did not end within 1s; where it was:",
              file=sys.stderr, flush=True)
        faulthandler.dump_traceback(all_threads=True)
    os._exit(0)


def helper(leave_ms, cue):
    """Waits for the master's end (EOF on `cue`), then leaves after
    `leave_ms` (None: never)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        select.select([cue], [], [])
        if os.read(cue, 1) == b"":
            break
    if leave_ms is None:
        while True:
            time.sleep(3600)
    time.sleep(leave_ms / 1000)
    os._exit(0)


def main():
    args = sys.argv[1:]
    port = int(args.pop(0))
    workers = 2
    bugs = set()
    helper_leaves = None
    late_worker_ms = None
    while args:
        flag = args.pop(0)
        if flag == "--workers":
            workers = int(args.pop(0))
        elif flag == "--bug":
            bugs.add(args.pop(0))
        elif flag == "--helper-leaves":
            helper_leaves = int(args.pop(0))
        elif flag == "--late-worker":
            late_worker_ms = int(args.pop(0))
        else:
            sys.exit(f"prefork_server.py: unknown flag {flag}")
    Handler.leak = "leak-threads" in bugs

    if "orphan-helper" in bugs or helper_leaves is not None:
        cue_r, cue_w = os.pipe()
        if os.fork() == 0:
            os.close(cue_w)
            helper(helper_leaves, cue_r)
        os.close(cue_r)  # cue_w stays open in the master until it exits

    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    # Non-blocking, as every pre-fork server's listener must be: each
    # worker's select() wakes for one connection, one accept() wins, and a
    # blocking accept() in the others would wait for the next connection,
    # past a SIGTERM, for ever (it did here: 7 of 20 runs hung).
    server.socket.setblocking(False)
    children = []

    def fork_worker():
        pid = os.fork()
        if pid == 0:
            worker(server)
        children.append(pid)

    for _ in range(workers - (1 if late_worker_ms is not None else 0)):
        fork_worker()

    def forward(signum, _frame):
        # The listener first (as gunicorn's arbiter does): a connection the
        # workers will no longer accept must be refused now, not reset when
        # the last copy of the socket closes.
        server.socket.close()
        for pid in children:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    if late_worker_ms is not None:
        time.sleep(late_worker_ms / 1000)
        fork_worker()
    status = 0
    for pid in children:
        while True:
            try:
                _, code = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
        if code != 0:
            status = 1
    sys.exit(status)


if __name__ == "__main__":
    main()
