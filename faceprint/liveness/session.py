"""Challenge sessions: a random 2-4 action challenge, a single-use nonce and an expiry.

    store = SessionStore(data_dir / "liveness.db")          # or SessionStore() in memory
    issued = store.issue(tenant="t1")                       # IssuedSession: nonce + challenge
    challenge = store.consume(issued.nonce, tenant="t1")    # once; a second call: NonceReused

The nonce comes from :mod:`secrets` (192 bits) and only its SHA-256 is stored, so a copy of
the database cannot be used to answer a session. ``consume`` is one atomic UPDATE (``... WHERE
used IS NULL RETURNING``): two concurrent verifications of one nonce cannot both win, in one
process or on several servers sharing a database (``SessionStore(db=...)``: anything with
``read()``/``write()`` connection blocks taking ``?`` queries, such as the service's PostgreSQL
state, which creates :data:`PG_SCHEMA`). An expired session is consumed too
(it cannot be retried) and raises :class:`SessionExpired`.

A reference template attached at issue time is a template like any other: sealed with the
store's :class:`~faceprint.gallery.crypto.Cipher` (``FACEPRINT_KEY``; bound to its row by the nonce
hash), handed back once by ``consume`` and erased from the row in the same transaction. Whenever a
reference is erased (spent, or expired: :meth:`SessionStore.purge`, which the service runs on its
own as each session expires) the database is asked to leave no copy behind: SQLite zeroes the freed
bytes (``secure_delete``) and the WAL is checkpointed and truncated.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..gallery.crypto import Cipher
from ..sqlite_conn import Pragmas, checkpoint, connect, immediate
from .actions import Action
from .errors import InvalidChallenge, NonceReused, NonceUnknown, SessionExpired

DEFAULT_TTL_S = 120.0
KEEP_SPENT_S = 86400.0  # spent and expired rows stay this long, so a replay reads NONCE_REUSED

SCHEMA_VERSION = 1
_TABLE = """CREATE TABLE IF NOT EXISTS liveness_sessions(
        nonce_hash TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        actions TEXT NOT NULL,
        issued {real} NOT NULL,
        expires {real} NOT NULL,
        used {real},
        reference {blob},
        reference_info TEXT NOT NULL DEFAULT '{{}}')"""
_INDEX = "CREATE INDEX IF NOT EXISTS liveness_sessions_expires ON liveness_sessions(expires)"
SQLITE_SCHEMA = (_TABLE.format(real="REAL", blob="BLOB"), _INDEX)
PG_SCHEMA = (_TABLE.format(real="DOUBLE PRECISION", blob="BYTEA"), _INDEX)


@dataclass(frozen=True)
class Challenge:
    """What the client must perform, in order, before ``expires_at`` (Unix seconds)."""

    actions: tuple[Action, ...]
    issued_at: float
    expires_at: float
    tenant: str = ""
    reference: np.ndarray | None = field(default=None, compare=False, repr=False)  # (D,) template
    reference_info: dict[str, object] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "actions": [a.value for a in self.actions],
            "issued_at": round(self.issued_at, 3),
            "expires_at": round(self.expires_at, 3),
        }


@dataclass(frozen=True)
class IssuedSession:
    nonce: str  # the only copy: give it to the client (Face++ FaceID calls it biz_token)
    challenge: Challenge

    def to_dict(self) -> dict[str, object]:
        return {"nonce": self.nonce, **self.challenge.to_dict()}


def random_actions(k: int | None = None, pool: Sequence[Action] = tuple(Action)) -> tuple[Action, ...]:
    """2-4 distinct actions in random order, from the OS's CSPRNG."""
    rng = secrets.SystemRandom()
    n = rng.randint(2, 4) if k is None else k
    if not 1 <= n <= min(4, len(pool)):
        raise InvalidChallenge(f"cannot draw {n} distinct actions from {len(pool)}")
    return tuple(rng.sample(list(pool), n))


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode("utf-8", "surrogatepass")).hexdigest()


class SessionDb(Protocol):
    def read(self) -> AbstractContextManager[Any]: ...

    def write(self) -> AbstractContextManager[Any]: ...

    def erase_freed(self, tables: Sequence[str]) -> None: ...

    def close(self) -> None: ...


