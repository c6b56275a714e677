"""Failed logins, counted per ``api_key`` and per client address, so a flood is refused cheaply.

A login whose secret is not already proven (see :class:`~faceprint.service.keys.KeyStore`) costs
one scrypt, about 40 ms of CPU. Each failure spends a token from three buckets: one for the api_key
named (known or not: an unknown key must look like a known one), one for the client address and
one for the whole process (which bounds the scrypt work a flood from many addresses can cause). An
attempt that finds any of them empty is refused with 429 AUTHENTICATION_RATE_LIMITED before any
scrypt runs, and before the key is even looked up (:meth:`~faceprint.service.keys.KeyStore.admit`):
the decision rests on the key's name and the address, never on whether the key exists or was revoked. The token is taken when the attempt starts (so concurrent attempts cannot all slip
past one check while their scrypts run) and given back if the secret turns out right, so only
failures count. A key whose secret this process has already verified is never refused here: its
client's requests cost an HMAC, not a scrypt, so a flood against the key cannot lock it out.

Buckets live in this process (per node) and at most ``max_tracked`` of each kind are kept, least
recently failed first out, so random key names cannot grow memory without bound.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from .errors import AuthenticationThrottled
from .ratelimit import TokenBucket


@dataclass(frozen=True)
class FailurePolicy:
    per_key_burst: float = 5.0  # failures a key name may collect at once...
    per_key_rate: float = 0.1  # ...then one every 10 s
    per_address_burst: float = 10.0  # failures a client address may collect at once...
    per_address_rate: float = 0.2  # ...then one every 5 s
    process_burst: float = 10.0  # failures the whole process takes at once...
    process_rate: float = 4.0  # ...then 4 a second (at most ~16% of a core spent on failed scrypts)
    max_tracked: int = 50_000  # buckets kept per kind


class _Buckets:
    def __init__(self, rate: float, burst: float, cap: int, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self.cap, self.clock = rate, burst, cap, clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def empty(self, name: str) -> bool:
        bucket = self._buckets.get(name)
        return bucket is not None and bucket.refill() < 1.0

    def spend(self, name: str) -> None:
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = self._buckets[name] = TokenBucket(self.rate, self.burst, self.clock)
            while len(self._buckets) > self.cap:
                self._buckets.popitem(last=False)
        self._buckets.move_to_end(name)
        bucket.take()

    def refund(self, name: str) -> None:
        bucket = self._buckets.get(name)
        if bucket is not None:
            bucket.tokens = min(bucket.burst, bucket.tokens + 1.0)


class FailureLimiter:
    def __init__(self, policy: FailurePolicy | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        p = self.policy = policy or FailurePolicy()
        self._keys = _Buckets(p.per_key_rate, p.per_key_burst, p.max_tracked, clock)
        self._addresses = _Buckets(p.per_address_rate, p.per_address_burst, p.max_tracked, clock)
        self._process = _Buckets(p.process_rate, p.process_burst, 1, clock)
        self._lock = threading.Lock()

    def _buckets_of(self, api_key: str, address: str) -> list[tuple[_Buckets, str]]:
        out = [(self._keys, api_key), (self._process, "")]
        return [*out, (self._addresses, address)] if address else out

    def begin(self, api_key: str, address: str) -> None:
        """Take a token from each bucket of this attempt, or raise 429 AUTHENTICATION_RATE_LIMITED (taking none)."""
        with self._lock:
            mine = self._buckets_of(api_key, address)
            if any(kind.empty(name) for kind, name in mine):
                refused = True
            else:
                refused = False
                for kind, name in mine:
                    kind.spend(name)
        if refused:
            raise AuthenticationThrottled("too many failed logins for this api_key or from this address; wait and retry")

    def succeeded(self, api_key: str, address: str) -> None:
        """The attempt begun was a right secret: its tokens go back."""
        with self._lock:
            for kind, name in self._buckets_of(api_key, address):
                kind.refund(name)
