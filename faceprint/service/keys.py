"""API keys: a public ``api_key``, a secret shown once and stored only as a salted scrypt hash.

Each key has scopes (``detect``, ``compare``, ``faceset:read``, ``faceset:write``, ``admin``, and the
operator's ``metrics``; no scope implies another), a rate (requests per second) and a tenant.
``admin`` is confined to its tenant; ``metrics`` reads ``/metrics``, whose figures span every tenant,
so only ``faceprint keys create`` (whoever holds the data directory) can grant it, never the API. A key made without ``--tenant`` is its
own tenant, so its facesets and face tokens are visible to it alone.

Checking scrypt costs ~40 ms of CPU, so after one successful check the service remembers an HMAC
of the secret under a per-process random key (never the secret itself); the key's row (revoked,
scopes, rate) is still read on every request, so a revocation takes effect at once. Every other
attempt (an unknown key, a revoked key, a wrong or not yet proven secret) first passes the
:class:`~faceprint.service.failures.FailureLimiter` (before the key is looked up, so what it
decides cannot depend on the key's state), then reads the key's row and does the same scrypt
against its stored hash (or a dummy one), and fails with the same code and message: a revoked key
and an unknown key cannot be told from a wrong secret, by the answer or by its time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BadInput
from .db import Schema
from .errors import AuthenticationError
from .failures import FailureLimiter
from .state import ServiceState, as_state

SCOPES = ("detect", "compare", "faceset:read", "faceset:write", "admin", "metrics")
OPERATOR_SCOPES = ("metrics",)  # granted by the CLI only: they see across tenants
KEYS_DB = "keys.db"
_N, _R, _P = 2**14, 8, 1

_TABLE = """CREATE TABLE IF NOT EXISTS api_keys(
        api_key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        tenant TEXT NOT NULL,
        scopes TEXT NOT NULL,
        qps {real} NOT NULL,
        secret_hash TEXT NOT NULL,
        created {real} NOT NULL,
        revoked {real})"""
SCHEMA = Schema("api_keys", 1, sqlite=(_TABLE.format(real="REAL"),), postgresql=(_TABLE.format(real="DOUBLE PRECISION"),), file=KEYS_DB)


@dataclass(frozen=True)
class ApiKey:
    api_key: str
    name: str
    tenant: str
    scopes: tuple[str, ...]
    qps: float
    created: float
    revoked: float | None = None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    def to_dict(self) -> dict[str, object]:
        return {
            "api_key": self.api_key, "name": self.name, "tenant": self.tenant, "scopes": list(self.scopes),
            "qps": self.qps, "created": self.created, "revoked": self.revoked,
        }  # fmt: skip


@dataclass(frozen=True)
class Attempt:
    """A login admitted past the failure limit (or proven before), not yet checked against the key store."""

    api_key: str
    api_secret: str = field(repr=False)
    address: str
    mac: bytes = field(repr=False)
    proven: bool


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_secret(secret: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            secret.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(base64.b64decode(digest))
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def parse_scopes(text: str) -> tuple[str, ...]:
    scopes = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise BadInput(f"unknown scope(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(SCOPES)}")
    return scopes


def _row(r: tuple[Any, ...]) -> ApiKey:
    return ApiKey(r[0], r[1], r[2], tuple(r[3].split(",")), r[4], r[6], r[7])


class KeyStore:
    def __init__(self, where: Path | ServiceState, failures: FailureLimiter | None = None) -> None:
        """``where``: a data directory (``keys.db`` there) or the node's service state."""
        self.db = as_state(where).db(SCHEMA)
        self.failures = failures or FailureLimiter()
        self._pepper = secrets.token_bytes(32)
        self._verified: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.db.close()

    def create(self, name: str, scopes: tuple[str, ...], qps: float, tenant: str | None = None) -> tuple[ApiKey, str]:
        """A new key and its secret; the secret is not kept anywhere, so show it now or never."""
        if qps <= 0:
            raise BadInput("qps must be positive")
        api_key = "fpk_" + secrets.token_urlsafe(18)
        secret = secrets.token_urlsafe(32)
        key = ApiKey(api_key, name, tenant or api_key, scopes, float(qps), time.time())
        with self.db.write() as c:
            c.execute(
                "INSERT INTO api_keys VALUES (?,?,?,?,?,?,?,NULL)",
                (key.api_key, key.name, key.tenant, ",".join(scopes), key.qps, hash_secret(secret), key.created),
            )
        return key, secret

    def list(self) -> list[ApiKey]:
        with self.db.read() as c:
            rows = c.execute("SELECT * FROM api_keys ORDER BY created").fetchall()
        return [_row(r) for r in rows]

    def revoke(self, api_key: str) -> bool:
        with self.db.write() as c:
            n = c.execute("UPDATE api_keys SET revoked=? WHERE api_key=? AND revoked IS NULL", (time.time(), api_key)).rowcount
        return bool(n > 0)

    def authenticate(self, api_key: str, api_secret: str, address: str = "") -> ApiKey:
        """The key, if it exists, is not revoked and the secret matches; else AUTHENTICATION_ERROR.

        ``address`` is the client's (for the failure limit); a refused flood gets AUTHENTICATION_RATE_LIMITED.
        """
        return self.finish(self.admit(api_key, api_secret, address))

    def admit(self, api_key: str, api_secret: str, address: str = "") -> Attempt:
        """The first half of :meth:`authenticate`, with no I/O (the service calls it on its event loop).

        An HMAC of the secret, and for a secret not proven before, the failure limit: its tokens are
        taken now (so concurrent attempts cannot all slip past while their scrypts run), or the attempt
        is refused with AUTHENTICATION_RATE_LIMITED, before the key is even looked up, so neither the
        answer nor its cost can depend on whether the key exists or was revoked.
        """
        mac = hmac.new(self._pepper, api_secret.encode(), hashlib.sha256).digest()
        with self._lock:
            known = self._verified.get(api_key)
        proven = known is not None and hmac.compare_digest(known, mac)
        if not proven:
            self.failures.begin(api_key, address)
        return Attempt(api_key, api_secret, address, mac, proven)

    def finish(self, attempt: Attempt) -> ApiKey:
        """The second half: read the key's row; for an unproven secret, one scrypt against its hash (or a dummy)."""
        api_key, address = attempt.api_key, attempt.address
        row = self._read(api_key)
        live = row is not None and row[7] is None
        if attempt.proven:
            if row is not None and live:
                return _row(row)  # proven before: an HMAC and the row (revocation at once), no scrypt, no limit
            with self._lock:
                self._verified.pop(api_key, None)  # revoked (or deleted): from now on it fails like anything else
            self.failures.begin(api_key, address)
        ok = check_secret(attempt.api_secret, row[5] if row is not None else _DUMMY)  # the same work whatever the key's state
        if not (ok and row is not None and live):
            raise AuthenticationError("api_key and api_secret do not match")
        self.failures.succeeded(api_key, address)
        with self._lock:
            self._verified[api_key] = attempt.mac
        return _row(row)

    def _read(self, api_key: str) -> tuple[Any, ...] | None:
        with self.db.read() as c:
            row: tuple[Any, ...] | None = c.execute("SELECT * FROM api_keys WHERE api_key=?", (api_key,)).fetchone()
        return row


_DUMMY = hash_secret("not a secret", b"0123456789abcdef")
