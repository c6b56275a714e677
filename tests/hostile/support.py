"""A real ``faceprint serve`` watched from outside: its RSS sampled by psutil while an attack runs."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import psutil

MB = 1 << 20
BUDGET_MB = 512  # FACEPRINT_DECODE_BUDGET_MB the hostile servers run with (the documented default)
# What a burst of big images costs beyond the decode budget, a fixed amount however many requests
# are in flight: the detector's batch of resized inputs and its runtime's scratch buffers (grown
# once, for the largest batch), the uploads themselves (130 KB each) and the heap's fragmentation.
ALLOWANCE_MB = 64


@dataclass
class Watch:
    """Peak RSS of a process (children excluded: the video decoders are meant to take the blow)."""

    pid: int
    start: int = 0
    peak: int = 0
    health_ms: list[float] = field(default_factory=list)

    @property
    def peak_increase_mb(self) -> float:
        return (self.peak - self.start) / MB


def rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


@contextmanager
def watched(
    pid: int, health_url: str | None = None, every_s: float = 0.02
) -> Iterator[Watch]:
    """Sample ``pid``'s RSS (and ``/health`` latency, when given a URL) until the block ends."""
    w = Watch(pid, start=rss(pid))
    w.peak = w.start
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                w.peak = max(w.peak, rss(pid))
            except psutil.NoSuchProcess:
                return
            time.sleep(every_s)

    def probe() -> None:
        assert health_url is not None
        with httpx.Client(timeout=10) as c:
            while not stop.is_set():
                t = time.perf_counter()
                with contextlib.suppress(httpx.HTTPError):  # a refused probe is timed too
                    c.get(health_url)
                w.health_ms.append((time.perf_counter() - t) * 1000)
                time.sleep(0.05)

    threads = [threading.Thread(target=sample, daemon=True)]
    if health_url:
        threads.append(threading.Thread(target=probe, daemon=True))
    for t in threads:
        t.start()
    try:
        yield w
    finally:
        stop.set()
        for t in threads:
            t.join()
        if psutil.pid_exists(pid):  # an attack that kills the server (kill -9 on purpose) leaves no process
            w.peak = max(w.peak, rss(pid))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]
