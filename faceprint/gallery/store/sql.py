"""The store's SQL, written once for SQLite and PostgreSQL; each store supplies a :class:`~.dialect.Dialect`
and a few hooks (connections, where templates live, erasure).

Connections take ``?`` placeholders. A write is one transaction (:meth:`SqlStore._tx`) that reads
its gallery's row with the dialect's lock first, so a gallery's generation and face count advance
one writer at a time (SQLite: ``BEGIN IMMEDIATE`` holds the file; PostgreSQL: ``FOR UPDATE``).
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

import numpy as np

from ...errors import (
    FacesetExist,
    InvalidFacesetToken,
    InvalidFaceToken,
    InvalidOuterId,
)
from .. import validate
from ..crypto import Cipher
from ..types import FaceRecord, FaceSet, FaceSetUpdate, NewFace, Page
from .base import (
    FACESET_COLS,
    IndexState,
    Resolved,
    Store,
    StoreStats,
    face_from_row,
    faceset_from_row,
)
from .dialect import Dialect, chunks

TOMBSTONES_KEPT = 100_000  # removals listed per gallery; an index older than that rebuilds
DETECTED = 0  # the "gallery" id of faces with no faceset yet (PostgreSQL keeps their templates in face_vectors_0)


class SqlStore(Store):
    dialect: Dialect
    cipher: Cipher

    # -- hooks --------------------------------------------------------------------------------
    @abstractmethod
    def _read(self) -> AbstractContextManager[Any]:
        """A connection for reads (``?`` placeholders)."""

    @abstractmethod
    def _tx(self) -> AbstractContextManager[Any]:
        """A connection inside one write transaction."""

    @abstractmethod
    def _insert(self, c: Any, fs: tuple[str, str, int, int | None, int], faces: Sequence[NewFace], expires: float | None) -> list[FaceRecord]:
        """Insert faces and their templates; ``fs`` is (tenant, pack, dim, faceset id or None, generation)."""

    @abstractmethod
    def _delete_rows(self, c: Any, home: int, ids: Sequence[int]) -> None:
        """Delete these faces (of gallery ``home``, or :data:`DETECTED`) and their templates."""

    @abstractmethod
    def _move_vectors(self, c: Any, ids: Sequence[int], home: int) -> None:
        """Detected faces ``ids`` joined gallery ``home``: move their templates with them."""

    @abstractmethod
    def _embedding(self, c: Any, home: int, face_id: int) -> bytes | None: ...

    @abstractmethod
    def _vectors_where(self, c: Any, faceset_id: int, where: str, args: Sequence[object]) -> list[tuple[Any, ...]]:
        """(id, token, sealed template) of the gallery's faces ``f`` matching ``where``."""

    @abstractmethod
    def _removal(self, c: Any) -> object:
        """Inside a removal's transaction: what :meth:`_erase` needs afterwards."""

    @abstractmethod
    def _erase(self, home: int, removal: object) -> None:
        """After a removal committed: leave no copy of the removed templates behind."""

    # -- galleries ----------------------------------------------------------------------------
    def _faceset(self, row: Sequence[Any]) -> FaceSet:
        return faceset_from_row(row, self.dialect.tags_out(row[5]))

    def _faceset_row(self, c: Any, tenant: str, token: str | None, outer_id: str | None, *, lock: bool = False) -> tuple[Any, ...]:
        if token is None and outer_id is None:
            raise InvalidFacesetToken("name a faceset by faceset_token or outer_id")
        col, value = ("token", token) if token is not None else ("outer_id", outer_id)
        q = f"SELECT {FACESET_COLS} FROM facesets WHERE tenant=? AND {col}=?" + (self.dialect.lock if lock else "")
        row = c.execute(q, (tenant, value)).fetchone() if self.dialect.storable([value]) else None
        if row is None and token is not None:
            raise InvalidFacesetToken(f"no faceset with token {token!r}", faceset_token=token)
        if row is None:
            raise InvalidOuterId(f"no faceset with outer_id {outer_id!r}", outer_id=outer_id)
        return tuple(row)

    def get_faceset(self, tenant: str, token: str | None = None, outer_id: str | None = None) -> FaceSet:
        with self._read() as c:
            return self._faceset(self._faceset_row(c, tenant, token, outer_id))

    def list_facesets(self, tenant: str, start: int = 0, limit: int = 100, tag: str | None = None) -> Page:
        where, args = "tenant=?", [tenant]
        if tag is not None and not self.dialect.storable([tag]):
            where += " AND 1=0"  # no stored tag holds what the store cannot hold
        elif tag is not None:
            where += f" AND {self.dialect.has_tag}"
            args.append(tag)
        with self._read() as c:
            total = c.execute(f"SELECT COUNT(*) FROM facesets WHERE {where}", args).fetchone()[0]
            rows = c.execute(f"SELECT {FACESET_COLS} FROM facesets WHERE {where} ORDER BY id LIMIT ? OFFSET ?", [*args, limit, start]).fetchall()
        return Page.of(tuple(self._faceset(r) for r in rows), total, start)

    def tenants(self) -> list[str]:
        with self._read() as c:
            return [r[0] for r in c.execute("SELECT DISTINCT tenant FROM facesets ORDER BY tenant").fetchall()]

    def stats(self) -> StoreStats:
        with self._read() as c:
            galleries, faces = c.execute("SELECT COUNT(*), COALESCE(SUM(face_count), 0) FROM facesets").fetchone()
        return StoreStats(int(galleries), int(faces))

    def update_faceset(self, tenant: str, token: str, update: FaceSetUpdate) -> FaceSet:
        sets: dict[str, object] = {}
        if update.outer_id is not None:
            sets["outer_id"] = validate.outer_id(update.outer_id)
        if update.display_name is not None:
            sets["display_name"] = validate.display_name(update.display_name)
        if update.tags is not None:
            sets["tags"] = self.dialect.tags_in(validate.tags(update.tags))
        if update.user_data is not None:
            sets["user_data"] = validate.user_data(update.user_data)
        with self._tx() as c:
            row = self._faceset_row(c, tenant, token, None, lock=True)
            taken = "SELECT 1 FROM facesets WHERE tenant=? AND outer_id=? AND id<>?"
            if "outer_id" in sets and c.execute(taken, (tenant, sets["outer_id"], row[0])).fetchone():
                raise FacesetExist(f"a faceset with outer_id {sets['outer_id']!r} exists", outer_id=sets["outer_id"])
            if sets:  # column names are ours (the keys above), never the caller's
                cols = ", ".join(f"{k}=?" for k in sets)
                c.execute(f"UPDATE facesets SET {cols}, updated=? WHERE id=?", [*sets.values(), time.time(), row[0]])
            row = c.execute(f"SELECT {FACESET_COLS} FROM facesets WHERE id=?", (row[0],)).fetchone()
        return self._faceset(row)

    # -- faces --------------------------------------------------------------------------------
    def add_faces(self, tenant: str, token: str, faces: Sequence[NewFace]) -> list[FaceRecord]:
        now = time.time()
        with self._tx() as c:
            fs = self._faceset(self._faceset_row(c, tenant, token, None, lock=True))
            records = self._insert(c, (tenant, fs.pack, fs.dim, fs.id, fs.generation + 1), faces, None)
            c.execute(
                "UPDATE facesets SET generation=?, face_count=face_count+?, updated=? WHERE id=?",
                (fs.generation + 1, len(records), now, fs.id),
            )
        return [replace(r, faceset_token=fs.token) for r in records]

    def _remove(self, tenant: str, token: str, where: str, args: Sequence[object]) -> int:
        with self._tx() as c:
            fs = self._faceset_row(c, tenant, token, None, lock=True)
            fid, gen = fs[0], fs[11] + 1
            ids = [int(r[0]) for r in c.execute(f"SELECT id FROM faces WHERE faceset_id=? AND {where}", [fid, *args]).fetchall()]
            if not ids:
                return 0
            for part in chunks(ids, self.dialect):
                self._delete_rows(c, fid, part)  # type: ignore[arg-type]
            c.executemany("INSERT INTO tombstones(faceset_id, gen, face_id) VALUES (?,?,?)", [(fid, gen, i) for i in ids])
            c.execute("UPDATE facesets SET generation=?, face_count=face_count-?, updated=? WHERE id=?", (gen, len(ids), time.time(), fid))
            self._prune_tombstones(c, fid)
            removal = self._removal(c)
        self._erase(fid, removal)
        return len(ids)

    def _prune_tombstones(self, c: Any, fid: int) -> None:
        n = c.execute("SELECT COUNT(*) FROM tombstones WHERE faceset_id=?", (fid,)).fetchone()[0]
        if n <= TOMBSTONES_KEPT:
            return
        q = "SELECT gen FROM tombstones WHERE faceset_id=? ORDER BY gen DESC LIMIT 1 OFFSET ?"
        cut = c.execute(q, (fid, TOMBSTONES_KEPT // 2)).fetchone()[0]
        c.execute("DELETE FROM tombstones WHERE faceset_id=? AND gen<=?", (fid, cut))
        c.execute("UPDATE facesets SET removed_floor=? WHERE id=?", (cut, fid))

    def remove_faces(self, tenant: str, token: str, face_tokens: Sequence[str]) -> int:
        wanted = list(dict.fromkeys(self.dialect.storable(list(face_tokens))))
        total = 0
        for part in chunks(wanted, self.dialect):
            frag, args = self.dialect.any("token", part)
            total += self._remove(tenant, token, frag, args)
        return total

    def remove_subject(self, tenant: str, token: str, subject: str) -> int:
        return self._remove(tenant, token, "subject=?", [subject]) if self.dialect.storable([subject]) else 0

    def _face_cols(self) -> str:
        return f"f.token, s.token, f.subject, f.x1, f.y1, f.x2, f.y2, f.quality, f.image_sha256, f.created, {self.dialect.thumbnail_flag}"

    def list_faces(self, tenant: str, token: str, start: int = 0, limit: int = 100, subject: str | None = None) -> Page:
        with self._read() as c:
            fid = self._faceset_row(c, tenant, token, None)[0]
            where, args = "f.faceset_id=?", [fid]
            if subject is not None:
                where += " AND f.subject=?" if self.dialect.storable([subject]) else " AND 1=0"
                args += [subject] if self.dialect.storable([subject]) else []
            total = c.execute(f"SELECT COUNT(*) FROM faces f WHERE {where}", args).fetchone()[0]
            rows = c.execute(
                f"SELECT {self._face_cols()} FROM faces f JOIN facesets s ON s.id=f.faceset_id WHERE {where} ORDER BY f.id LIMIT ? OFFSET ?",
                [*args, limit, start],
            ).fetchall()
        return Page.of(tuple(face_from_row(r) for r in rows), total, start)

    def _face_row(self, c: Any, tenant: str, face_token: str, cols: str) -> tuple[Any, ...]:
        q = f"SELECT {cols} FROM faces f JOIN facesets s ON s.id=f.faceset_id WHERE f.tenant=? AND f.token=?"
        row = c.execute(q, (tenant, face_token)).fetchone() if self.dialect.storable([face_token]) else None
        if row is None:
            raise InvalidFaceToken(f"no face with token {face_token!r}", face_token=face_token)
        return tuple(row)

    def get_face(self, tenant: str, face_token: str) -> FaceRecord:
        with self._read() as c:
            return face_from_row(self._face_row(c, tenant, face_token, self._face_cols()))

    def _sealed(self, tenant: str, face_token: str, column: str) -> bytes | None:
        with self._read() as c:
            fid, face_id = self._face_row(c, tenant, face_token, "f.faceset_id, f.id")
            if self.dialect.vector_column:
                row = c.execute(f"SELECT {column} FROM faces WHERE id=?", (face_id,)).fetchone()
                blob = None if row is None else row[0]
            else:
                blob = self._embedding(c, fid, face_id) if column == "embedding" else self._thumbnail(c, fid, face_id)
        return None if blob is None else bytes(blob)

    def _thumbnail(self, c: Any, home: int, face_id: int) -> bytes | None:
        return None

    def get_embedding(self, tenant: str, face_token: str) -> np.ndarray:
        blob = self._sealed(tenant, face_token, "embedding")
        if blob is None:  # removed between the two reads
            raise InvalidFaceToken(f"no face with token {face_token!r}", face_token=face_token)
        return np.frombuffer(self.cipher.open(blob, face_token.encode()), dtype="<f4").astype(np.float32)

    def get_thumbnail(self, tenant: str, face_token: str) -> bytes | None:
        blob = self._sealed(tenant, face_token, "thumbnail")
        return None if blob is None else self.cipher.open(blob, face_token.encode() + b"/thumb")

    def known_images(self, tenant: str, token: str, sha256s: Sequence[str]) -> set[str]:
        out: set[str] = set()
        with self._read() as c:
            fid = self._faceset_row(c, tenant, token, None)[0]
            for part in chunks(list(sha256s), self.dialect):
                frag, args = self.dialect.any("image_sha256", part)
                out.update(r[0] for r in c.execute(f"SELECT DISTINCT image_sha256 FROM faces WHERE faceset_id=? AND {frag}", [fid, *args]).fetchall())
        return out

    # -- what the index reads -----------------------------------------------------------------
    def faceset_id(self, tenant: str, token: str) -> int:
        with self._read() as c:
            return int(self._faceset_row(c, tenant, token, None)[0])

    def index_state(self, faceset_id: int) -> IndexState:
        with self._read() as c:
            row = c.execute("SELECT generation, face_count, removed_floor FROM facesets WHERE id=?", (faceset_id,)).fetchone()
        if row is None:
            raise InvalidFacesetToken("the faceset was deleted")
        return IndexState(*row)

    def _decode(self, rows: Sequence[tuple[Any, ...]]) -> tuple[np.ndarray, np.ndarray]:
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        opened = (self.cipher.open(bytes(r[2]), r[1].encode()) if self.cipher.enabled else bytes(r[2]) for r in rows)
        data = b"".join(opened)
        return ids, np.frombuffer(data, dtype="<f4").reshape(len(rows), -1).astype(np.float32, copy=False)

    def added_since(
        self, faceset_id: int, generation: int, chunk: int = 20000, upto: int | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        last = -1
        upto = (1 << 62) if upto is None else upto
        where = "f.faceset_id=? AND f.gen>? AND f.gen<=? AND f.id>? ORDER BY f.id LIMIT ?"
        while True:
            with self._read() as c:  # one connection per chunk, none held while the caller works
                rows = self._vectors_where(c, faceset_id, where, (faceset_id, generation, upto, last, chunk))
            if not rows:
                return
            last = rows[-1][0]
            yield self._decode(rows)

    def removed_since(self, faceset_id: int, generation: int, upto: int | None = None) -> np.ndarray:
        upto = (1 << 62) if upto is None else upto
        with self._read() as c:
            q = "SELECT face_id FROM tombstones WHERE faceset_id=? AND gen>? AND gen<=?"
            rows = c.execute(q, (faceset_id, generation, upto)).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64)

    def resolve(self, ids: np.ndarray) -> dict[int, Resolved]:
        out: dict[int, Resolved] = {}
        with self._read() as c:
            for part in chunks([int(i) for i in ids], self.dialect):
                frag, args = self.dialect.any("f.id", part)
                q = f"SELECT f.id, f.token, f.subject, s.token FROM faces f JOIN facesets s ON s.id=f.faceset_id WHERE {frag}"
                out.update({r[0]: Resolved(r[1], r[2], r[3]) for r in c.execute(q, args).fetchall()})
        return out
