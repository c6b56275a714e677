"""Service state shared by several server processes on one host (``faceprint serve --processes N``).

With the default SQLite store, keys, face tokens, galleries and liveness sessions already live in
SQLite files every process opens (each gallery index catches up from the store's generation).
Two things a single process kept to itself are shared here, in the same data directory:

- the rate limit: one token bucket per key in ``ratelimit.db`` (SQLite, one ``BEGIN IMMEDIATE``
  transaction per request), so N processes together allow the key's ``qps``, not N times it;
- the audit chain: each append takes an exclusive ``flock`` on ``audit.lock`` and first re-reads
  the chain's last line when another process wrote after it, so the log stays one chain;
- ``faceset/async/*`` task status: a task runs in the process that took it, its status is also
  written to ``tasks.db``, so ``task_status`` answers from whichever process the client reaches.

:func:`share_local_state` makes the ``sqlite`` service state these (each uvicorn worker calls it
before building its app); PostgreSQL state is shared by every node already.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import FaceprintError
from .audit import GENESIS, AuditLog, Verdict
from .errors import InvalidTaskId
from .ratelimit import Limiter, _refused
from .state import LocalState, register_state
from .tasks import Task, Tasks

TAIL = 64 * 1024  # an audit line is well under 1 KB: the last one is in the file's last 64 KB


class FileRateLimiter(Limiter):
    """Per-key token buckets (``qps`` a second, bursts up to ``max(1, qps)``) in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self._db = _sqlite(path)
        self._db.execute("PRAGMA synchronous=OFF")  # a bucket lost in a power cut refills in a second
        self._db.execute("CREATE TABLE IF NOT EXISTS buckets(api_key TEXT PRIMARY KEY, tokens REAL NOT NULL, stamp REAL NOT NULL)")
        self._lock = threading.Lock()

    def check(self, key: str, qps: float) -> None:
        burst = max(1.0, qps)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT tokens, stamp FROM buckets WHERE api_key=?", (key,)).fetchone()
                now = time.time()
                tokens = burst if row is None else min(burst, row[0] + max(0.0, now - row[1]) * qps)
                ok = tokens >= 1.0
                self._db.execute("INSERT OR REPLACE INTO buckets(api_key, tokens, stamp) VALUES (?,?,?)", (key, tokens - ok, now))
            finally:
                self._db.execute("COMMIT")
        if not ok:
            raise _refused(qps)

    def close(self) -> None:
        self._db.close()


def _last_line(fd: int) -> str | None:
    size = os.fstat(fd).st_size
    if size == 0:
        return None
    start = max(0, size - TAIL)
    lines = [ln for ln in os.pread(fd, size - start, start).decode(errors="replace").split("\n") if ln.strip()]
    return lines[-1] if lines else None


