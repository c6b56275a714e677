"""A small SQLite helper: WAL, one connection per thread, ``BEGIN IMMEDIATE`` writes."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


class Db:
    def __init__(self, path: Path, schema: Sequence[str], *, secure_delete: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._secure_delete = secure_delete
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # Writers of this process queue here rather than in SQLite's busy handler, which sleeps
        # in steps of up to 100 ms while another connection holds the write lock.
        self._write_lock = threading.Lock()
        with self.write() as c:
            for stmt in schema:
                c.execute(stmt)

    def conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=NORMAL")
            if self._secure_delete:
                c.execute("PRAGMA secure_delete=ON")
            self._local.conn = c
            with self._lock:
                self._conns.append(c)
        return c

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        c = self.conn()
        with self._write_lock:
            c.execute("BEGIN IMMEDIATE")
            try:
                yield c
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")

    def checkpoint(self) -> None:
        """Fold the WAL back and truncate it, so deleted rows leave no copy behind."""
        try:
            self.conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError:  # busy: the next purge tries again
            pass

    def close(self) -> None:
        with self._lock:
            for c in self._conns:
                try:
                    c.close()
                except sqlite3.ProgrammingError:  # pragma: no cover
                    pass
            self._conns.clear()
        self._local = threading.local()
