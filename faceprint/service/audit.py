"""Append-only audit log as a keyed hash chain: one JSON line per request, each sealing the one before.

A line holds time, key id, tenant, endpoint, faceset, number of faces and results, and outcome;
never an image or an embedding. Its ``hash`` is HMAC-SHA256, under the audit key
(:mod:`~faceprint.service.audit_key`, kept outside the data directory), of the previous line's
hash and the line's own canonical JSON (``"v": 2``). Editing, reordering or deleting any line breaks
the chain from there on, and without the key nobody can recompute it. A head (``audit.head``
beside the file, or a row beside the table) records the last sequence number and hash, sealed by
the same key, so cutting lines off the end and rewriting the head is caught as well; ``verify``
walks the chain and names the first line that does not fit.

The file's head is resealed at most every :data:`SEAL_S` (0.5 s) while lines arrive, and at once
when the log is closed: a flood of refused logins appends lines without rewriting ``audit.head``
for each. Lines after the head's line are the *unsealed tail*: they are chained and keyed like
every other line (an edit is caught), but cutting them is not, until the next seal. While a server
runs, the tail is at most SEAL_S of lines; after a clean stop it is empty; after a crash it is
whatever was appended in the last SEAL_S.

What no check inside the data directory can catch: a cut back to a point where an older genuine
head was saved (a backup, a copy), with that head put back. ``faceprint audit head`` exports the
head; kept elsewhere, ``faceprint audit verify --head FILE`` proves the log still reaches it.

Lines written before the key existed (no ``"v"``, plain SHA-256) stay readable and are checked as
before; the first keyed line seals them, and no unkeyed line may follow a keyed one.

Two homes, one format: :class:`AuditLog`, a file in a node's data directory, and
:class:`~faceprint.service.audit_table.TableAudit`, a PostgreSQL table every node appends to.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AuditKeyError, AuditLogTampered
from .audit_key import audit_key

AUDIT_FILE = "audit.log"
HEAD_FILE = "audit.head"
GENESIS = "0" * 64
FIELDS = ("seq", "time", "key", "tenant", "endpoint", "faceset", "faces", "results", "outcome")
KEYED = 2  # "v" of a line sealed with the audit key
SEAL_S = 0.5  # the file's head is resealed at most this often while lines arrive (and on close)
log = logging.getLogger("faceprint.service")


def _digest(prev: str, entry: dict[str, object], key: bytes | None) -> str | None:
    """The line's hash: HMAC-SHA256 for a keyed line (None without the key), SHA-256 for an old one."""
    names = (*FIELDS, "v") if entry.get("v") == KEYED else FIELDS
    body = (prev + json.dumps({k: entry.get(k) for k in names}, sort_keys=True, separators=(",", ":"), ensure_ascii=True)).encode()
    if entry.get("v") != KEYED:
        return hashlib.sha256(body).hexdigest()
    return None if key is None else hmac.new(key, body, hashlib.sha256).hexdigest()


def head_mac(key: bytes, seq: int, last_hash: str) -> str:
    return hmac.new(key, f"audit.head:{seq}:{last_hash}".encode(), hashlib.sha256).hexdigest()


def sealed_by(head: Mapping[str, object], key: bytes | None) -> bool:
    """The head's ``mac`` was made with ``key`` over its own ``seq`` and ``hash``."""
    seq, last, mac = head.get("seq"), head.get("hash"), head.get("mac")
    if key is None or not isinstance(seq, int) or not isinstance(last, str) or not isinstance(mac, str):
        return False
    return hmac.compare_digest(mac, head_mac(key, seq, last))


def sealed_head(key: bytes, seq: int, last_hash: str) -> dict[str, object]:
    """The head of a chain, as written beside it and as ``faceprint audit head`` exports it."""
    return {"seq": seq, "hash": last_hash, "mac": head_mac(key, seq, last_hash), "time": round(time.time(), 3)}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    lines: int
    bad_line: int | None = None  # 1-based line number of the first line that breaks the chain
    reason: str = ""
    unsealed: int = 0  # lines after the one the head seals (not yet resealed: see SEAL_S)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"ok": self.ok, "lines": self.lines, "bad_line": self.bad_line, "reason": self.reason}
        return {**out, "unsealed": self.unsealed} if self.unsealed else out  # (only a file log's head can lag)