class SharedFileAudit(AuditLog):
    """The file chain with appends serialised across processes (``flock``) and the tail re-read after another writer."""

    def __init__(self, data_dir: Path, *, fsync: bool = False, key: bytes | None = None) -> None:
        super().__init__(data_dir, fsync=fsync, key=key)
        self._lockfd = os.open(Path(data_dir) / "audit.lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._readfd = os.open(self.path, os.O_RDONLY)
        self._plock = threading.Lock()  # flock is per open file: threads of this process queue here first
        self._size = -1  # another process may have appended since super() read the tail: look again first

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self._plock:
            fcntl.flock(self._lockfd, fcntl.LOCK_EX)
            try:
                if os.fstat(self._readfd).st_size != self._size:
                    self._catch_up()
                yield
                self._size = -1  # another process may have appended since super() read the tail: look again first
            finally:
                fcntl.flock(self._lockfd, fcntl.LOCK_UN)

    def _catch_up(self) -> None:
        """Another process appended: continue the chain from its last line."""
        last = _last_line(self._readfd)
        if last is None:
            self._seq, self._prev, self._last_prev = 0, GENESIS, GENESIS
            return
        entry = json.loads(last)
        self._seq, self._prev, self._last_prev = int(entry["seq"]), str(entry["hash"]), str(entry.get("prev"))

    def append(
        self, *, key: str, tenant: str, endpoint: str, faceset: str | None = None, faces: int = 0, results: int = 0,
        outcome: str = "ok",
    ) -> dict[str, object]:  # fmt: skip
        with self._exclusive():
            return super().append(key=key, tenant=tenant, endpoint=endpoint, faceset=faceset, faces=faces, results=results, outcome=outcome)

    def head(self) -> dict[str, object]:
        with self._exclusive():
            return super().head()

    def startup_check(self) -> None:
        with self._exclusive():
            super().startup_check()

    def verify(self, exported: dict[str, object] | None = None) -> Verdict:
        with self._exclusive():
            return super().verify(exported)

    def close(self) -> None:
        super().close()
        for fd in (self._lockfd, self._readfd):
            if fd >= 0:
                os.close(fd)
        self._lockfd = self._readfd = -1


def _sqlite(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    return db


class SharedTasks(Tasks):
    """Async tasks whose status every process on the data directory can read."""

    def __init__(self, path: Path, keep: int = 10_000) -> None:
        super().__init__(keep)
        self._db = _sqlite(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS tasks(task_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, kind TEXT NOT NULL,"
                         " status INTEGER NOT NULL, result TEXT NOT NULL, error TEXT, created REAL NOT NULL)")  # fmt: skip
        self._db_lock = threading.Lock()

    def _write(self, sql: str, args: tuple[object, ...]) -> None:
        with self._db_lock:
            self._db.execute(sql, args)

    def submit(self, tenant: str, kind: str, work: Callable[[], dict[str, object]]) -> Task:
        recorded = threading.Event()
        box: list[str] = []

        def run() -> dict[str, object]:
            recorded.wait()
            result: dict[str, object] = {}
            error: str | None = "INTERNAL_ERROR"
            try:
                result, error = work(), None
            except FaceprintError as exc:
                error = exc.code
                raise
            finally:
                self._write("UPDATE tasks SET status=1, result=?, error=? WHERE task_id=?", (json.dumps(result, default=str), error, box[0]))
            return result

        task = super().submit(tenant, kind, run)
        self._write("INSERT INTO tasks VALUES (?,?,?,0,'{}',NULL,?)", (task.task_id, tenant, kind, time.time()))
        self._write("DELETE FROM tasks WHERE task_id IN (SELECT task_id FROM tasks ORDER BY created DESC LIMIT -1 OFFSET ?)", (self._keep,))
        box.append(task.task_id)
        recorded.set()
        return task

    def get(self, tenant: str, task_id: str) -> Task:
        try:
            return super().get(tenant, task_id)
        except InvalidTaskId:
            with self._db_lock:
                row = self._db.execute("SELECT tenant, kind, status, result, error FROM tasks WHERE task_id=?", (task_id,)).fetchone()
            if row is None or row[0] != tenant:
                raise
            return Task(task_id, row[0], row[1], int(row[2]), json.loads(row[3]), row[4])

    def close(self) -> None:
        super().close()
        self._db.close()


class ProcessSharedState(LocalState):
    """:class:`LocalState` whose rate limits and audit chain every process on the data directory shares."""

    def limiter(self) -> Limiter:
        return FileRateLimiter(self.data_dir / "ratelimit.db")

    def audit(self, *, fsync: bool = False) -> SharedFileAudit:
        return SharedFileAudit(self.data_dir, fsync=fsync)

    def describe(self) -> str:
        return f"files in {self.data_dir}, shared by this host's server processes"


def share_local_state() -> None:
    """From now on, ``sqlite`` service state in this process is shared with its sibling processes."""
    register_state("sqlite", lambda url, data_dir: ProcessSharedState(data_dir))
