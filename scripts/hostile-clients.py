#!/usr/bin/env python3
"""Hostile clients against a running `thumbnail serve`, while legitimate requests are timed.

Loopback only, bounded in sockets and time, stops by itself. Three attacks at once:

- slowloris: sockets that send half a request line and then a header line every few seconds,
  never finishing their headers;
- trickle: full headers of `POST /thumbnail` with a large Content-Length, then one body byte
  every few seconds;
- idle: sockets that connect and send nothing;
- rebind: what a web page does through DNS rebinding: `PUT /images/...` under a foreign
  `Host` with a 50 MB body sent as fast as the server takes it (a few at a time, in a loop).
  Each must get a 421 without its body being read, and nothing may be stored.

Meanwhile a client posts a real photo to `POST /thumbnail` (two at a time) and asks
`GET /healthz`, timing each. At the end it prints one JSON object: legitimate requests served,
their p50/p99, how many attack sockets the server still holds, and the server's RSS.

    scripts/hostile-clients.py --port 8080 --pid 1234 --photo photo.jpg --seconds 30
"""

import argparse
import json
import select
import socket
import statistics
import threading
import time

HOST = "127.0.0.1"


def rss_mib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid):
    """User + system CPU time of the process so far (USER_HZ is 100 on Linux)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


def open_sockets(pid):
    """Sockets the process has open now."""
    import os
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return n


def connect(port, timeout=3.0):
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.settimeout(0.2)
    return s


def count_held(sockets):
    """How many of `sockets` the server still holds open (no FIN or RST seen within 0.5 s)."""
    poller = select.poll()
    by_fd = {}
    for s in sockets:
        try:
            poller.register(s, select.POLLIN | select.POLLHUP | select.POLLERR)
            by_fd[s.fileno()] = s
        except (OSError, ValueError):
            pass
    closed = set()
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        for fd, _ in poller.poll(100):
            s = by_fd[fd]
            try:
                s.setblocking(False)
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data == b"":
                closed.add(fd)
                poller.unregister(fd)
    return len(by_fd) - len(closed)


class Attack:
    def __init__(self, port, kind, count, pause, stop):
        self.port, self.kind, self.count, self.pause, self.stop = port, kind, count, pause, stop
        self.sockets = []
        self.refused = 0

    def open(self):
        for _ in range(self.count):
            if self.stop.is_set():
                return
            try:
                s = connect(self.port)
            except OSError:
                self.refused += 1
                continue
            try:
                if self.kind == "slowloris":
                    s.sendall(b"POST /thumbnail HTTP/1.1\r\nHost: localhost\r\n")
                elif self.kind == "trickle":
                    s.sendall(
                        b"POST /thumbnail HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n"
                    )
            except OSError:
                self.refused += 1
                continue
            self.sockets.append(s)

    def run(self):
        self.open()
        while not self.stop.wait(self.pause):
            for s in self.sockets:
                try:
                    if self.kind == "slowloris":
                        s.sendall(b"X-a: b\r\n")
                    elif self.kind == "trickle":
                        s.sendall(b"x")
                except OSError:
                    pass

    def close(self):
        for s in self.sockets:
            try:
                s.close()
            except OSError:
                pass


class Rebind:
    """PUTs under a foreign Host, bodies pushed as fast as the server takes them."""

    def __init__(self, port, stop):
        self.port, self.stop = port, stop
        self.answers = {}
        self.most_sent = 0
        self.lock = threading.Lock()

    def one(self, n):
        body = b"\xff" * (1 << 20)
        head = (f"PUT /images/rebind-{n}.jpg HTTP/1.1\r\nHost: attacker.example:80\r\n"
                "Content-Length: 50000000\r\n\r\n").encode()
        sent, answer = 0, b""
        try:
            s = socket.create_connection((HOST, self.port), timeout=5)
            s.sendall(head)
            s.setblocking(False)
            deadline = time.monotonic() + 10
            while sent < 50_000_000 and time.monotonic() < deadline and not answer:
                _, writable, _ = select.select([], [s], [], 0.2)
                try:
                    answer = s.recv(4096)
                    if answer == b"":
                        break
                except BlockingIOError:
                    pass
                if writable and not answer:
                    try:
                        sent += s.send(body)
                    except BlockingIOError:
                        pass
            s.close()
        except OSError:
            pass
        status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "closed"
        with self.lock:
            self.answers[status] = self.answers.get(status, 0) + 1
            self.most_sent = max(self.most_sent, sent)

    def run(self):
        n = 0
        while not self.stop.is_set():
            batch = [threading.Thread(target=self.one, args=(n + i,)) for i in range(4)]
            n += 4
            for t in batch:
                t.start()
            for t in batch:
                t.join()


def request(port, method, path, body=b"", timeout=10.0):
    """One request on its own connection; returns (status or None, seconds, error code)."""
    start = time.monotonic()
    try:
        s = socket.create_connection((HOST, port), timeout=timeout)
        s.settimeout(timeout)
        head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        head += f"Content-Length: {len(body)}\r\n\r\n"
        s.sendall(head.encode() + body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else None
        code = None
        if b'"error":"' in data:
            code = data.split(b'"error":"', 1)[1].split(b'"', 1)[0].decode()
    except (OSError, ValueError, IndexError):
        status, code = None, "connection failed"
    return status, time.monotonic() - start, code


def legit(port, photo, stop, out, t0):
    while not stop.is_set():
        status, secs, code = request(port, "POST", "/thumbnail", photo)
        out.append(("thumbnail", status, secs, code, time.monotonic() - t0))
        if status != 200:
            time.sleep(0.01)  # a real client backs off a little


def health(port, stop, out, t0):
    while not stop.wait(0.5):
        status, secs, code = request(port, "GET", "/healthz", timeout=5.0)
        out.append(("healthz", status, secs, code, time.monotonic() - t0))


def pct(values, p):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p))] * 1000, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--photo", required=True)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--slowloris", type=int, default=200)
    ap.add_argument("--trickle", type=int, default=70)
    ap.add_argument("--idle", type=int, default=300)
    ap.add_argument("--pause", type=float, default=5.0)
    a = ap.parse_args()
    seconds = min(a.seconds, 120)
    photo = open(a.photo, "rb").read()
    stop = threading.Event()
    attacks = [
        Attack(a.port, "slowloris", min(a.slowloris, 500), a.pause, stop),
        Attack(a.port, "trickle", min(a.trickle, 500), a.pause, stop),
        Attack(a.port, "idle", min(a.idle, 1000), a.pause, stop),
    ]
    results = []
    rebind = Rebind(a.port, stop)
    threads = [threading.Thread(target=t.run, daemon=True) for t in attacks + [rebind]]
    for t in threads:
        t.start()
    time.sleep(2)  # let the attack sockets connect first
    t0 = time.monotonic()
    workers = [threading.Thread(target=legit, args=(a.port, photo, stop, results, t0),
                                daemon=True) for _ in range(2)]
    workers.append(threading.Thread(target=health, args=(a.port, stop, results, t0),
                                    daemon=True))
    for w in workers:
        w.start()
    peak, peak_sockets = 0.0, 0
    cpu_start = cpu_seconds(a.pid)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        peak = max(peak, rss_mib(a.pid, "VmRSS"))
        peak_sockets = max(peak_sockets, open_sockets(a.pid))
        time.sleep(0.5)
    cpu = cpu_seconds(a.pid) - cpu_start
    held = {t.kind: count_held(t.sockets) for t in attacks}
    opened = {t.kind: len(t.sockets) for t in attacks}
    stop.set()
    for w in workers:
        w.join(timeout=15)
    for t in attacks:
        t.close()
    thumbs = [r for r in results if r[0] == "thumbnail"]
    ok = [r for r in thumbs if r[1] == 200]
    healthz = [r for r in results if r[0] == "healthz"]
    print(json.dumps({
        "seconds": seconds,
        "legit_requests": len(thumbs),
        "legit_served_200": len(ok),
        "legit_answers": {f"{s} {c or ''}".strip(): sum(1 for r in thumbs if (r[1], r[3]) == (s, c))
                          for (s, c) in sorted({(r[1], r[3]) for r in thumbs}, key=str)},
        "seconds_with_a_legit_200": len({int(r[4]) for r in ok}),
        "legit_p50_ms": pct([r[2] for r in ok], 0.5),
        "legit_p99_ms": pct([r[2] for r in ok], 0.99),
        "healthz_ok": sum(1 for r in healthz if r[1] == 200),
        "healthz_asked": len(healthz),
        "attack_sockets_opened": opened,
        "attack_sockets_held_at_end": held,
        "server_peak_rss_mib": round(peak, 1),
        "server_peak_open_sockets": peak_sockets,
        "server_cpu_seconds": round(cpu, 1),
        "rebind_answers": rebind.answers,
        "rebind_most_body_bytes_sent": rebind.most_sent,
    }, indent=1))


if __name__ == "__main__":
    main()
