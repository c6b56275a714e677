"""The audit chain as a PostgreSQL table: one chain for every node that shares the store.

Each row keeps the line exactly as the file would (the same JSON, the same hash chain), with its
sequence number, tenant and key beside it for lookups. An append locks the head row
(``SELECT ... FOR UPDATE``), seals the next line on it, inserts it and moves the head, all in one
transaction: appends from all nodes queue on that row, so the chain has no fork and no gap.
``verify`` reads the head first and walks the lines up to it in sequence order, so appends made
while it walks do not read as a cut. Lines carry no biometric data; erasing faces never touches them.

Lines are sealed with the audit key as in the file (every node needs the same key: set
``FACEPRINT_AUDIT_KEY`` or ``FACEPRINT_AUDIT_KEY_FILE`` alike on all of them). The head row itself
is not sealed: someone who can write the database can cut the tail and move the head back; an
exported head (``faceprint audit head``, kept elsewhere) catches that.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .audit import (
    GENESIS,
    Audit,
    Verdict,
    check_exported,
    encode,
    matches,
    new_entry,
    sealed_head,
    walk,
)
from .audit_key import audit_key
from .db import Db, Schema

SCHEMA = Schema(
    "audit_log", 1, sqlite=(),
    postgresql=(
        """CREATE TABLE IF NOT EXISTS audit_log(
            seq BIGINT PRIMARY KEY,
            tenant TEXT NOT NULL,
            key TEXT NOT NULL,
            line TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS audit_log_tenant ON audit_log(tenant, seq)",
        """CREATE TABLE IF NOT EXISTS audit_head(
            id SMALLINT PRIMARY KEY CHECK (id = 1),
            seq BIGINT NOT NULL,
            hash TEXT NOT NULL)""",
        f"INSERT INTO audit_head(id, seq, hash) VALUES (1, 0, '{GENESIS}') ON CONFLICT (id) DO NOTHING",
    ),
)  # fmt: skip

PAGE = 5000  # lines per query while walking


class TableAudit(Audit):
    def __init__(self, db: Db, key: bytes | None = None) -> None:
        self.db = db
        self._key = key if key is not None else audit_key(None, create=True)

    def append(
        self, *, key: str, tenant: str, endpoint: str, faceset: str | None = None, faces: int = 0, results: int = 0,
        outcome: str = "ok",
    ) -> dict[str, object]:  # fmt: skip
        fields = {"key": key, "tenant": tenant, "endpoint": endpoint, "faceset": faceset, "faces": int(faces), "results": int(results), "outcome": outcome}
        with self.db.write() as c:
            seq, prev = c.execute("SELECT seq, hash FROM audit_head WHERE id=1 FOR UPDATE").fetchone()
            entry = new_entry(int(seq) + 1, str(prev), fields, self._key)
            c.execute("INSERT INTO audit_log(seq, tenant, key, line) VALUES (?,?,?,?)", (entry["seq"], tenant, key, encode(entry)))
            c.execute("UPDATE audit_head SET seq=?, hash=? WHERE id=1", (entry["seq"], entry["hash"]))
        return entry

    def read(self, *, tenant: str | None = None, key: str | None = None, start: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        where, args = ["seq > ?"], [start]
        if tenant is not None:
            where.append("tenant = ?")
            args.append(tenant)  # type: ignore[arg-type]
        if key is not None:
            where.append("key = ?")
            args.append(key)  # type: ignore[arg-type]
        with self.db.read() as c:
            rows = c.execute(f"SELECT line FROM audit_log WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?", (*args, limit)).fetchall()
        out = []
        for (line,) in rows:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if matches(entry, tenant, key):  # the columns only narrow the search; the sealed line decides
                out.append(entry)
        return out

    def _lines(self, upto: int) -> Iterator[str]:
        after = 0
        while True:
            with self.db.read() as c:
                rows = c.execute("SELECT seq, line FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?", (after, upto, PAGE)).fetchall()
            for _, line in rows:
                yield line
            if len(rows) < PAGE:
                return
            after = rows[-1][0]

    def _head(self) -> tuple[int, str] | None:
        with self.db.read() as c:
            row = c.execute("SELECT seq, hash FROM audit_head WHERE id=1").fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def head(self) -> dict[str, object]:
        row = self._head()
        return sealed_head(self._key, *(row or (0, GENESIS)))

    def verify(self, exported: dict[str, object] | None = None) -> Verdict:
        head = self._head()
        if head is None:
            return Verdict(False, 0, None, "the audit head row is missing")
        marks = [exported["seq"]] if exported and isinstance(exported.get("seq"), int) else []
        w = walk(self._lines(head[0]), self._key, marks)  # type: ignore[arg-type]
        if w.failure is not None:
            return w.failure
        if w.seq != head[0] or w.last_hash != head[1]:
            return Verdict(False, w.lines, None, f"the log ends at line {w.seq} but the head records line {head[0]} (truncated)")
        bad = check_exported(w, exported, self._key) if exported is not None else None
        return bad or Verdict(True, w.lines)

    def close(self) -> None:
        self.db.close()
