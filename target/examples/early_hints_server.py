#!/usr/bin/env python3
"""A graceful HTTP/1.1 server that sends interim responses, for gracecheck's
own tests: every 200 is preceded by `103 Early Hints` (RFC 8297), and the
slow endpoint sends two of them, the second one while it works.

    early_hints_server.py PORT

Endpoints: GET /healthz, GET /items/N, POST /items (answered 200 once the
body is read), GET /slow?ms=N (sleeps N ms between its hints); anything else
is 404 without hints. Keep-alive as HTTP/1.1 says. Listens on 127.0.0.1 only.

Shutdown on SIGTERM or SIGINT, as a graceful server should: take the
connections already in the accept queue, close the listener (stop
accepting), close each keep-alive connection the moment it is
idle, finish every request already read (answered with `Connection: close`),
wait for every connection's thread, exit 0. No database: it proves the
HTTP side only.

Python's standard library and raw sockets, on purpose: http.server cannot
send a 1xx before its final response in the same handler without writing
the status line by hand anyway, and a thread per connection is plenty for
the few hundred requests a second a test sends.
"""
import os
import selectors
import signal
import socket
import sys
import threading
import time

EARLY_HINTS = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n"
IDLE_POLL = 0.01  # how often an idle connection looks at the drain flag (s)
# A new connection's first request may still be on its way when the drain
# begins: like Go's Shutdown (which waits 5 s for a StateNew connection), it
# gets this long before it counts as idle.
NEW_CONNECTION_GRACE = 1.0

draining = threading.Event()


def respond(conn, status, body, close):
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nContent-Type: text/plain\r\n"
    if close:
        head += "Connection: close\r\n"
    conn.sendall(head.encode() + b"\r\n" + body)


def serve(conn, method, target, close):
    path, _, query = target.partition("?")
    if path == "/healthz" or (method == "GET" and path.startswith("/items/")) or (
            method == "POST" and path == "/items"):
        conn.sendall(EARLY_HINTS)
        respond(conn, "200 OK", b"ok\n", close)
    elif method == "GET" and path == "/slow":
        ms = 0
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            if key == "ms" and value.isdigit():
                ms = int(value)
        conn.sendall(EARLY_HINTS)
        time.sleep(ms / 2000)
        conn.sendall(EARLY_HINTS)
        time.sleep(ms / 2000)
        respond(conn, "200 OK", b"slow\n", close)
    else:
        respond(conn, "404 Not Found", b"not found\n", close)


def handle(conn):
    """One connection: requests in turn until the client or the drain ends it."""
    buf = b""
    accepted = time.monotonic()
    served = 0
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(IDLE_POLL)
        while True:
            # Idle (nothing of a next request read): close it once draining.
            # A request whose first bytes came in is served, even now.
            if not buf and draining.is_set() and (
                    served > 0 or time.monotonic() - accepted > NEW_CONNECTION_GRACE):
                return
            try:
                data = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            buf += data
            while b"\r\n\r\n" in buf:
                head, _, rest = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                parts = lines[0].split(" ")
                if len(parts) != 3:
                    return
                method, target, version = parts
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                conn.settimeout(None)
                while len(rest) < length:
                    more = conn.recv(65536)
                    if not more:
                        return
                    rest += more
                buf = rest[length:]
                close = (draining.is_set() or headers.get("connection", "").lower() == "close"
                         or version != "HTTP/1.1")
                try:
                    serve(conn, method, target, close)
                except OSError:
                    return
                served += 1
                if close:
                    return
                conn.settimeout(IDLE_POLL)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: early_hints_server.py PORT")
    port = int(sys.argv[1])
    wake_r, wake_w = socket.socketpair()
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno())
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)  # the wakeup fd does the work

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    print(f"early_hints_server: listening on 127.0.0.1:{port}", flush=True)

    workers = []

    def start(conn):
        t = threading.Thread(target=handle, args=(conn,), daemon=True)
        t.start()
        workers.append(t)

    while not draining.is_set():
        for key, _ in sel.select():
            if key.fileobj is wake_r:
                draining.set()
                break
            start(listener.accept()[0])
        workers[:] = [t for t in workers if t.is_alive()]
    # Connections the kernel completed before the signal are taken too:
    # closing the listener would reset them with their requests unread.
    listener.setblocking(False)
    while True:
        try:
            start(listener.accept()[0])
        except BlockingIOError:
            break
    listener.close()
    print("early_hints_server: stopped accepting; draining", flush=True)
    for t in workers:
        t.join()
    print("early_hints_server: drained; exit 0", flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
