"""Where a node keeps its service state (keys, rate limits, audit chain, liveness sessions).

Face tokens are not here: a detected face is a row of the gallery store (:mod:`.tokens`). The
state is chosen by the store URL, like the gallery store:

- ``sqlite:///...`` (the default): files in the node's data directory (``keys.db``,
  ``liveness.db``, ``audit.log``; ``service.db`` only while an older data directory's face tokens
  are moved out of it, :mod:`.legacy_tokens`); rate limits in memory.
- ``postgresql://...``: tables in the same PostgreSQL database as the galleries, so any number of
  stateless nodes share keys, liveness sessions, one audit chain and one token bucket per key.

Each module keeps its own DDL (a :class:`~faceprint.service.db.Schema`); PostgreSQL creates it under
an advisory lock, so nodes starting together do not race, and records its version.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ..redact import mask_url
from ..registry import SchemeRegistry
from . import audit_table, ratelimit
from .audit import Audit, AuditLog
from .db import Db, PostgresDb, Schema, SqliteDb
from .errors import ServiceStateError
from .ratelimit import Limiter, RateLimiter, SharedRateLimiter


def _scrub(text: str, url: str) -> str:
    """``text`` without the URL's password, should a driver message ever quote it."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparsable URL)"
    secrets = [parts.password or ""] + [v for k, vs in parse_qs(parts.query).items() if k == "password" for v in vs]
    for secret in filter(None, secrets):
        text = text.replace(secret, "***")
    return text


class ServiceState(ABC):
    """The databases a node's service state lives in; it owns their connections."""

    shared: bool  # True: every node on this store sees the same state

    @abstractmethod
    def db(self, schema: Schema) -> Db:
        """A database holding ``schema``'s tables, created if missing. Close it when done."""

    @abstractmethod
    def limiter(self) -> Limiter:
        """Per-key token buckets: in this process, or one row per key shared by every node."""

    @abstractmethod
    def audit(self, *, fsync: bool = False) -> Audit:
        """The audit chain: a file in the data dir, or a table every node appends to."""

    @abstractmethod
    def describe(self) -> str:
        """Where the state is, for a startup line (never a password)."""

    def close(self) -> None:  # noqa: B027 - optional: a state that holds nothing open keeps this
        pass


class LocalState(ServiceState):
    shared = False

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def db(self, schema: Schema) -> Db:
        if schema.file is None:
            raise ValueError(f"{schema.part} has no SQLite file")
        return SqliteDb(self.data_dir / schema.file, schema)

    def limiter(self) -> Limiter:
        return RateLimiter()

    def audit(self, *, fsync: bool = False) -> Audit:
        return AuditLog(self.data_dir, fsync=fsync)

    def describe(self) -> str:
        return f"files in {self.data_dir}"


_LOCK_KEY = 0x66705F7376635F73  # pg_advisory_xact_lock key for creating the service's tables ("fp_svc_s")
_VERSIONS = "CREATE TABLE IF NOT EXISTS service_schema(part TEXT PRIMARY KEY, version INTEGER NOT NULL)"


class PostgresState(ServiceState):
    shared = True

    def __init__(self, url: str, *, max_connections: int = 16, timeout_s: float = 10.0) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool, PoolTimeout

        self.url = url
        self._ready: set[str] = set()
        self._lock = threading.Lock()
        try:  # one plain connection first: an unreachable server or a wrong database fails now, with its reason
            psycopg.connect(url, connect_timeout=max(1, int(timeout_s))).close()
        except psycopg.Error as exc:
            reason = _scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, url)
            raise ServiceStateError(f"cannot connect to PostgreSQL at {mask_url(url)}: {reason}", store=mask_url(url)) from None
        self.pool = ConnectionPool(
            url, min_size=1, max_size=max_connections, kwargs={"autocommit": True}, timeout=timeout_s,
            name="faceprint-service", open=False, check=ConnectionPool.check_connection,  # replaces dropped connections
        )  # fmt: skip
        try:
            self.pool.open(wait=True, timeout=timeout_s)
        except PoolTimeout:
            self.pool.close()
            raise ServiceStateError(f"cannot connect to PostgreSQL at {mask_url(url)} within {timeout_s:g} s", store=mask_url(url)) from None

    def _create(self, schema: Schema) -> None:
        with self.pool.connection() as c, c.transaction():
            c.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            c.execute(_VERSIONS)
            row = c.execute("SELECT version FROM service_schema WHERE part=%s", (schema.part,)).fetchone()
            if row is not None and row[0] > schema.version:
                raise ServiceStateError(
                    f"the database holds {schema.part} version {row[0]}; this faceprint knows up to {schema.version}: upgrade it",
                    store=mask_url(self.url),
                )
            if row is None or row[0] < schema.version:
                for stmt in schema.postgresql:
                    c.execute(stmt)
                c.execute(
                    "INSERT INTO service_schema(part, version) VALUES (%s, %s)"
                    " ON CONFLICT (part) DO UPDATE SET version = EXCLUDED.version",
                    (schema.part, schema.version),
                )

    def db(self, schema: Schema) -> PostgresDb:
        with self._lock:
            if schema.part not in self._ready:
                self._create(schema)
                self._ready.add(schema.part)
        return PostgresDb(self.pool)

    def limiter(self) -> Limiter:
        return SharedRateLimiter(self.db(ratelimit.SHARED_SCHEMA))

    def audit(self, *, fsync: bool = False) -> Audit:  # a committed PostgreSQL transaction is durable: fsync is moot
        return audit_table.TableAudit(self.db(audit_table.SCHEMA))

    def describe(self) -> str:
        return f"PostgreSQL {mask_url(self.url)}"

    def close(self) -> None:
        self.pool.close()


Factory = Callable[[str, Path], ServiceState]
_STATES: SchemeRegistry[Factory] = SchemeRegistry(
    "store", "use sqlite:///path or postgresql://user@host/db", aliases={"postgres": "postgresql"}
)
register_state = _STATES.register
register_state("sqlite", lambda url, data_dir: LocalState(data_dir))
register_state("postgresql", lambda url, data_dir: PostgresState(url))


def open_state(store_url: str | None, data_dir: Path) -> ServiceState:
    """The state that goes with a gallery store URL; None: the data directory (SQLite)."""
    if not store_url:
        return LocalState(data_dir)
    return _STATES.factory(store_url)(store_url, data_dir)


def as_state(where: Path | ServiceState) -> ServiceState:
    """A state object from a data directory (SQLite files there) or one already opened."""
    return where if isinstance(where, ServiceState) else LocalState(Path(where))