def new_entry(seq: int, prev: str, fields: Mapping[str, object], key: bytes) -> dict[str, object]:
    """The line after (``seq - 1``, ``prev``), sealed: ``fields`` are key, tenant, endpoint, faceset, faces, results, outcome."""
    entry: dict[str, object] = {"seq": seq, "time": round(time.time(), 3), **fields, "v": KEYED}
    entry["prev"] = prev
    entry["hash"] = _digest(prev, entry, key)
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
    keyed: bool = False  # some line is sealed with the audit key
    marks: dict[int, str] = field(default_factory=dict)  # seq -> hash, for the seqs asked for


def walk(lines: Iterable[str], key: bytes | None = None, at: Iterable[int] = (), start: tuple[int, str] = (0, GENESIS)) -> Walk:
    """Check each line against the one before it, from the first (or from the line after ``start``, a (seq, hash))."""
    (seq, prev), n, keyed, want = start, 0, start[0] > 0, set(at)
    marks: dict[int, str] = {}

    def broken(why: str) -> Walk:
        return Walk(Verdict(False, n, n, why), n, seq, prev, keyed, marks)

    for n, line in enumerate(lines, start=1):  # noqa: B007 (``broken`` reads n)
        try:
            entry = json.loads(line)
        except ValueError:
            return broken("not valid JSON")
        if not isinstance(entry, dict) or entry.get("prev") != prev:
            return broken("does not follow the line before it (edited, deleted or reordered lines)")
        if entry.get("seq") != seq + 1:
            return broken(f"sequence number {entry.get('seq')} where {seq + 1} was due")
        if keyed and entry.get("v") != KEYED:
            return broken("an unkeyed line after keyed ones (rewritten without the audit key)")
        keyed = keyed or entry.get("v") == KEYED
        if keyed and key is None:
            return broken("the line is sealed with the audit key; verifying needs it (FACEPRINT_AUDIT_KEY or its file)")
        if entry.get("hash") != _digest(prev, entry, key):
            return broken("hash does not match the line's content (edited, or sealed with another key)")
        prev, seq = entry["hash"], entry["seq"]
        if seq in want:
            marks[seq] = prev
    return Walk(None, n, seq, prev, keyed, marks)


def check_head(w: Walk, head: dict[str, object] | None, key: bytes | None, name: str) -> Verdict | None:
    """The chain's end against the head stored beside it; None if they agree."""
    if head is None:
        return Verdict(False, w.lines, None, f"{name} is missing") if w.lines else None
    if not sealed_by(head, key):
        if key is None:
            return Verdict(False, w.lines, None, f"{name} is sealed with the audit key; verifying needs it")
        if "mac" in head or w.keyed:
            return Verdict(False, w.lines, None, f"{name} is not sealed by the audit key (rewritten without it)")
        return Verdict(False, w.lines, None, f"{name} is not sealed: a log from before the audit key, which anyone could"
                                             " rewrite; starting faceprint serve on it checks and seals it")  # fmt: skip
    seq = head.get("seq")
    if not isinstance(seq, int) or seq > w.seq:
        return Verdict(False, w.lines, None, f"the log ends at line {w.seq} but {name} records line {seq} (truncated)")
    if (w.last_hash if seq == w.seq else w.marks.get(seq)) != head.get("hash"):
        return Verdict(False, w.lines, seq or None, f"line {seq} is not the line {name} sealed (rewritten)")
    return None