class _OneConnection:
    """A SQLite file (WAL) or memory database behind one connection and a lock."""

    def __init__(self, path: Path | None) -> None:
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = connect(path, Pragmas(synchronous="FULL", secure_delete=True))
        self._lock = threading.Lock()
        for stmt in SQLITE_SCHEMA:
            self._conn.execute(stmt)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, immediate(self._conn) as c:
            yield c

    def erase_freed(self, tables: Sequence[str] = ()) -> None:
        """Fold the WAL back into the file and truncate it (deleted rows are already zeroed)."""
        with self._lock:
            checkpoint(self._conn)  # busy: the next erase tries again

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class SessionStore:
    """Sessions in SQLite (``path``; ``None`` keeps them in memory: CLI, tests) or in a shared ``db``."""

    def __init__(
        self, path: Path | None = None, *, clock: Callable[[], float] = time.time, db: SessionDb | None = None,
        cipher: Cipher | None = None,
    ) -> None:  # fmt: skip
        self.path = path
        self.clock = clock
        self.db: SessionDb = db if db is not None else _OneConnection(path)
        self.cipher = cipher or Cipher(None)

    def issue(
        self,
        actions: Sequence[Action] | None = None,
        *,
        tenant: str = "",
        ttl_s: float = DEFAULT_TTL_S,
        reference: np.ndarray | None = None,
        reference_info: dict[str, object] | None = None,
    ) -> IssuedSession:
        acts = tuple(actions) if actions else random_actions()
        if len(set(acts)) != len(acts) or not 1 <= len(acts) <= 4:
            raise InvalidChallenge("a challenge has 1-4 distinct actions")
        if not ttl_s > 0:
            raise InvalidChallenge("the session lifetime must be positive", param="ttl")
        nonce = secrets.token_urlsafe(24)
        key = _hash(nonce)
        now = self.clock()
        info = dict(reference_info or {})
        blob = None if reference is None else self.cipher.seal(np.asarray(reference, dtype="<f4").tobytes(), key.encode())
        with self.db.write() as c:
            c.execute(
                "INSERT INTO liveness_sessions(nonce_hash, tenant, actions, issued, expires, reference, reference_info)"
                " VALUES(?,?,?,?,?,?,?)",
                (key, tenant, ",".join(a.value for a in acts), now, now + ttl_s, blob, json.dumps(info)),
            )
        ref = None if reference is None else np.asarray(reference, dtype=np.float32)
        return IssuedSession(nonce, Challenge(acts, now, now + ttl_s, tenant, ref, info))

    def consume(self, nonce: str, *, tenant: str = "") -> Challenge:
        """Spend the nonce and return its challenge (with the reference, this once)."""
        if not isinstance(nonce, str) or not 8 <= len(nonce) <= 128:
            raise NonceUnknown("no such session", param="biz_token")
        key = _hash(nonce)
        now = self.clock()
        with self.db.write() as c:
            # The one statement that decides: only an unspent session of this tenant is marked
            # used, and a concurrent consumer (another thread or server) waits for it, then finds
            # ``used`` set. The reference it returns is then erased in the same transaction.
            rows = c.execute(
                "UPDATE liveness_sessions SET used=? WHERE nonce_hash=? AND tenant=? AND used IS NULL"
                " RETURNING actions, issued, expires, reference, reference_info",
                (now, key, tenant),
            ).fetchall()
            if rows:
                c.execute("UPDATE liveness_sessions SET reference=NULL WHERE nonce_hash=?", (key,))
        if rows and rows[0][3] is not None:
            self.db.erase_freed(("liveness_sessions",))
        if not rows:
            with self.db.read() as c:
                seen = c.execute("SELECT tenant FROM liveness_sessions WHERE nonce_hash=?", (key,)).fetchone()
            if seen is None or seen[0] != tenant:
                raise NonceUnknown("no such session", param="biz_token")
            raise NonceReused("this session was already used; request a new one", param="biz_token")
        actions, issued, expires, blob, info = rows[0]
        if now > expires:
            raise SessionExpired(f"the session expired {now - expires:.1f} s ago", param="biz_token")
        ref = None if blob is None else np.frombuffer(self.cipher.open(bytes(blob), key.encode()), dtype="<f4").astype(np.float32)
        acts = tuple(Action(a) for a in actions.split(","))
        return Challenge(acts, issued, expires, tenant, ref, json.loads(info))

    def purge(self, keep_s: float = KEEP_SPENT_S) -> int:
        """Delete sessions that expired more than ``keep_s`` ago; erase unused expired references."""
        now = self.clock()
        with self.db.write() as c:
            erased = c.execute("UPDATE liveness_sessions SET reference=NULL WHERE expires <= ? AND reference IS NOT NULL", (now,)).rowcount
            n = c.execute("DELETE FROM liveness_sessions WHERE expires < ?", (now - keep_s,)).rowcount
        if erased or n:
            self.db.erase_freed(("liveness_sessions",))
        return int(n)

    def next_expiry(self) -> float | None:
        """When the next unspent reference expires (Unix seconds), or None if none is held."""
        with self.db.read() as c:
            row = c.execute("SELECT MIN(expires) FROM liveness_sessions WHERE reference IS NOT NULL").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def close(self) -> None:
        self.db.close()
