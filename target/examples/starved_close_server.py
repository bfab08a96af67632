#!/usr/bin/env python3
"""A keep-alive HTTP/1.1 server whose idle close is late because it is kept
off its CPU, for gracecheck's own tests (the keep-alive race on a starved
machine).

    starved_close_server.py PORT [--held]

Serves `GET /` (200, keep-alive) and `GET /healthz` on 127.0.0.1, one
thread, one connection at a time. It pins itself to one CPU, and starts a
helper process pinned to the same CPU at SCHED_FIFO priority 1 that waits on
a pipe (it needs the right to SCHED_FIFO: root, or CAP_SYS_NICE). The CPU
is the machine's last; run gracecheck on the others (`taskset -c 0`), or
its probes may be starved with the server.

On SIGTERM it closes its listener and waits for the next request on a
keep-alive connection. When its bytes are in:
  (default) it wakes the helper, which spins for 40 ms and takes the CPU
            from the server before it closes the connection; the server
            then closes it with the request unread (Linux sends a reset).
            That is the keep-alive race: the server judged the connection
            idle, it never took the request. Its close is 40 ms late only
            because it waited for a CPU.
  --held    it reads the request, sleeps 40 ms (no CPU wanted) and resets
            the connection (SO_LINGER 0): a request taken and dropped.
Either way it exits 0 200 ms later (a server closes its idle connections
first and exits once the rest is drained).
"""
import os
import selectors
import signal
import socket
import struct
import sys
import time

HOG_MS = 40


def start_hog(cpu):
    """The helper: SCHED_FIFO on `cpu`, spins HOG_MS once woken."""
    wake_r, wake_w = os.pipe()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(wake_w)
        os.close(ready_r)
        try:
            os.sched_setaffinity(0, {cpu})
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
            os.write(ready_w, b"y")
        except OSError as e:
            os.write(ready_w, b"n" + str(e).encode())
            os._exit(1)
        if os.read(wake_r, 1):
            until = time.monotonic() + HOG_MS / 1000
            while time.monotonic() < until:
                pass
        os._exit(0)
    os.close(wake_r)
    os.close(ready_w)
    answer = os.read(ready_r, 200)
    os.close(ready_r)
    if answer != b"y":
        sys.exit(f"starved_close_server: no SCHED_FIFO helper: {answer[1:].decode()}")
    return pid, wake_w


def respond(conn, body=b"ok\n"):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: text/plain\r\n\r\n%s"
                 % (len(body), body))


def main():
    port = int(sys.argv[1])
    held = "--held" in sys.argv[2:]
    # The machine's last CPU, whatever this process inherited: a test runs
    # gracecheck on the others (taskset -c 0), so that its probes are not
    # starved by the helper too (then nothing can say where the wait lay).
    cpu = (os.cpu_count() or 1) - 1
    if cpu < 1:
        sys.exit("starved_close_server: needs two CPUs")
    os.sched_setaffinity(0, {cpu})
    hog, wake = start_hog(cpu)

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    buffers = {}
    while True:
        if stopping and listener is not None:
            sel.unregister(listener)
            listener.close()
            listener = None
        for key, _ in sel.select(timeout=0.005):
            sock = key.fileobj
            if sock is listener:
                conn, _ = listener.accept()
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                buffers[conn] = b""
                sel.register(conn, selectors.EVENT_READ)
                continue
            if stopping and not held:
                if listener is not None:
                    listener.close()  # stop accepting first
                os.write(wake, b"x")  # the helper takes the CPU here
                for conn in list(buffers):
                    conn.close()  # with the request unread: a reset
                buffers.clear()
                time.sleep(0.2)
                os.waitpid(hog, 0)
                return 0
            data = sock.recv(65536)
            if not data:
                sel.unregister(sock)
                sock.close()
                del buffers[sock]
                continue
            buffers[sock] += data
            while b"\r\n\r\n" in buffers[sock]:
                head, _, rest = buffers[sock].partition(b"\r\n\r\n")
                buffers[sock] = rest
                if stopping:  # --held: taken, then dropped
                    if listener is not None:
                        listener.close()
                    time.sleep(HOG_MS / 1000)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.close()
                    time.sleep(0.2)
                    os.close(wake)
                    os.waitpid(hog, 0)
                    return 0
                respond(sock)


if __name__ == "__main__":
    sys.exit(main())
