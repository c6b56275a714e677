"""Append-only audit log as a hash chain: one JSON line per request, each sealing the one before.

A line holds time, key id, tenant, endpoint, faceset, number of faces and results, and outcome;
never an image or an embedding. Its ``hash`` is SHA-256 over the previous line's hash and the
line's own canonical JSON, so editing, reordering or deleting any line breaks the chain from
there on. A head (``audit.head`` beside the file, or a row beside the table) records the last
sequence number and hash, so cutting lines off the end is caught as well. ``verify`` walks the
chain and names the first line that does not fit.

Two homes, one format: :class:`AuditLog`, a file in a node's data directory, and
:class:`~faceprint.service.audit_table.TableAudit`, a PostgreSQL table every node appends to.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

AUDIT_FILE = "audit.log"
HEAD_FILE = "audit.head"
GENESIS = "0" * 64
FIELDS = ("seq", "time", "key", "tenant", "endpoint", "faceset", "faces", "results", "outcome")


def _digest(prev: str, entry: dict[str, object]) -> str:
    body = json.dumps({k: entry.get(k) for k in FIELDS}, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256((prev + body).encode()).hexdigest()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    lines: int
    bad_line: int | None = None  # 1-based line number of the first line that breaks the chain
    reason: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "lines": self.lines, "bad_line": self.bad_line, "reason": self.reason}


def new_entry(seq: int, prev: str, fields: dict[str, object]) -> dict[str, object]:
    """The line after (``seq - 1``, ``prev``), sealed: ``fields`` are key, tenant, endpoint, faceset, faces, results, outcome."""
    entry: dict[str, object] = {"seq": seq, "time": round(time.time(), 3), **fields}
    entry["prev"] = prev
    entry["hash"] = _digest(prev, entry)
    return entry


def encode(entry: dict[str, object]) -> str:
    return json.dumps(entry, separators=(",", ":"))


@dataclass(frozen=True)
class Walk:
    """How far a walk over the lines got: the verdict if a line broke the chain, else the chain's end."""

    failure: Verdict | None
    lines: int
    seq: int
    last_hash: str


def walk(lines: Iterable[str]) -> Walk:
    """Check each line against the one before it, from the first."""
    prev, seq, n = GENESIS, 0, 0
    for n, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
        except ValueError:
            return Walk(Verdict(False, n, n, "not valid JSON"), n, seq, prev)
        if not isinstance(entry, dict) or entry.get("prev") != prev:
            return Walk(Verdict(False, n, n, "does not follow the line before it (edited, deleted or reordered lines)"), n, seq, prev)
        if entry.get("seq") != seq + 1:
            return Walk(Verdict(False, n, n, f"sequence number {entry.get('seq')} where {seq + 1} was due"), n, seq, prev)
        if entry.get("hash") != _digest(prev, entry):
            return Walk(Verdict(False, n, n, "hash does not match the line's content (edited)"), n, seq, prev)
        prev, seq = entry["hash"], entry["seq"]
    return Walk(None, n, seq, prev)


def matches(entry: dict, tenant: str | None, key: str | None) -> bool:
    return (tenant is None or entry.get("tenant") == tenant) and (key is None or entry.get("key") == key)


class Audit(ABC):
    """Where a node appends its audit lines."""

    @abstractmethod
    def append(
        self, *, key: str, tenant: str, endpoint: str, faceset: str | None = None, faces: int = 0, results: int = 0,
        outcome: str = "ok",
    ) -> dict[str, object]: ...  # fmt: skip

    @abstractmethod
    def read(self, *, tenant: str | None = None, key: str | None = None, start: int = 0, limit: int = 100) -> list[dict]:
        """Entries with ``seq > start``, oldest first, filtered by tenant and key."""

    @abstractmethod
    def verify(self) -> Verdict:
        """Walk the whole chain and check it against the head."""

    @abstractmethod
    def close(self) -> None: ...


class AuditLog(Audit):
    """The chain as a file in a node's data directory, with ``audit.head`` beside it."""

    def __init__(self, data_dir: Path, *, fsync: bool = False) -> None:
        self.path = Path(data_dir) / AUDIT_FILE
        self.head_path = Path(data_dir) / HEAD_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self._lock = threading.Lock()
        self._seq, self._prev = self._recover()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _recover(self) -> tuple[int, str]:
        last = None
        if self.path.exists():
            for line in _lines(self.path):
                last = line
        if last is None:
            return 0, GENESIS
        try:
            entry = json.loads(last)
            return int(entry["seq"]), str(entry["hash"])
        except (ValueError, KeyError, TypeError):
            # A damaged last line: keep appending after it; ``verify`` will name it.
            return 0, hashlib.sha256(last.encode()).hexdigest()

    def append(
        self, *, key: str, tenant: str, endpoint: str, faceset: str | None = None, faces: int = 0, results: int = 0,
        outcome: str = "ok",
    ) -> dict[str, object]:  # fmt: skip
        fields = {"key": key, "tenant": tenant, "endpoint": endpoint, "faceset": faceset, "faces": int(faces), "results": int(results), "outcome": outcome}
        with self._lock:
            entry = new_entry(self._seq + 1, self._prev, fields)
            os.write(self._fd, (encode(entry) + "\n").encode())
            if self._fsync:
                os.fsync(self._fd)
            self._seq, self._prev = int(entry["seq"]), str(entry["hash"])  # type: ignore[call-overload]
            self._write_head()
        return entry

    def _write_head(self) -> None:
        tmp = self.head_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"seq": self._seq, "hash": self._prev}))
        os.replace(tmp, self.head_path)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def read(self, *, tenant: str | None = None, key: str | None = None, start: int = 0, limit: int = 100) -> list[dict]:
        out: list[dict] = []
        for line in _lines(self.path):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("seq", 0) <= start or not matches(entry, tenant, key):
                continue
            out.append(entry)
            if len(out) >= limit:
                break
        return out

    def verify(self) -> Verdict:
        return verify(self.path.parent)


def _lines(path: Path) -> Iterator[str]:
    if not path.exists():
        return
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.strip():
                yield line.rstrip("\n")


def verify(data_dir: Path) -> Verdict:
    """Walk the chain in ``data_dir/audit.log``; check the head file against the last line."""
    path, head_path = Path(data_dir) / AUDIT_FILE, Path(data_dir) / HEAD_FILE
    w = walk(_lines(path))
    if w.failure is not None:
        return w.failure
    seq, prev, n = w.seq, w.last_hash, w.lines
    if head_path.exists():
        try:
            head = json.loads(head_path.read_text())
        except ValueError:
            return Verdict(False, n, None, "audit.head is damaged")
        if head.get("seq") != seq or head.get("hash") != prev:
            return Verdict(False, n, None, f"the log ends at line {seq} but audit.head records line {head.get('seq')} (truncated)")
    elif n:
        return Verdict(False, n, None, "audit.head is missing")
    return Verdict(True, n)
