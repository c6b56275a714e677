"""Per-key token buckets: ``qps`` tokens a second, bursts up to ``max(1, qps)``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .errors import ConcurrencyLimitExceeded


class TokenBucket:
    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self.tokens = burst
        self.stamp = clock()

    def take(self) -> bool:
        now = self._clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def check(self, key: str, qps: float) -> None:
        """Spend one token of ``key``'s bucket, or raise 403 CONCURRENCY_LIMIT_EXCEEDED."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None or bucket.rate != qps:
                bucket = self._buckets[key] = TokenBucket(qps, max(1.0, qps), self._clock)
            ok = bucket.take()
        if not ok:
            raise ConcurrencyLimitExceeded(f"rate limit of {qps:g} requests/s exceeded for this api_key")
