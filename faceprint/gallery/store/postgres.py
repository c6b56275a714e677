"""PostgreSQL: one store shared by several API nodes (``--store postgresql://user@host/db``).

- A thread-safe pool of autocommit connections. Every write is one explicit transaction that
  first locks its gallery's row (``SELECT ... FOR UPDATE``), so a gallery's generation and face
  count advance one writer at a time, whichever node the writers run on.
- Face ids come from an identity sequence: never reused, not even after a rollback.
- Embeddings and thumbnails (sealed by the :class:`Cipher` when a key is set) live in one table
  per gallery, ``face_vectors_<id>``: erasing rewrites only that table, deleting the gallery drops
  it (:mod:`.pg_erase`). Another tenant's gallery or face answers exactly like a missing one.
- The schema is versioned (:mod:`.migrations`) and brought up to date at open.
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

from ...errors import BadInput, FacesetExist, GalleryError, InvalidFacesetToken, InvalidFaceToken, InvalidOuterId, PackMismatch
from ...redact import mask_url
from .. import validate
from ..crypto import Cipher
from ..types import FaceRecord, FaceSet, FaceSetUpdate, NewFace, NewFaceSet, Page
from . import StoreOptions, migrations, register_store
from .base import IndexState, Marker, Resolved, Store, StoreStats, face_from_row, faceset_from_row

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg import sql
    from psycopg_pool import ConnectionPool
except ImportError:  # the [scale] extra is not installed: opening a store says so
    psycopg = None  # type: ignore[assignment]
else:
    from . import pg_erase
    from . import pg_vectors as vectors

log = logging.getLogger(__name__)
POOL_MAX = 16  # connections per store (per API process)
ERASE_WAIT = 30.0  # seconds a removal waits for older snapshots before rewriting the gallery's vectors
TOMBSTONES_KEPT = 100_000  # removals listed per gallery; an index older than that rebuilds
_FACESET_COLS = (
    "id, token, tenant, outer_id, display_name, tags, user_data, pack, dim, index_spec, face_count, generation, created, updated"
)
_FACE_COLS = "f.token, s.token, f.subject, f.x1, f.y1, f.x2, f.y2, f.quality, f.image_sha256, f.created, f.has_thumbnail"


def _faceset(row: tuple) -> FaceSet:
    return faceset_from_row(row, row[5])


def _storable(values: Sequence[str]) -> list[str]:
    """PostgreSQL text cannot hold NUL, so no stored name has one: such names match nothing."""
    return [v for v in values if "\x00" not in v]


def _lock_key(faceset_id: int, name: str) -> int:
    """A signed 64-bit advisory-lock key for (gallery, index name)."""
    digest = hashlib.blake2b(f"faceprint-marker/{faceset_id}/{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _pool(url: str, name: str, min_size: int, max_size: int) -> ConnectionPool:
    return ConnectionPool(
        url, min_size=min_size, max_size=max_size, kwargs={"autocommit": True}, check=ConnectionPool.check_connection,
        name=name, open=True,
    )  # fmt: skip


class PostgresStore(Store):
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
    def _tx(self) -> Iterator[Any]:
        with self._conn() as c, c.transaction():
            yield c

    def close(self) -> None:
        self._marker_pool.close()
        self._pool.close()

    def stats(self) -> StoreStats:
        with self._conn() as c:
            galleries, faces = c.execute("SELECT COUNT(*), COALESCE(SUM(face_count), 0) FROM facesets").fetchone()
        return StoreStats(int(galleries), int(faces))

    # -- galleries ----------------------------------------------------------------------------
    def _faceset_row(self, c: Any, tenant: str, token: str | None, outer_id: str | None, lock: bool = False) -> tuple:
        if token is None and outer_id is None:
            raise InvalidFacesetToken("name a faceset by faceset_token or outer_id")
        col, value = ("token", token) if token is not None else ("outer_id", outer_id)
        q = f"SELECT {_FACESET_COLS} FROM facesets WHERE tenant=%s AND {col}=%s" + (" FOR UPDATE" if lock else "")
        row = None if "\x00" in value else c.execute(q, (tenant, value)).fetchone()  # type: ignore[operator]
        if row is None and token is not None:
            raise InvalidFacesetToken(f"no faceset with token {token!r}", faceset_token=token)
        if row is None:
            raise InvalidOuterId(f"no faceset with outer_id {outer_id!r}", outer_id=outer_id)
        return row

    def create_faceset(self, new: NewFaceSet) -> FaceSet:
        outer = validate.outer_id(new.outer_id)
        tags = list(validate.tags(new.tags))
        now = time.time()
        token = new.token or secrets.token_hex(16)
        try:
            with self._tx() as c:
                fid = c.execute(
                    "INSERT INTO facesets(token, tenant, outer_id, display_name, tags, user_data, pack, dim, index_spec, created, updated)"
                    " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) RETURNING id",
                    (token, new.tenant, outer, validate.display_name(new.display_name), tags, validate.user_data(new.user_data),
                     new.pack, new.dim, new.index_spec, now if new.created is None else new.created, now),
                ).fetchone()[0]  # fmt: skip
                vectors.create(c, fid)
                row = c.execute(f"SELECT {_FACESET_COLS} FROM facesets WHERE id=%s", (fid,)).fetchone()
        except pg_errors.UniqueViolation as exc:
            if exc.diag.constraint_name == "facesets_token_key":
                raise FacesetExist(f"a faceset with token {token!r} exists", faceset_token=token) from None
            raise FacesetExist(f"a faceset with outer_id {outer!r} exists", outer_id=outer) from None
        return _faceset(row)

    def get_faceset(self, tenant: str, token: str | None = None, outer_id: str | None = None) -> FaceSet:
        with self._conn() as c:
            return _faceset(self._faceset_row(c, tenant, token, outer_id))

    def list_facesets(self, tenant: str, start: int = 0, limit: int = 100, tag: str | None = None) -> Page:
        where, args = "tenant=%s", [tenant]
        if tag is not None:
            where += " AND tags && %s::text[]"
            args.append(_storable([tag]))
        with self._conn() as c:
            total = c.execute(f"SELECT COUNT(*) FROM facesets WHERE {where}", args).fetchone()[0]
            rows = c.execute(
                f"SELECT {_FACESET_COLS} FROM facesets WHERE {where} ORDER BY id LIMIT %s OFFSET %s", [*args, limit, start]
            ).fetchall()
        return Page.of(tuple(_faceset(r) for r in rows), total, start)

    def tenants(self) -> list[str]:
        with self._conn() as c:
            return [r[0] for r in c.execute("SELECT DISTINCT tenant FROM facesets ORDER BY tenant")]

    def update_faceset(self, tenant: str, token: str, update: FaceSetUpdate) -> FaceSet:
        sets: dict[str, object] = {}
        if update.outer_id is not None:
            sets["outer_id"] = validate.outer_id(update.outer_id)
        if update.display_name is not None:
            sets["display_name"] = validate.display_name(update.display_name)
        if update.tags is not None:
            sets["tags"] = list(validate.tags(update.tags))
        if update.user_data is not None:
            sets["user_data"] = validate.user_data(update.user_data)
        try:
            with self._tx() as c:
                row = self._faceset_row(c, tenant, token, None, lock=True)
                if sets:
                    cols = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in sets)
                    c.execute(
                        sql.SQL("UPDATE facesets SET {}, updated = %s WHERE id = %s").format(cols),
                        [*sets.values(), time.time(), row[0]],
                    )
        except pg_errors.UniqueViolation:
            raise FacesetExist(f"a faceset with outer_id {sets['outer_id']!r} exists", outer_id=sets["outer_id"]) from None
        return self.get_faceset(tenant, token)

    def delete_faceset(self, tenant: str, token: str) -> int:
        with self._tx() as c:
            fid = self._faceset_row(c, tenant, token, None, lock=True)[0]
            vectors.drop(c, fid)  # its files go at commit
            n = c.execute("DELETE FROM faces WHERE faceset_id=%s", (fid,)).rowcount
            c.execute("DELETE FROM tombstones WHERE faceset_id=%s", (fid,))
            c.execute("DELETE FROM facesets WHERE id=%s", (fid,))  # and its index markers
        return n

    # -- faces --------------------------------------------------------------------------------
    def add_faces(self, tenant: str, token: str, faces: Sequence[NewFace]) -> list[FaceRecord]:
        now = time.time()
        try:
            with self._tx() as c:
                fs = self._faceset_row(c, tenant, token, None, lock=True)
                records = self._insert_faces(c, fs, faces, now)
                c.execute(
                    "UPDATE facesets SET generation=%s, face_count=face_count+%s, updated=%s WHERE id=%s",
                    (fs[11] + 1, len(records), now, fs[0]),
                )
        except pg_errors.UniqueViolation:
            raise BadInput("a face with one of these tokens is stored already") from None
        return records

    def _insert_faces(self, c: Any, fs: tuple, faces: Sequence[NewFace], now: float) -> list[FaceRecord]:
        """COPY the faces (generation ``fs.generation + 1``) and their vectors; the caller bumps the gallery."""
        fid, token, dim, gen = fs[0], fs[1], fs[8], fs[11] + 1
        vecs = [np.asarray(f.embedding, dtype="<f4").reshape(-1) for f in faces]
        for v in vecs:
            if v.shape[0] != dim:
                raise PackMismatch(f"embedding has {v.shape[0]} dimensions; faceset {token} holds {dim} ({fs[7]})")
        records = [
            FaceRecord(
                f.token or secrets.token_hex(16), token, validate.subject(f.subject),
                None if f.bbox is None else tuple(float(b) for b in f.bbox), None if f.quality is None else float(f.quality),
                f.image_sha256, now if f.created is None else f.created, f.thumbnail is not None,
            )  # fmt: skip
            for f in faces
        ]
        ids = sorted(r[0] for r in c.execute(
            "SELECT nextval(pg_get_serial_sequence('faces', 'id')) FROM generate_series(1, %s)", (len(faces),)
        ))  # fmt: skip
        with c.cursor().copy(
            "COPY faces(id, token, faceset_id, subject, gen, x1, y1, x2, y2, quality, image_sha256, has_thumbnail, created)"
            " FROM STDIN"
        ) as cp:
            for i, r in zip(ids, records):
                cp.write_row((i, r.token, fid, r.subject, gen, *(r.bbox or (None,) * 4), r.quality, r.image_sha256,
                              r.has_thumbnail, r.created))  # fmt: skip
        seal = self.cipher.seal
        vectors.write(c, fid, (
            (i, seal(v.tobytes(), r.token.encode()), None if f.thumbnail is None else seal(f.thumbnail, r.token.encode() + b"/thumb"))
            for i, r, f, v in zip(ids, records, faces, vecs)
        ))  # fmt: skip
        return records

    def _remove(self, tenant: str, token: str, where: str, args: Sequence) -> int:
        with self._tx() as c:
            fs = self._faceset_row(c, tenant, token, None, lock=True)
            fid, gen = fs[0], fs[11] + 1
            ids = [r[0] for r in c.execute(f"DELETE FROM faces WHERE faceset_id=%s AND {where} RETURNING id", [fid, *args])]
            if not ids:
                return 0
            vectors.delete(c, fid, ids)
            c.execute("INSERT INTO tombstones(faceset_id, gen, face_id) SELECT %s, %s, unnest(%s::bigint[])", (fid, gen, ids))
            c.execute(
                "UPDATE facesets SET generation=%s, face_count=face_count-%s, updated=%s WHERE id=%s",
                (gen, len(ids), time.time(), fid),
            )
            self._prune_tombstones(c, fid)
            xid = pg_erase.removal_xid(c)
        self._erase(fid, xid)
        return len(ids)

    def _erase(self, faceset_id: int, xid: str) -> bool:
        """Rewrite the gallery's vectors so no table file keeps the rows removed by ``xid``."""
        with self._conn() as c:
            return pg_erase.rewrite(c, vectors.table(faceset_id), xid, self.erase_wait)

    def _prune_tombstones(self, c: Any, fid: int) -> None:
        n = c.execute("SELECT COUNT(*) FROM tombstones WHERE faceset_id=%s", (fid,)).fetchone()[0]
        if n <= TOMBSTONES_KEPT:
            return
        cut = c.execute(
            "SELECT gen FROM tombstones WHERE faceset_id=%s ORDER BY gen DESC LIMIT 1 OFFSET %s", (fid, TOMBSTONES_KEPT // 2)
        ).fetchone()[0]
        c.execute("DELETE FROM tombstones WHERE faceset_id=%s AND gen<=%s", (fid, cut))
        c.execute("UPDATE facesets SET removed_floor=%s WHERE id=%s", (cut, fid))

    def remove_faces(self, tenant: str, token: str, face_tokens: Sequence[str]) -> int:
        return self._remove(tenant, token, "token = ANY(%s)", [_storable(list(face_tokens))])

    def remove_subject(self, tenant: str, token: str, subject: str) -> int:
        return self._remove(tenant, token, "subject = ANY(%s)", [_storable([subject])])

    def list_faces(self, tenant: str, token: str, start: int = 0, limit: int = 100, subject: str | None = None) -> Page:
        with self._conn() as c:
            fid = self._faceset_row(c, tenant, token, None)[0]
            where, args = "f.faceset_id=%s", [fid]
            if subject is not None:
                where += " AND f.subject = ANY(%s)"
                args.append(_storable([subject]))
            total = c.execute(f"SELECT COUNT(*) FROM faces f WHERE {where}", args).fetchone()[0]
            rows = c.execute(
                f"SELECT {_FACE_COLS} FROM faces f JOIN facesets s ON s.id=f.faceset_id WHERE {where}"
                " ORDER BY f.id LIMIT %s OFFSET %s",
                [*args, limit, start],
            ).fetchall()
        return Page.of(tuple(face_from_row(r) for r in rows), total, start)

    def _face_row(self, c: Any, tenant: str, face_token: str, cols: str) -> tuple:
        row = None if "\x00" in face_token else c.execute(
            f"SELECT {cols} FROM faces f JOIN facesets s ON s.id=f.faceset_id WHERE s.tenant=%s AND f.token=%s",
            (tenant, face_token),
        ).fetchone()  # fmt: skip
        if row is None:
            raise InvalidFaceToken(f"no face with token {face_token!r}", face_token=face_token)
        return row

    def get_face(self, tenant: str, face_token: str) -> FaceRecord:
        with self._conn() as c:
            return face_from_row(self._face_row(c, tenant, face_token, _FACE_COLS))

    def _blob(self, tenant: str, face_token: str, column: str) -> bytes | None:
        with self._conn() as c:
            fid, face_id = self._face_row(c, tenant, face_token, "f.faceset_id, f.id")
            row = vectors.column(c, fid, face_id, column)
        if row is None:  # removed between the two reads
            raise InvalidFaceToken(f"no face with token {face_token!r}", face_token=face_token)
        return row[0]

    def get_embedding(self, tenant: str, face_token: str) -> np.ndarray:
        blob = self._blob(tenant, face_token, "embedding")
        return np.frombuffer(self.cipher.open(blob, face_token.encode()), dtype="<f4").astype(np.float32)  # type: ignore[arg-type]

    def get_thumbnail(self, tenant: str, face_token: str) -> bytes | None:
        blob = self._blob(tenant, face_token, "thumbnail")
        return None if blob is None else self.cipher.open(blob, face_token.encode() + b"/thumb")

    def known_images(self, tenant: str, token: str, sha256s: Sequence[str]) -> set[str]:
        with self._conn() as c:
            fid = self._faceset_row(c, tenant, token, None)[0]
            rows = c.execute(
                "SELECT DISTINCT image_sha256 FROM faces WHERE faceset_id=%s AND image_sha256 = ANY(%s)",
                (fid, _storable(list(sha256s))),
            )
            return {r[0] for r in rows}

    # -- what the index reads -----------------------------------------------------------------
    def faceset_id(self, tenant: str, token: str) -> int:
        with self._conn() as c:
            return int(self._faceset_row(c, tenant, token, None)[0])

    def index_state(self, faceset_id: int) -> IndexState:
        with self._conn() as c:
            row = c.execute("SELECT generation, face_count, removed_floor FROM facesets WHERE id=%s", (faceset_id,)).fetchone()
        if row is None:
            raise InvalidFacesetToken("the faceset was deleted")
        return IndexState(*row)

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

    def _decode(self, rows: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        data = b"".join(self.cipher.open(bytes(r[2]), r[1].encode()) for r in rows)
        return ids, np.frombuffer(data, dtype="<f4").reshape(len(rows), -1).astype(np.float32, copy=False)

    def added_since(
        self, faceset_id: int, generation: int, chunk: int = 20000, upto: int | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        last = -1
        upto = (1 << 62) if upto is None else upto
        where = "f.faceset_id=%s AND f.gen>%s AND f.gen<=%s AND f.id>%s"
        while True:
            with self._conn() as c:  # one connection per chunk, none held while the caller works
                rows = vectors.read(c, faceset_id, where + " ORDER BY f.id LIMIT %s", (faceset_id, generation, upto, last, chunk))
            if not rows:
                return
            last = rows[-1][0]
            yield self._decode(rows)

    def removed_since(self, faceset_id: int, generation: int, upto: int | None = None) -> np.ndarray:
        upto = (1 << 62) if upto is None else upto
        with self._conn() as c:
            rows = c.execute(
                "SELECT face_id FROM tombstones WHERE faceset_id=%s AND gen>%s AND gen<=%s", (faceset_id, generation, upto)
            ).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64)

    def fetch_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wanted = [int(i) for i in ids]
        rows: list[tuple] = []
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

    def resolve(self, ids: np.ndarray) -> dict[int, Resolved]:
        with self._conn() as c:
            rows = c.execute(
                "SELECT f.id, f.token, f.subject, s.token FROM faces f JOIN facesets s ON s.id=f.faceset_id WHERE f.id = ANY(%s)",
                ([int(i) for i in ids],),
            ).fetchall()
        return {r[0]: Resolved(r[1], r[2], r[3]) for r in rows}



def _open(url: str, options: StoreOptions) -> Store:
    return PostgresStore(url, options.cipher)


register_store("postgresql", _open)
