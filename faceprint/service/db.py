"""One small database layer over SQLite (a file per store in the data dir) and PostgreSQL (shared).

    with db.read() as c:                 # a connection for reads (autocommit)
        c.execute("SELECT ... WHERE token=?", (tok,)).fetchone()
    with db.write() as c:                # one transaction; rolled back if the block raises
        c.executemany("INSERT ... VALUES (?,?)", rows)

Queries are written once, with SQLite's ``?`` placeholders; :class:`PostgresDb` turns them into
psycopg's ``%s``. The few dialect differences live in each module's :class:`Schema` (its DDL for
both) and here: SQLite writers queue on a process lock and take the file lock up front
(``BEGIN IMMEDIATE``); PostgreSQL connections come from a pool shared by every store of a node.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..sqlite_conn import Pragmas, ThreadConnections, checkpoint, immediate


@dataclass(frozen=True)
class Schema:
    """A module's tables: DDL for each dialect, and a version recorded in PostgreSQL.

    Statements must be idempotent (``IF NOT EXISTS``): a later version appends what it adds and
    every statement runs again on upgrade. ``file`` is the SQLite database in the data directory.
    """

    part: str
    version: int
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]
    file: str | None = None
    secure_delete: bool = False  # SQLite: zero deleted rows in place
    foreign_keys: bool = False  # SQLite: enforce REFERENCES (PostgreSQL always does)


class Db(ABC):
    dialect: str

    @abstractmethod
    def read(self) -> AbstractContextManager[Any]:
        """A connection for reads; each statement sees the latest committed data."""

    @abstractmethod
    def write(self) -> AbstractContextManager[Any]:
        """A connection inside one transaction: committed when the block ends, rolled back if it raises."""

    @abstractmethod
    def erase_freed(self, tables: Sequence[str]) -> None:
        """After deleting personal data: leave no copy of the deleted rows behind (as far as the engine allows)."""

    @abstractmethod
    def close(self) -> None: ...


class SqliteDb(Db):
    """WAL, one connection per thread, ``BEGIN IMMEDIATE`` writes queued on a process lock."""

    dialect = "sqlite"

    def __init__(self, path: Path, schema: Sequence[str] | Schema, *, secure_delete: bool = False) -> None:
        if isinstance(schema, Schema):
            statements, secure_delete, self._foreign_keys = schema.sqlite, schema.secure_delete, schema.foreign_keys
        else:
            statements, self._foreign_keys = tuple(schema), False
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conns = ThreadConnections(self.path, Pragmas(synchronous="NORMAL", secure_delete=secure_delete, foreign_keys=self._foreign_keys))
        # Writers of this process queue here rather than in SQLite's busy handler, which sleeps
        # in steps of up to 100 ms while another connection holds the write lock.
        self._write_lock = threading.Lock()
        with self.write() as c:
            for stmt in statements:
                c.execute(stmt)

    def conn(self) -> sqlite3.Connection:
        return self._conns.get()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        yield self.conn()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock, immediate(self.conn()) as c:
            yield c

    def erase_freed(self, tables: Sequence[str] = ()) -> None:
        self.checkpoint()

    def checkpoint(self) -> None:
        """Fold the WAL back and truncate it, so deleted rows leave no copy behind (busy: the next purge tries again)."""
        checkpoint(self.conn())

    def close(self) -> None:
        self._conns.close()


@functools.lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled). Our SQL has no ``?`` in literals."""
    return sql.replace("%", "%%").replace("?", "%s")


class PgConn:
    """A psycopg connection that takes the same ``?`` queries as sqlite3."""

    def __init__(self, conn: Any) -> None:
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(to_pyformat(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        cur = self.raw.cursor()
        rows = list(rows)
        if rows:
            cur.executemany(to_pyformat(sql), rows)
        return cur


@contextmanager
def _reachable() -> Iterator[None]:
    """A lost or unreachable server is SERVICE_STATE_ERROR (503), not a traceback."""
    import psycopg
    from psycopg_pool import PoolTimeout

    from .errors import ServiceStateError

    try:
        yield
    except (psycopg.OperationalError, PoolTimeout) as exc:
        raise ServiceStateError(f"PostgreSQL is unavailable: {type(exc).__name__}") from exc


class PostgresDb(Db):
    """Connections from a pool of autocommit connections that the node's state owns (closing this does not close it)."""

    dialect = "postgresql"

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    @contextmanager
    def read(self) -> Iterator[PgConn]:
        with _reachable(), self.pool.connection() as c:
            yield PgConn(c)

    @contextmanager
    def write(self) -> Iterator[PgConn]:
        with _reachable(), self.pool.connection() as c, c.transaction():
            yield PgConn(c)

    def erase_freed(self, tables: Sequence[str]) -> None:
        """Nothing to do here. PostgreSQL keeps a deleted row's bytes in its page until the space
        is reused, and neither VACUUM (which autovacuum runs anyway) nor anything short of a table
        rewrite zeroes them (bench/pg_erasure.py); the WAL keeps a copy until its segment is
        recycled. A rewrite of a shared table on every purge would lock out every node, so on
        PostgreSQL templates at rest rely on the cipher: set FACEPRINT_KEY and a deleted row's
        leftover bytes are ciphertext."""

    def close(self) -> None:
        pass