def check_exported(w: Walk, exported: dict[str, object], key: bytes | None) -> Verdict | None:
    """A head exported earlier (kept elsewhere) against the chain: the log must still reach it, unchanged."""
    seq, last = exported.get("seq"), exported.get("hash")
    if not sealed_by(exported, key) or not isinstance(seq, int):
        return Verdict(False, w.lines, None, "the exported head is not sealed by this audit key")
    if w.seq < seq:
        return Verdict(False, w.lines, None, f"the log ends at line {w.seq} but the exported head records line {seq} (lines were cut)")
    if w.marks.get(seq) != last:
        return Verdict(False, w.lines, seq, f"line {seq} is not the line the exported head sealed (rewritten)")
    return None


def matches(entry: Mapping[str, object], tenant: str | None, key: str | None) -> bool:
    return (tenant is None or entry.get("tenant") == tenant) and (key is None or entry.get("key") == key)


class Audit(ABC):
    """Where a node appends its audit lines."""

    # True when an append never waits on a network or a disk sync (a local file, no fsync): the
    # service's event loop then appends directly, which is cheaper than a hop to a worker thread.
    inline: bool = False

    @abstractmethod
    def append(
        self, *, key: str, tenant: str, endpoint: str, faceset: str | None = None, faces: int = 0, results: int = 0,
        outcome: str = "ok",
    ) -> dict[str, object]: ...  # fmt: skip

    @abstractmethod
    def read(self, *, tenant: str | None = None, key: str | None = None, start: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Entries with ``seq > start``, oldest first, filtered by tenant and key."""

    @abstractmethod
    def verify(self, exported: dict[str, object] | None = None) -> Verdict:
        """Walk the whole chain and check it against the head (and a head exported earlier, if given)."""

    @abstractmethod
    def head(self) -> dict[str, object]:
        """The current head, sealed with the audit key: export it somewhere the data directory is not."""

    def startup_check(self) -> None:
        """Before a server appends: refuse a chain that no longer ends where its sealed head says."""
        return None

    @abstractmethod
    def close(self) -> None: ...


class AuditLog(Audit):
    """The chain as a file in a node's data directory, with ``audit.head`` beside it."""

    def __init__(self, data_dir: Path, *, fsync: bool = False, key: bytes | None = None) -> None:
        self.path = Path(data_dir) / AUDIT_FILE
        self.head_path = Path(data_dir) / HEAD_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._key = key if key is not None else audit_key(self.path.parent, create=True)
        self._fsync = fsync
        self.inline = not fsync
        self._lock = threading.Lock()
        self._seq, self._prev = self._recover()
        self._sealed = (self._seq, self._prev)  # what audit.head says, as this process last wrote it
        self._sealed_at = 0.0  # monotonic time of that write
        self._timer: threading.Timer | None = None
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _recover(self) -> tuple[int, str]:
        """(seq, hash) of the last line."""
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

    def startup_check(self) -> None:
        head = _read_head(self.head_path)
        if self._seq == 0 and head in (None, {}):
            return
        if head and "mac" not in head and head.get("seq") == self._seq and head.get("hash") == self._prev:
            # A log from before the audit key: check its (unkeyed) chain once, then seal its head.
            w = walk(_lines(self.path), self._key)
            if w.failure is None:
                with self._lock:
                    self._write_head()
                return
        if head and sealed_by(head, self._key) and self._reaches(head):
            return  # (lines after the head's: the process died within SEAL_S of them, before resealing)
        raise AuditLogTampered(
            f"{self.path} does not end where {HEAD_FILE} says (line {self._seq}; head: {head.get('seq') if isinstance(head, dict) else head!r}):"
            " it was cut or rewritten while no server held it. Run `faceprint audit verify`, keep the evidence, then move"
            " audit.log and audit.head aside to start a new chain."
        )

    def _reaches(self, head: Mapping[str, object]) -> bool:
        """The lines after the head's chain on from the head's hash, under the key, to the last line."""
        seq, last = head.get("seq"), head.get("hash")
        if not isinstance(seq, int) or not isinstance(last, str) or seq > self._seq:
            return False
        if seq == self._seq:
            return last == self._prev
        first, tail = f'{{"seq":{seq + 1},', list[str]()  # (encode() writes "seq" first)
        for line in _lines(self.path):
            if tail or line.startswith(first):
                tail.append(line)
        w = walk(tail, self._key, start=(seq, last))
        return bool(tail) and w.failure is None and w.seq == self._seq

    def append(
        self, *, key: str, tenant: str, endpoint: str, faceset: str | None = None, faces: int = 0, results: int = 0,
        outcome: str = "ok",
    ) -> dict[str, object]:  # fmt: skip
        fields = {"key": key, "tenant": tenant, "endpoint": endpoint, "faceset": faceset, "faces": int(faces), "results": int(results), "outcome": outcome}
        with self._lock:
            entry = new_entry(self._seq + 1, self._prev, fields, self._key)
            os.write(self._fd, (encode(entry) + "\n").encode())
            if self._fsync:
                os.fsync(self._fd)
            self._seq, self._prev = int(entry["seq"]), str(entry["hash"])  # type: ignore[call-overload]
            wait = self._sealed_at + SEAL_S - time.monotonic()
            if wait <= 0:
                self._write_head()  # the first line after a quiet spell is sealed at once
            elif self._timer is None:  # later ones in the same SEAL_S are sealed together, once
                self._timer = threading.Timer(wait, self._seal)
                self._timer.daemon = True
                self._timer.start()
        return entry

    def _seal(self) -> None:
        with self._lock:
            self._timer = None
            if self._fd >= 0 and self._sealed != (self._seq, self._prev):
                self._write_head()

    def _write_head(self) -> None:
        tmp = self.head_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(sealed_head(self._key, self._seq, self._prev)))
        os.replace(tmp, self.head_path)
        self._sealed, self._sealed_at = (self._seq, self._prev), time.monotonic()

    def head(self) -> dict[str, object]:
        with self._lock:
            return sealed_head(self._key, self._seq, self._prev)

    def close(self) -> None:
        """Seal the head at the last line (no unsealed tail after a clean stop) and close the file."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._fd >= 0:
                if self._sealed != (self._seq, self._prev):
                    self._write_head()
                os.close(self._fd)
                self._fd = -1

    def read(self, *, tenant: str | None = None, key: str | None = None, start: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
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

    def verify(self, exported: dict[str, object] | None = None) -> Verdict:
        return verify(self.path.parent, self._key, exported)


def _lines(path: Path) -> Iterator[str]:
    if not path.exists():
        return
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.strip():
                yield line.rstrip("\n")


def _read_head(path: Path) -> dict[str, object] | None:
    """The head file's content; None if there is none, {} if it is not a JSON object."""
    if not path.exists():
        return None
    try:
        head = json.loads(path.read_text())
    except ValueError:
        return {}
    return head if isinstance(head, dict) else {}


def verify(data_dir: Path, key: bytes | None = None, exported: dict[str, object] | None = None) -> Verdict:
    """Walk the chain in ``data_dir/audit.log``; check the head file (and an exported head) against it."""
    path, head_path = Path(data_dir) / AUDIT_FILE, Path(data_dir) / HEAD_FILE
    if key is None:
        with contextlib.suppress(AuditKeyError):  # then a keyed line reads as "verifying needs the key"
            key = audit_key(Path(data_dir), create=False)
    head = _read_head(head_path)
    at = [h["seq"] for h in (head, exported) if h and isinstance(h.get("seq"), int)]
    w = walk(_lines(path), key, at)  # type: ignore[arg-type]
    if w.failure is not None:
        return w.failure
    if head == {}:
        return Verdict(False, w.lines, None, "audit.head is damaged")
    bad = check_head(w, head, key, HEAD_FILE) or (check_exported(w, exported, key) if exported is not None else None)
    sealed = head.get("seq") if head else None
    return bad or Verdict(True, w.lines, unsealed=w.seq - sealed if isinstance(sealed, int) else 0)
