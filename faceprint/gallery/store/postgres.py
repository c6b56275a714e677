"""PostgreSQL: one store shared by several API nodes (``--store postgresql://user@host/db``).

- A thread-safe pool of autocommit connections. Every write is one explicit transaction that
  first locks its gallery's row (``SELECT ... FOR UPDATE``), so a gallery's generation and face
  count advance one writer at a time, whichever node the writers run on.
- Face ids come from an identity sequence: never reused, not even after a rollback.
- Embeddings and thumbnails (sealed by the :class:`Cipher` when a key is set) live in one table
  per gallery, ``face_vectors_<id>``: erasing rewrites only that table, deleting the gallery drops
  it (:mod:`.pg_erase`). Another tenant's gallery or face answers exactly like a missing one.
- The schema is versioned (:mod:`.migrations`) and brought up to date at open.
- The SQL is shared with SQLite (:mod:`.sql`); detected faces keep their templates in ``face_vectors_0``.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ...errors import (
    BadInput,
    FacesetExist,
    GalleryError,
    InvalidFacesetToken,
    PackMismatch,
)
from ...redact import mask_url
from ...service.db import PgConn, to_pyformat
from .. import validate
from ..crypto import Cipher
from ..types import FaceRecord, FaceSet, NewFace, NewFaceSet
from . import StoreOptions, migrations, register_store
from .base import FACESET_COLS, Marker, Store
from .dialect import POSTGRESQL
from .sql_detected import DetectedSqlStore

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg_pool import ConnectionPool
except ImportError:  # the [scale] extra is not installed: opening a store says so
    psycopg = None  # type: ignore[assignment]
else:
    from . import pg_erase
    from . import pg_vectors as vectors

log = logging.getLogger(__name__)
POOL_MAX = 16  # connections per store (per API process)
ERASE_WAIT = 30.0  # seconds a removal waits for older snapshots before rewriting the gallery's vectors
_COPY = (
    "COPY faces(id, token, tenant, pack, faceset_id, subject, gen, x1, y1, x2, y2, quality, image_sha256, has_thumbnail,"
    " created, expires, analysis) FROM STDIN"
)


def _box(b: Sequence[float]) -> tuple[float, float, float, float]:
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def _lock_key(faceset_id: int, name: str) -> int:
    """A signed 64-bit advisory-lock key for (gallery, index name)."""
    digest = hashlib.blake2b(f"faceprint-marker/{faceset_id}/{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _pool(url: str, name: str, min_size: int, max_size: int) -> ConnectionPool:
    return ConnectionPool(
        url, min_size=min_size, max_size=max_size, kwargs={"autocommit": True}, check=ConnectionPool.check_connection,
        name=name, open=True,
    )  # fmt: skip


class PostgresStore(DetectedSqlStore):
    dialect = POSTGRESQL

    def __init__(self, url: str, cipher: Cipher | None = None, *, pool_max: int = POOL_MAX, erase_wait: float = ERASE_WAIT) -> None:
        if psycopg is None:
            raise GalleryError("a postgresql:// store needs psycopg: pip install 'faceprint[scale]'", store=mask_url(url))
        self.where = mask_url(url)
        self.cipher = cipher or Cipher(None)
        self.erase_wait = erase_wait
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=10) as c:
                migrations.migrate(c)
                self._check_key(c)
        except psycopg.OperationalError as exc:
            raise GalleryError(f"cannot open the store at {self.where}: {str(exc).strip()}", store=self.where) from None
        self._pool = _pool(url, "faceprint-store", 1, pool_max)
        # Markers hold a connection for the whole block, and the block reads the store: from a pool of
        # their own, taken by one thread per (gallery, name) in this process, they never starve the reads.
        self._marker_pool = _pool(url, "faceprint-markers", 0, pool_max)
        self._marker_locks: dict[int, threading.Lock] = {}
        self._marker_locks_guard = threading.Lock()

    def _check_key(self, c: Any) -> None:
        with c.transaction():
            c.execute(
                "INSERT INTO meta(key, value) VALUES ('encryption', %s), ('key_check', %s) ON CONFLICT (key) DO NOTHING",
                (self.cipher.name, self.cipher.check_value()),
            )
        rows = dict(c.execute("SELECT key, value FROM meta").fetchall())
        self.cipher.verify(rows.get("encryption", "none"), rows.get("key_check", ""))

    # -- connections --------------------------------------------------------------------------
    @contextmanager
    def _conn(self, pool: ConnectionPool | None = None) -> Iterator[Any]:
        try:
            with (pool or self._pool).connection() as c:
                yield c
        except psycopg.OperationalError as exc:
            raise GalleryError(f"the store at {self.where} failed: {str(exc).strip()}", store=self.where) from None
        except psycopg.DataError as exc:
            raise BadInput(f"the store cannot hold this value: {str(exc).strip()}") from None

    @contextmanager
    def _read(self) -> Iterator[PgConn]:
        with self._conn() as c:
            yield PgConn(c)

    @contextmanager
    def _tx(self) -> Iterator[PgConn]:
        with self._conn() as c, c.transaction():
            yield PgConn(c)

    def close(self) -> None:
        self._marker_pool.close()
        self._pool.close()

    # -- galleries ----------------------------------------------------------------------------
    def create_faceset(self, new: NewFaceSet) -> FaceSet:
        outer = validate.outer_id(new.outer_id)
        tags = list(validate.tags(new.tags))
        now = time.time()
        token = new.token or secrets.token_hex(16)
        try:
            with self._tx() as c:
                fid = c.execute(
                    "INSERT INTO facesets(token, tenant, outer_id, display_name, tags, user_data, pack, dim, index_spec, created, updated)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
                    (token, new.tenant, outer, validate.display_name(new.display_name), tags, validate.user_data(new.user_data),
                     new.pack, new.dim, new.index_spec, now if new.created is None else new.created, now),
                ).fetchone()[0]  # fmt: skip
                vectors.create(c.raw, fid)
                row = c.execute(f"SELECT {FACESET_COLS} FROM facesets WHERE id=?", (fid,)).fetchone()
        except pg_errors.UniqueViolation as exc:
            if exc.diag.constraint_name == "facesets_token_key":
                raise FacesetExist(f"a faceset with token {token!r} exists", faceset_token=token) from None
            raise FacesetExist(f"a faceset with outer_id {outer!r} exists", outer_id=outer) from None
        return self._faceset(row)

    def delete_faceset(self, tenant: str, token: str) -> int:
        with self._tx() as c:
            fid = self._faceset_row(c, tenant, token, None, lock=True)[0]
            vectors.drop(c.raw, fid)  # its files go at commit
            n = c.execute("DELETE FROM faces WHERE faceset_id=?", (fid,)).rowcount
            c.execute("DELETE FROM tombstones WHERE faceset_id=?", (fid,))
            c.execute("DELETE FROM facesets WHERE id=?", (fid,))  # and its index markers
        return int(n)

    # -- hooks of the shared SQL ----------------------------------------------------------------
    def add_faces(self, tenant: str, token: str, faces: Sequence[NewFace]) -> list[FaceRecord]:
        try:
            return super().add_faces(tenant, token, faces)
        except pg_errors.UniqueViolation:
            raise BadInput("a face with one of these tokens is stored already") from None

    def _insert(self, c: Any, fs: tuple[str, str, int, int | None, int], faces: Sequence[NewFace], expires: float | None) -> list[FaceRecord]:
        """COPY the faces and their vectors (to the gallery's table, or face_vectors_0 while detected)."""
        tenant, pack, dim, fid, gen = fs
        now, seal = time.time(), self.cipher.seal
        vecs = [np.asarray(f.embedding, dtype="<f4").reshape(-1) for f in faces]
        for v in vecs:
            if v.shape[0] != dim:
                raise PackMismatch(f"embedding has {v.shape[0]} dimensions; the faceset holds {dim} ({pack})")
        records = [
            FaceRecord(
                f.token or secrets.token_hex(16), "", validate.subject(f.subject),
                None if f.bbox is None else _box(f.bbox), None if f.quality is None else float(f.quality),
                f.image_sha256, now if f.created is None else f.created, f.thumbnail is not None,
            )
            for f in faces
        ]
        ids = sorted(r[0] for r in c.execute(
            "SELECT nextval(pg_get_serial_sequence('faces', 'id')) FROM generate_series(1, ?)", (len(faces),)
        ).fetchall())  # fmt: skip
        with c.raw.cursor().copy(_COPY) as cp:
            for i, r, f in zip(ids, records, faces, strict=True):
                analysis = None if f.analysis is None else seal(f.analysis, r.token.encode() + b"/a")
                cp.write_row((i, r.token, tenant, pack, fid, r.subject, gen, *(r.bbox or (None,) * 4), r.quality, r.image_sha256,
                              r.has_thumbnail, r.created, expires, analysis))  # fmt: skip
        vectors.write(c.raw, fid or 0, (
            (i, seal(v.tobytes(), r.token.encode()), None if f.thumbnail is None else seal(f.thumbnail, r.token.encode() + b"/thumb"))
            for i, r, f, v in zip(ids, records, faces, vecs, strict=True)
        ))  # fmt: skip
        return records

    def _delete_rows(self, c: Any, home: int, ids: Sequence[int]) -> None:
        c.execute("DELETE FROM faces WHERE id = ANY(?)", (list(ids),))
        vectors.delete(c.raw, home, ids)

    def _move_vectors(self, c: Any, ids: Sequence[int], home: int) -> None:
        vectors.move(c.raw, ids, 0, home)

    def _embedding(self, c: Any, home: int, face_id: int) -> bytes | None:
        row = vectors.column(c.raw, home, face_id, "embedding")
        return None if row is None else row[0]

    def _thumbnail(self, c: Any, home: int, face_id: int) -> bytes | None:
        row = vectors.column(c.raw, home, face_id, "thumbnail")
        return None if row is None else row[0]

    def _reseal(self, c: Any, home: int, face_id: int, embedding: bytes, thumbnail: bytes | None) -> None:
        vectors.reseal(c.raw, home, face_id, embedding, thumbnail)

    def _vectors_where(self, c: Any, faceset_id: int, where: str, args: Sequence[object]) -> list[tuple[Any, ...]]:
        return vectors.read(c.raw, faceset_id, to_pyformat(where), args)

    def _removal(self, c: Any) -> object:
        return pg_erase.removal_xid(c.raw)

    def _erase(self, home: int, removal: object) -> None:
        """Rewrite the gallery's vectors so no table file keeps the rows removed by ``removal`` (an xid)."""
        with self._conn() as c:
            pg_erase.rewrite(c, vectors.table(home), str(removal), self.erase_wait)

    # -- what the index reads -----------------------------------------------------------------
    @contextmanager
    def index_marker(self, faceset_id: int, name: str) -> Iterator[Marker]:
        """A transaction holding ``pg_advisory_xact_lock`` on (gallery, name): one holder in the cluster."""
        key = _lock_key(faceset_id, name)
        with self._marker_locks_guard:
            local = self._marker_locks.setdefault(key, threading.Lock())
        try:
            with local, self._conn(self._marker_pool) as c, c.transaction():
                c.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
                row = c.execute(
                    "SELECT generation FROM index_markers WHERE faceset_id=%s AND name=%s", (faceset_id, name)
                ).fetchone()
                marker = Marker(-1 if row is None else int(row[0]))
                before = marker.generation
                yield marker
                if marker.generation != before:
                    c.execute(
                        "INSERT INTO index_markers(faceset_id, name, generation) VALUES (%s, %s, %s)"
                        " ON CONFLICT (faceset_id, name) DO UPDATE SET generation=excluded.generation",
                        (faceset_id, name, marker.generation),
                    )
        except pg_errors.ForeignKeyViolation:
            raise InvalidFacesetToken("the faceset was deleted") from None

    def fetch_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wanted = [int(i) for i in ids]
        rows: list[tuple[Any, ...]] = []
        with self._conn() as c:
            groups = c.execute("SELECT faceset_id, array_agg(id) FROM faces WHERE id = ANY(%s) GROUP BY faceset_id", (wanted,))
            for fid, part in groups.fetchall():
                try:
                    rows += vectors.read(c, fid, "f.id = ANY(%s)", (part,))
                except InvalidFacesetToken:
                    continue  # deleted meanwhile: its labels are left out
        if not rows:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
        return self._decode(rows)



def _open(url: str, options: StoreOptions) -> Store:
    return PostgresStore(url, options.cipher)


register_store("postgresql", _open)
