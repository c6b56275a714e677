"""SQLite connections as every faceprint database opens them: the gallery store, the service's ``Db``, sessions.

    conns = ThreadConnections(path, Pragmas(synchronous="FULL", secure_delete=True))
    with immediate(conns.get()) as c:    # one write transaction, the file's write lock taken up front
        c.execute("INSERT ...")
    conns.close()

Connections are autocommit (``isolation_level=None``) in WAL mode; a write transaction is explicit
(``BEGIN IMMEDIATE``), so a writer waits for the lock before it reads what it will change.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pragmas:
    """How a connection is opened: ``synchronous=FULL`` acknowledges a write only once its WAL frames
    are on disk; ``secure_delete`` zeroes deleted rows in place; ``foreign_keys`` enforces REFERENCES."""

    synchronous: str = "NORMAL"
    secure_delete: bool = False
    foreign_keys: bool = False
    timeout_s: float = 30.0


def connect(path: Path | None, pragmas: Pragmas) -> sqlite3.Connection:
    """An autocommit connection to ``path`` in WAL mode (``None``: a private in-memory database)."""
    c = sqlite3.connect(":memory:" if path is None else path, timeout=pragmas.timeout_s, isolation_level=None, check_same_thread=False)
    if path is not None:
        c.execute("PRAGMA journal_mode=WAL")
    c.execute(f"PRAGMA synchronous={pragmas.synchronous}")
    if pragmas.secure_delete:
        c.execute("PRAGMA secure_delete=ON")
    if pragmas.foreign_keys:
        c.execute("PRAGMA foreign_keys=ON")
    return c


@contextmanager
def immediate(c: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction on autocommit connection ``c``: committed when the block ends, rolled back if it raises."""
    c.execute("BEGIN IMMEDIATE")
    try:
        yield c
    except BaseException:
        c.execute("ROLLBACK")
        raise
    c.execute("COMMIT")


def checkpoint(c: sqlite3.Connection) -> bool:
    """Fold the WAL into the database and truncate it, so deleted rows leave no copy there.

    False when readers kept it busy (or the database is locked): the caller may try again later."""
    try:
        busy, _, _ = c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.OperationalError:
        return False
    return not busy


class ThreadConnections:
    """One connection per thread to one file, opened on first use; :meth:`close` closes them all."""

    def __init__(self, path: Path, pragmas: Pragmas) -> None:
        self.path = path
        self.pragmas = pragmas
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        c: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if c is None:
            c = connect(self.path, self.pragmas)
            self._local.conn = c
            with self._lock:
                self._conns.append(c)
        return c

    def close(self) -> None:
        with self._lock:
            for c in self._conns:
                with suppress(sqlite3.ProgrammingError):  # closed from its own thread already
                    c.close()
            self._conns.clear()
        self._local = threading.local()
