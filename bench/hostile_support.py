"""What bench/hostile.py measures each attack with: a row of results, the server under attack, a drip-feeding peer."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.hostile.support import percentile, watched
from tests.service.support import Server


@dataclass
class Row:
    attack: str
    requests: int = 0
    http_5xx: int = 0
    crashes: int = 0
    peak_rss_increase_mb: float = 0.0
    health_p50_ms: float = 0.0
    health_p99_ms: float = 0.0
    health_samples: int = 0  # /health calls timed during the attack (one every 50 ms)
    codes: dict[str, int] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    notes: str = ""

    def count(self, code: str) -> None:
        self.codes[code] = self.codes.get(code, 0) + 1


class Target:
    """The server under attack; restarted (and the crash counted) if an attack kills it."""

    def __init__(self, data: Path, env: dict[str, str], flags: tuple[str, ...]) -> None:
        self.data, self.env, self.flags = data, env, flags
        self.server = Server(data, *flags, env=env)

    def ensure_alive(self, row: Row) -> None:
        if self.server.proc.poll() is not None:
            row.crashes += 1
            self.server = Server(self.data, *self.flags, env=self.env)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, timeout=120)


def code_of(r: httpx.Response) -> str:
    try:
        return str(r.json().get("error_message", "OK")).split(":")[0]
    except ValueError:
        return f"HTTP_{r.status_code}"


def attack(target: Target, row: Row, run: Callable[[], None]) -> Row:
    t0 = time.perf_counter()
    with watched(target.server.proc.pid, target.server.url + "/health") as w:
        try:
            run()
        finally:
            target.ensure_alive(row)
    row.peak_rss_increase_mb = round(w.peak_increase_mb, 1)
    row.health_p50_ms = round(percentile(w.health_ms, 50), 1)
    row.health_p99_ms = round(percentile(w.health_ms, 99), 1)
    row.health_samples = len(w.health_ms)
    row.notes = (row.notes + f" {time.perf_counter() - t0:.1f} s").strip()
    return row


def tally(row: Row, r: httpx.Response) -> None:
    row.requests += 1
    row.http_5xx += r.status_code >= 500
    row.count(code_of(r))


def drip_server() -> tuple[int, threading.Event]:
    """A loopback peer that answers any request with one byte every 3 s, for ever (until stopped)."""
    stop = threading.Event()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.5)

    def serve(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(4096)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n"
                )
                while not stop.wait(3.0):
                    conn.sendall(b"\xff")
            except OSError:
                return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
        sock.close()

    threading.Thread(target=accept, daemon=True).start()
    return sock.getsockname()[1], stop
