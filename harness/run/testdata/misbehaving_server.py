#!/usr/bin/env python3
"""A target that misbehaves on purpose, for gracecheck's own tests.

    misbehaving_server.py MODE PORT

GET /healthz is answered properly (so that the target becomes ready); every
other request gets what MODE says:
  garbage  bytes that are not HTTP, then the connection is closed
  silent   nothing: the connection is held open, never answered
SIGTERM and SIGINT end it with exit 0. One thread, non-blocking sockets: it
holds thousands of silent connections without a thread each. Listens on
127.0.0.1 only.
"""
import selectors
import signal
import socket
import sys

mode, port = sys.argv[1], int(sys.argv[2])
if mode not in ("garbage", "silent"):
    sys.exit(f"misbehaving_server.py: unknown mode {mode!r}")
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))

sel = selectors.DefaultSelector()
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(1024)
listener.setblocking(False)
sel.register(listener, selectors.EVENT_READ)
buffers = {}
held = []
print(f"misbehaving_server: {mode} on 127.0.0.1:{port}", flush=True)

while True:
    for key, _ in sel.select():
        if key.fileobj is listener:
            try:
                conn, _ = listener.accept()
            except BlockingIOError:
                continue
            conn.setblocking(False)
            buffers[conn] = b""
            sel.register(conn, selectors.EVENT_READ)
            continue
        conn = key.fileobj
        try:
            data = conn.recv(65536)
        except BlockingIOError:
            continue
        except ConnectionError:
            data = b""
        buffers[conn] += data
        head = buffers[conn]
        if data and b"\r\n\r\n" not in head:
            continue
        sel.unregister(conn)
        del buffers[conn]
        if not data:
            conn.close()
        elif head.startswith(b"GET /healthz "):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            conn.close()
        elif mode == "garbage":
            try:
                conn.sendall(b"\x00\x01 this is not HTTP \xff\r\n\r\n")
            except OSError:
                pass
            conn.close()
        else:
            held.append(conn)
