"""SQLite in WAL mode: the source of truth for galleries, faces and embeddings.

- ``synchronous=FULL``: a write is acknowledged only after its WAL frames are on disk, so it
  survives ``kill -9`` (and power loss).
- ``secure_delete=ON`` zeroes deleted rows in place, and every removal ends with a
  ``wal_checkpoint(TRUNCATE)``, so no copy of an erased embedding stays in the database or its WAL.
- One connection per thread; writers take the lock up front (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ...errors import FacesetExist, GalleryError, InvalidFacesetToken, InvalidFaceToken, InvalidOuterId, PackMismatch
from .. import validate
from ..crypto import Cipher
from ..types import FaceRecord, FaceSet, FaceSetUpdate, NewFace, NewFaceSet, Page
from ..locks import file_lock
from .base import IndexState, Marker, Resolved, Store, StoreStats, face_from_row, faceset_from_row
from .schema import SCHEMA, SCHEMA_VERSION

log = logging.getLogger(__name__)
CHUNK = 900  # bound parameters per statement
TOMBSTONES_KEPT = 100_000  # removals listed per gallery; an index older than that rebuilds
_FACESET_COLS = (
    "id, token, tenant, outer_id, display_name, tags, user_data, pack, dim, index_spec, face_count, generation, created, updated"
)
_FACE_COLS = "f.token, s.token, f.subject, f.x1, f.y1, f.x2, f.y2, f.quality, f.image_sha256, f.created, f.thumbnail IS NOT NULL"


def _chunks(seq: Sequence, n: int = CHUNK) -> Iterator[Sequence]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _faceset(row: tuple) -> FaceSet:
    return faceset_from_row(row, json.loads(row[5]))


class SqliteStore(Store):
    def __init__(self, path: str | Path, cipher: Cipher | None = None, *, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.cipher = cipher or Cipher(None)
        self._synchronous = synchronous
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._init_schema()

    # -- connections --------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute(f"PRAGMA synchronous={self._synchronous}")
            c.execute("PRAGMA secure_delete=ON")
            c.execute("PRAGMA foreign_keys=ON")
            self._local.conn = c
            with self._conns_lock:
                self._conns.append(c)
        return c

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            yield c
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")

    def _init_schema(self) -> None:
        with self._write() as c:
            for stmt in SCHEMA:
                c.execute(stmt)
            rows = dict(c.execute("SELECT key, value FROM meta").fetchall())
            if not rows:
                c.executemany(
                    "INSERT INTO meta(key, value) VALUES (?, ?)",
                    [("schema", str(SCHEMA_VERSION)), ("encryption", self.cipher.name), ("key_check", self.cipher.check_value())],
                )
                return
        if int(rows.get("schema", 0)) != SCHEMA_VERSION:
            raise GalleryError(f"store {self.path} has schema {rows.get('schema')}; this faceprint reads {SCHEMA_VERSION}")
        self.cipher.verify(rows.get("encryption", "none"), rows.get("key_check", ""))

    def close(self) -> None:
        with self._conns_lock:
            for c in self._conns:
                try:
                    c.close()
                except sqlite3.ProgrammingError:  # pragma: no cover - closed from its own thread already
                    pass
            self._conns.clear()
        self._local = threading.local()

    def stats(self) -> StoreStats:
        galleries, faces = self._conn().execute("SELECT COUNT(*), COALESCE(SUM(face_count), 0) FROM facesets").fetchone()
        return StoreStats(int(galleries), int(faces))

    def erase_now(self) -> bool:
        """Fold the WAL into the database and truncate it, so removed rows have no copy left."""
        for _ in range(50):
            busy, _, _ = self._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return True
            time.sleep(0.1)
        log.warning("could not truncate the WAL of %s: readers kept it busy; removed rows stay in it until then", self.path)
        return False

    # -- galleries ----------------------------------------------------------------------------
    def _faceset_row(self, c: sqlite3.Connection, tenant: str, token: str | None, outer_id: str | None) -> tuple:
        if token is not None:
            row = c.execute(f"SELECT {_FACESET_COLS} FROM facesets WHERE tenant=? AND token=?", (tenant, token)).fetchone()
            if row is None:
                raise InvalidFacesetToken(f"no faceset with token {token!r}", faceset_token=token)
            return row
        if outer_id is not None:
            row = c.execute(f"SELECT {_FACESET_COLS} FROM facesets WHERE tenant=? AND outer_id=?", (tenant, outer_id)).fetchone()
            if row is None:
                raise InvalidOuterId(f"no faceset with outer_id {outer_id!r}", outer_id=outer_id)
            return row
        raise InvalidFacesetToken("name a faceset by faceset_token or outer_id")

    def create_faceset(self, new: NewFaceSet) -> FaceSet:
        outer = validate.outer_id(new.outer_id)
        tags = validate.tags(new.tags)
        now = time.time() if new.created is None else new.created
        token = new.token or secrets.token_hex(16)
        with self._write() as c:
            if (
                outer is not None
                and c.execute("SELECT 1 FROM facesets WHERE tenant=? AND outer_id=?", (new.tenant, outer)).fetchone()
            ):
                raise FacesetExist(f"a faceset with outer_id {outer!r} exists", outer_id=outer)
            c.execute(
                "INSERT INTO facesets(token, tenant, outer_id, display_name, tags, user_data, pack, dim, index_spec, created, updated)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (token, new.tenant, outer, validate.display_name(new.display_name), json.dumps(list(tags)),
                 validate.user_data(new.user_data), new.pack, new.dim, new.index_spec, now, now),
            )  # fmt: skip
        return self.get_faceset(new.tenant, token)

    def get_faceset(self, tenant: str, token: str | None = None, outer_id: str | None = None) -> FaceSet:
        return _faceset(self._faceset_row(self._conn(), tenant, token, outer_id))

    def list_facesets(self, tenant: str, start: int = 0, limit: int = 100, tag: str | None = None) -> Page:
        where, args = "tenant=?", [tenant]
        if tag is not None:
            where += " AND EXISTS (SELECT 1 FROM json_each(facesets.tags) WHERE value=?)"
            args.append(tag)
        c = self._conn()
        total = c.execute(f"SELECT COUNT(*) FROM facesets WHERE {where}", args).fetchone()[0]
        rows = c.execute(
            f"SELECT {_FACESET_COLS} FROM facesets WHERE {where} ORDER BY id LIMIT ? OFFSET ?", [*args, limit, start]
        )
        items = tuple(_faceset(r) for r in rows)
        return Page.of(items, total, start)

    def tenants(self) -> list[str]:
        return [r[0] for r in self._conn().execute("SELECT DISTINCT tenant FROM facesets ORDER BY tenant")]

    def update_faceset(self, tenant: str, token: str, update: FaceSetUpdate) -> FaceSet:
        sets: dict[str, object] = {}
        if update.outer_id is not None:
            sets["outer_id"] = validate.outer_id(update.outer_id)
        if update.display_name is not None:
            sets["display_name"] = validate.display_name(update.display_name)
        if update.tags is not None:
            sets["tags"] = json.dumps(list(validate.tags(update.tags)))
        if update.user_data is not None:
            sets["user_data"] = validate.user_data(update.user_data)
        with self._write() as c:
            row = self._faceset_row(c, tenant, token, None)
            if (
                "outer_id" in sets
                and c.execute(
                    "SELECT 1 FROM facesets WHERE tenant=? AND outer_id=? AND id<>?", (tenant, sets["outer_id"], row[0])
                ).fetchone()
            ):
                raise FacesetExist(f"a faceset with outer_id {sets['outer_id']!r} exists", outer_id=sets["outer_id"])
            if sets:
                cols = ", ".join(f"{k}=?" for k in sets)
                c.execute(f"UPDATE facesets SET {cols}, updated=? WHERE id=?", [*sets.values(), time.time(), row[0]])
        return self.get_faceset(tenant, token)

    def delete_faceset(self, tenant: str, token: str) -> int:
        with self._write() as c:
            row = self._faceset_row(c, tenant, token, None)
            n = c.execute("DELETE FROM faces WHERE faceset_id=?", (row[0],)).rowcount
            c.execute("DELETE FROM tombstones WHERE faceset_id=?", (row[0],))
            c.execute("DELETE FROM facesets WHERE id=?", (row[0],))
        self.erase_now()
        return n

    # -- faces --------------------------------------------------------------------------------
    def add_faces(self, tenant: str, token: str, faces: Sequence[NewFace]) -> list[FaceRecord]:
        now = time.time()
        rows, tokens = [], []
        with self._write() as c:
            fs = self._faceset_row(c, tenant, token, None)
            fid, dim, gen = fs[0], fs[8], fs[11] + 1
            for f in faces:
                vec = np.asarray(f.embedding, dtype="<f4").reshape(-1)
                if vec.shape[0] != dim:
                    raise PackMismatch(f"embedding has {vec.shape[0]} dimensions; faceset {token} holds {dim} ({fs[7]})")
                ftok = f.token or secrets.token_hex(16)
                box = f.bbox if f.bbox is not None else (None, None, None, None)
                thumb = None if f.thumbnail is None else self.cipher.seal(f.thumbnail, ftok.encode() + b"/thumb")
                rows.append((ftok, fid, validate.subject(f.subject), gen, self.cipher.seal(vec.tobytes(), ftok.encode()),
                             *box, f.quality, f.image_sha256, thumb, now if f.created is None else f.created))  # fmt: skip
                tokens.append(ftok)
            c.executemany(
                "INSERT INTO faces(token, faceset_id, subject, gen, embedding, x1, y1, x2, y2, quality, image_sha256, thumbnail, created)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            c.execute(
                "UPDATE facesets SET generation=?, face_count=face_count+?, updated=? WHERE id=?", (gen, len(rows), now, fid)
            )
        return [
            FaceRecord(t, token, r[2], None if r[5] is None else tuple(r[5:9]), r[9], r[10], r[12], r[11] is not None)
            for t, r in zip(tokens, rows)
        ]

    def _remove(self, tenant: str, token: str, where: str, args: Sequence) -> int:
        with self._write() as c:
            fs = self._faceset_row(c, tenant, token, None)
            fid, gen = fs[0], fs[11] + 1
            ids = [r[0] for r in c.execute(f"SELECT id FROM faces WHERE faceset_id=? AND {where}", [fid, *args])]
            if not ids:
                return 0
            for part in _chunks(ids):
                c.execute(f"DELETE FROM faces WHERE id IN ({','.join('?' * len(part))})", part)
            c.executemany("INSERT INTO tombstones(faceset_id, gen, face_id) VALUES (?,?,?)", [(fid, gen, i) for i in ids])
            c.execute(
                "UPDATE facesets SET generation=?, face_count=face_count-?, updated=? WHERE id=?",
                (gen, len(ids), time.time(), fid),
            )
            self._prune_tombstones(c, fid)
        self.erase_now()
        return len(ids)

    def _prune_tombstones(self, c: sqlite3.Connection, fid: int) -> None:
        n = c.execute("SELECT COUNT(*) FROM tombstones WHERE faceset_id=?", (fid,)).fetchone()[0]
        if n <= TOMBSTONES_KEPT:
            return
        cut = c.execute(
            "SELECT gen FROM tombstones WHERE faceset_id=? ORDER BY gen DESC LIMIT 1 OFFSET ?", (fid, TOMBSTONES_KEPT // 2)
        ).fetchone()[0]
        c.execute("DELETE FROM tombstones WHERE faceset_id=? AND gen<=?", (fid, cut))
        c.execute("UPDATE facesets SET removed_floor=? WHERE id=?", (cut, fid))

    def remove_faces(self, tenant: str, token: str, face_tokens: Sequence[str]) -> int:
        total = 0
        for part in _chunks(list(face_tokens)):
            total += self._remove(tenant, token, f"token IN ({','.join('?' * len(part))})", part)
        return total

    def remove_subject(self, tenant: str, token: str, subject: str) -> int:
        return self._remove(tenant, token, "subject=?", [subject])

    def list_faces(self, tenant: str, token: str, start: int = 0, limit: int = 100, subject: str | None = None) -> Page:
        c = self._conn()
        fid = self._faceset_row(c, tenant, token, None)[0]
        where, args = "f.faceset_id=?", [fid]
        if subject is not None:
            where += " AND f.subject=?"
            args.append(subject)
        total = c.execute(f"SELECT COUNT(*) FROM faces f WHERE {where}", args).fetchone()[0]
        rows = c.execute(
            f"SELECT {_FACE_COLS} FROM faces f JOIN facesets s ON s.id=f.faceset_id WHERE {where} ORDER BY f.id LIMIT ? OFFSET ?",
            [*args, limit, start],
        )
        items = tuple(face_from_row(r) for r in rows)
        return Page.of(items, total, start)

    def _face_row(self, tenant: str, face_token: str, cols: str) -> tuple:
        row = (
            self._conn()
            .execute(
                f"SELECT {cols} FROM faces f JOIN facesets s ON s.id=f.faceset_id WHERE s.tenant=? AND f.token=?",
                (tenant, face_token),
            )
            .fetchone()
        )
        if row is None:
            raise InvalidFaceToken(f"no face with token {face_token!r}", face_token=face_token)
        return row

    def get_face(self, tenant: str, face_token: str) -> FaceRecord:
        return face_from_row(self._face_row(tenant, face_token, _FACE_COLS))

    def get_embedding(self, tenant: str, face_token: str) -> np.ndarray:
        blob = self._face_row(tenant, face_token, "f.embedding")[0]
        return np.frombuffer(self.cipher.open(blob, face_token.encode()), dtype="<f4").astype(np.float32)

    def get_thumbnail(self, tenant: str, face_token: str) -> bytes | None:
        blob = self._face_row(tenant, face_token, "f.thumbnail")[0]
        return None if blob is None else self.cipher.open(blob, face_token.encode() + b"/thumb")

    def known_images(self, tenant: str, token: str, sha256s: Sequence[str]) -> set[str]:
        c = self._conn()
        fid = self._faceset_row(c, tenant, token, None)[0]
        out: set[str] = set()
        for part in _chunks(list(sha256s)):
            q = f"SELECT DISTINCT image_sha256 FROM faces WHERE faceset_id=? AND image_sha256 IN ({','.join('?' * len(part))})"
            out.update(r[0] for r in c.execute(q, [fid, *part]))
        return out

    # -- what the index reads -----------------------------------------------------------------
    def faceset_id(self, tenant: str, token: str) -> int:
        return int(self._faceset_row(self._conn(), tenant, token, None)[0])

    def index_state(self, faceset_id: int) -> IndexState:
        row = (
            self._conn()
            .execute("SELECT generation, face_count, removed_floor FROM facesets WHERE id=?", (faceset_id,))
            .fetchone()
        )
        if row is None:
            raise InvalidFacesetToken("the faceset was deleted")
        return IndexState(*row)

    @contextmanager
    def index_marker(self, faceset_id: int, name: str) -> Iterator[Marker]:
        with file_lock(self.path.parent / "locks" / f"marker-{faceset_id}-{name}.lock"):
            row = self._conn().execute(
                "SELECT generation FROM index_markers WHERE faceset_id=? AND name=?", (faceset_id, name)
            ).fetchone()
            marker = Marker(-1 if row is None else int(row[0]))
            before = marker.generation
            yield marker
            if marker.generation != before:
                with self._write() as c:
                    c.execute(
                        "INSERT INTO index_markers(faceset_id, name, generation) VALUES (?, ?, ?)"
                        " ON CONFLICT(faceset_id, name) DO UPDATE SET generation=excluded.generation",
                        (faceset_id, name, marker.generation),
                    )

    def _vectors(self, rows: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if self.cipher.enabled:
            data = b"".join(self.cipher.open(r[2], r[1].encode()) for r in rows)
        else:
            data = b"".join(r[2] for r in rows)
        return ids, np.frombuffer(data, dtype="<f4").reshape(len(rows), -1).astype(np.float32, copy=False)

    def added_since(
        self, faceset_id: int, generation: int, chunk: int = 20000, upto: int | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        last, c = -1, self._conn()
        upto = (1 << 62) if upto is None else upto
        while True:
            rows = c.execute(
                "SELECT id, token, embedding FROM faces WHERE faceset_id=? AND gen>? AND gen<=? AND id>? ORDER BY id LIMIT ?",
                (faceset_id, generation, upto, last, chunk),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield self._vectors(rows)

    def removed_since(self, faceset_id: int, generation: int, upto: int | None = None) -> np.ndarray:
        upto = (1 << 62) if upto is None else upto
        rows = (
            self._conn()
            .execute("SELECT face_id FROM tombstones WHERE faceset_id=? AND gen>? AND gen<=?", (faceset_id, generation, upto))
            .fetchall()
        )
        return np.array([r[0] for r in rows], dtype=np.int64)

    def fetch_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c, rows = self._conn(), []
        for part in _chunks([int(i) for i in ids]):
            rows += c.execute(
                f"SELECT id, token, embedding FROM faces WHERE id IN ({','.join('?' * len(part))})", part
            ).fetchall()
        if not rows:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
        return self._vectors(rows)

    def resolve(self, ids: np.ndarray) -> dict[int, Resolved]:
        c, out = self._conn(), {}
        for part in _chunks([int(i) for i in ids]):
            q = f"SELECT f.id, f.token, f.subject, s.token FROM faces f JOIN facesets s ON s.id=f.faceset_id WHERE f.id IN ({','.join('?' * len(part))})"
            for r in c.execute(q, part):
                out[r[0]] = Resolved(r[1], r[2], r[3])
        return out

