"""SQLite in WAL mode: the source of truth for galleries, faces and embeddings.

- ``synchronous=FULL``: a write is acknowledged only after its WAL frames are on disk, so it
  survives ``kill -9`` (and power loss).
- ``secure_delete=ON`` zeroes deleted rows in place, and every removal ends with a
  ``wal_checkpoint(TRUNCATE)``, so no copy of an erased embedding stays in the database or its WAL.
- One connection per thread; writers take the lock up front (``BEGIN IMMEDIATE``).
- The SQL is shared with PostgreSQL (:mod:`.sql`); the template is a column of ``faces`` here.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import FacesetExist, PackMismatch
from ...sqlite_conn import Pragmas, ThreadConnections, checkpoint, immediate
from .. import validate
from ..crypto import Cipher
from ..locks import file_lock
from ..types import FaceRecord, FaceSet, NewFace, NewFaceSet
from . import sqlite_migrate
from .base import Marker
from .dialect import SQLITE, chunks
from .sql_detected import DetectedSqlStore

log = logging.getLogger(__name__)
_INSERT = (
    "INSERT INTO faces(token, tenant, pack, faceset_id, subject, gen, embedding, x1, y1, x2, y2, quality, image_sha256,"
    " thumbnail, created, expires, analysis) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


class SqliteStore(DetectedSqlStore):
    dialect = SQLITE

    def __init__(self, path: str | Path, cipher: Cipher | None = None, *, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.cipher = cipher or Cipher(None)
        self._conns = ThreadConnections(self.path, Pragmas(synchronous=synchronous, secure_delete=True, foreign_keys=True, timeout_s=60.0))
        self._init_schema()

    # -- connections --------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        return self._conns.get()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        yield self._conn()

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate(self._conn())

    def _init_schema(self) -> None:
        with self._tx() as c:
            c.execute(sqlite_migrate.META)
            rows = dict(c.execute("SELECT key, value FROM meta").fetchall())
            if not rows:
                version = sqlite_migrate.create(c)
                c.executemany(
                    "INSERT INTO meta(key, value) VALUES (?, ?)",
                    [("schema", str(version)), ("encryption", self.cipher.name), ("key_check", self.cipher.check_value())],
                )
        if rows:
            sqlite_migrate.migrate(c, int(rows.get("schema", 1)), sqlite_migrate.latest(), self.path)
            self.cipher.verify(rows.get("encryption", "none"), rows.get("key_check", ""))

    def close(self) -> None:
        self._conns.close()

    def erase_now(self) -> bool:
        """Fold the WAL into the database and truncate it, so removed rows have no copy left."""
        for _ in range(50):
            if checkpoint(self._conn()):
                return True
            time.sleep(0.1)
        log.warning("could not truncate the WAL of %s: readers kept it busy; removed rows stay in it until then", self.path)
        return False

    # -- galleries ----------------------------------------------------------------------------
    def create_faceset(self, new: NewFaceSet) -> FaceSet:
        outer = validate.outer_id(new.outer_id)
        tags = validate.tags(new.tags)
        now = time.time() if new.created is None else new.created
        token = new.token or secrets.token_hex(16)
        with self._tx() as c:
            if outer is not None and c.execute("SELECT 1 FROM facesets WHERE tenant=? AND outer_id=?", (new.tenant, outer)).fetchone():
                raise FacesetExist(f"a faceset with outer_id {outer!r} exists", outer_id=outer)
            c.execute(
                "INSERT INTO facesets(token, tenant, outer_id, display_name, tags, user_data, pack, dim, index_spec, created, updated)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (token, new.tenant, outer, validate.display_name(new.display_name), self.dialect.tags_in(tags),
                 validate.user_data(new.user_data), new.pack, new.dim, new.index_spec, now, now),
            )  # fmt: skip
        return self.get_faceset(new.tenant, token)

    def delete_faceset(self, tenant: str, token: str) -> int:
        with self._tx() as c:
            fid = self._faceset_row(c, tenant, token, None)[0]
            n = c.execute("DELETE FROM faces WHERE faceset_id=?", (fid,)).rowcount
            c.execute("DELETE FROM tombstones WHERE faceset_id=?", (fid,))
            c.execute("DELETE FROM facesets WHERE id=?", (fid,))
        self.erase_now()
        return int(n)

    # -- hooks of the shared SQL ----------------------------------------------------------------
    def _insert(self, c: Any, fs: tuple[str, str, int, int | None, int], faces: Sequence[NewFace], expires: float | None) -> list[FaceRecord]:
        tenant, pack, dim, fid, gen = fs
        now, seal = time.time(), self.cipher.seal
        records = []
        for f in faces:
            vec = np.asarray(f.embedding, dtype="<f4").reshape(-1)
            if vec.shape[0] != dim:
                raise PackMismatch(f"embedding has {vec.shape[0]} dimensions; the faceset holds {dim} ({pack})")
            tok = f.token or secrets.token_hex(16)
            box = tuple(float(b) for b in f.bbox) if f.bbox is not None else (None, None, None, None)
            thumb = None if f.thumbnail is None else seal(f.thumbnail, tok.encode() + b"/thumb")
            analysis = None if f.analysis is None else seal(f.analysis, tok.encode() + b"/a")
            quality = None if f.quality is None else float(f.quality)
            created = now if f.created is None else f.created
            c.execute(_INSERT, (tok, tenant, pack, fid, validate.subject(f.subject), gen, seal(vec.tobytes(), tok.encode()), *box,
                                quality, f.image_sha256, thumb, created, expires, analysis))  # fmt: skip
            bbox = None if f.bbox is None else box
            records.append(FaceRecord(tok, "", validate.subject(f.subject), bbox, quality, f.image_sha256, created, thumb is not None))  # type: ignore[arg-type]
        return records

    def _delete_rows(self, c: Any, home: int, ids: Sequence[int]) -> None:
        frag, args = self.dialect.any("id", ids)
        c.execute(f"DELETE FROM faces WHERE {frag}", args)

    def _move_vectors(self, c: Any, ids: Sequence[int], home: int) -> None:
        pass  # the template is a column of the face's row

    def _embedding(self, c: Any, home: int, face_id: int) -> bytes | None:
        row = c.execute("SELECT embedding FROM faces WHERE id=?", (face_id,)).fetchone()
        return None if row is None else row[0]

    def _reseal(self, c: Any, home: int, face_id: int, embedding: bytes, thumbnail: bytes | None) -> None:
        c.execute("UPDATE faces SET embedding=?, thumbnail=? WHERE id=?", (embedding, thumbnail, face_id))

    def _vectors_where(self, c: Any, faceset_id: int, where: str, args: Sequence[object]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = c.execute(f"SELECT f.id, f.token, f.embedding FROM faces f WHERE {where}", args).fetchall()
        return rows

    def _removal(self, c: Any) -> object:
        return None

    def _erase(self, home: int, removal: object) -> None:
        self.erase_now()

    # -- what the index reads -----------------------------------------------------------------
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
                with self._tx() as c:
                    c.execute(
                        "INSERT INTO index_markers(faceset_id, name, generation) VALUES (?, ?, ?)"
                        " ON CONFLICT(faceset_id, name) DO UPDATE SET generation=excluded.generation",
                        (faceset_id, name, marker.generation),
                    )

    def fetch_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows: list[tuple[Any, ...]] = []
        with self._read() as c:
            for part in chunks([int(i) for i in ids], self.dialect):
                frag, args = self.dialect.any("f.id", part)
                rows += self._vectors_where(c, 0, f"{frag} AND f.faceset_id IS NOT NULL", args)
        if not rows:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
        return self._decode(rows)
