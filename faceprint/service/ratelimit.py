"""Per-key token buckets: ``qps`` tokens a second, bursts up to ``max(1, qps)``.

:class:`RateLimiter` keeps the buckets in this process (one node). :class:`SharedRateLimiter` keeps
each key's bucket as one PostgreSQL row, refilled and spent by a single atomic statement on the
database's clock, so N nodes together allow the key's ``qps``, not N times it.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

from .db import PostgresDb, Schema
from .errors import ConcurrencyLimitExceeded


def _refused(qps: float) -> ConcurrencyLimitExceeded:
    return ConcurrencyLimitExceeded(f"rate limit of {qps:g} requests/s exceeded for this api_key")


class Limiter(ABC):
    @abstractmethod
    def check(self, key: str, qps: float) -> None:
        """Spend one token of ``key``'s bucket, or raise 403 CONCURRENCY_LIMIT_EXCEEDED."""


class TokenBucket:
    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self.tokens = burst
        self.stamp = clock()

    def refill(self) -> float:
        """The tokens there are now, after adding those earned since the last look."""
        now = self._clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return self.tokens

    def take(self) -> bool:
        if self.refill() >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class RateLimiter(Limiter):
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def check(self, key: str, qps: float) -> None:
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None or bucket.rate != qps:
                bucket = self._buckets[key] = TokenBucket(qps, max(1.0, qps), self._clock)
            ok = bucket.take()
        if not ok:
            raise _refused(qps)


SHARED_SCHEMA = Schema(
    "rate_buckets", 1, sqlite=(),
    postgresql=(
        """CREATE TABLE IF NOT EXISTS rate_buckets(
            api_key TEXT PRIMARY KEY,
            tokens DOUBLE PRECISION NOT NULL,
            stamp TIMESTAMPTZ NOT NULL)""",
    ),
)  # fmt: skip

# One statement: a new key starts with a full bucket less this request; a known key's bucket is
# refilled for the time since its stamp and spent, but only if that leaves it at 0 or more. A
# refused request changes nothing (its refill is counted by the next one). Concurrent statements
# on one key queue on the row lock and each sees the row the one before it left.
_TAKE = """
INSERT INTO rate_buckets AS b (api_key, tokens, stamp) VALUES (%(key)s, %(burst)s - 1, clock_timestamp())
ON CONFLICT (api_key) DO UPDATE
   SET tokens = LEAST(%(burst)s, b.tokens + %(rate)s * GREATEST(0, EXTRACT(EPOCH FROM clock_timestamp() - b.stamp)::float8)) - 1,
       stamp = GREATEST(b.stamp, clock_timestamp())
 WHERE LEAST(%(burst)s, b.tokens + %(rate)s * GREATEST(0, EXTRACT(EPOCH FROM clock_timestamp() - b.stamp)::float8)) >= 1
RETURNING tokens"""


class SharedRateLimiter(Limiter):
    def __init__(self, db: PostgresDb) -> None:
        self.db = db

    def check(self, key: str, qps: float) -> None:
        with self.db.read() as c:  # autocommit: the statement is its own transaction
            row = c.raw.execute(_TAKE, {"key": key, "rate": float(qps), "burst": max(1.0, float(qps))}).fetchone()
        if row is None:
            raise _refused(qps)
