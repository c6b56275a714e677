"""The face-token half of the shared SQL (:mod:`.sql`): faces stored by ``detect`` with an expiry and
no faceset, moved into a faceset in one transaction under its row lock, renamed, and erased once expired.
"""

from __future__ import annotations

import secrets
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ...errors import InvalidFaceToken
from .. import validate
from ..types import FaceSet, NewFace
from .base import Assignment, HeldFace
from .dialect import chunks
from .sql import DETECTED, SqlStore

_HELD = "f.id, f.token, f.tenant, f.pack, s.token, f.subject, f.x1, f.y1, f.x2, f.y2, f.quality, f.analysis, f.expires"


class DetectedSqlStore(SqlStore):
    # -- detected faces (face tokens) -----------------------------------------------------------
    def detect_faces(self, tenant: str, pack: str, faces: Sequence[NewFace], expires: float) -> list[str]:
        if not faces:
            return []
        dim = int(np.asarray(faces[0].embedding).reshape(-1).shape[0])
        faces = [f if f.token else replace(f, token=secrets.token_hex(16)) for f in faces]
        with self._tx() as c:
            return [r.token for r in self._insert(c, (tenant, pack, dim, None, 0), faces, expires)]

    def held_face(self, tenant: str, face_token: str, now: float) -> HeldFace:
        embedding = "f.embedding" if self.dialect.vector_column else "NULL"
        q = f"SELECT {_HELD}, {embedding}, f.faceset_id FROM faces f LEFT JOIN facesets s ON s.id=f.faceset_id WHERE f.tenant=? AND f.token=?"
        with self._read() as c:
            row = c.execute(q, (tenant, face_token)).fetchone() if self.dialect.storable([face_token]) else None
            if row is not None and (row[12] is None or row[12] > now):
                blob = row[13] if self.dialect.vector_column else self._embedding(c, row[14] or DETECTED, row[0])
            else:
                row = blob = None
        if row is None or blob is None:
            raise InvalidFaceToken(f"no face with token {face_token!r}", face_token=face_token)
        vec = np.frombuffer(self.cipher.open(bytes(blob), face_token.encode()), dtype="<f4").astype(np.float32)
        analysis = None if row[11] is None else self.cipher.open(bytes(row[11]), face_token.encode() + b"/a")
        box = None if row[6] is None else (row[6], row[7], row[8], row[9])
        return HeldFace(row[1], row[2], row[3], row[4], row[5], box, row[10], vec, analysis, row[12])

    def assign_faces(
        self, tenant: str, faceset: tuple[str | None, str | None], face_tokens: Sequence[str], capacity: int, now: float
    ) -> Assignment:
        wanted = list(dict.fromkeys(face_tokens))
        with self._tx() as c:
            fs = self._faceset(self._faceset_row(c, tenant, faceset[0], faceset[1], lock=True))
            found: dict[str, tuple[Any, ...]] = {}
            for part in chunks(self.dialect.storable(wanted), self.dialect):
                frag, args = self.dialect.any("token", part)
                q = f"SELECT token, id, pack, faceset_id, expires FROM faces WHERE tenant=? AND {frag}" + self.dialect.lock
                found.update({r[0]: tuple(r) for r in c.execute(q, [tenant, *args]).fetchall()})
            ids: list[int] = []
            added: list[str] = []
            failures: list[tuple[str, str]] = []
            for tok in wanted:
                row = found.get(tok)
                if row is not None and row[3] == fs.id:
                    continue  # in this faceset already
                reason = _refusal(row, fs, now, len(ids) >= capacity - fs.face_count)
                if reason:
                    failures.append((tok, reason))
                else:
                    ids.append(int(row[1]))  # type: ignore[index]
                    added.append(tok)
            if ids:
                gen = fs.generation + 1
                for part in chunks(ids, self.dialect):
                    frag, args = self.dialect.any("id", part)
                    c.execute(f"UPDATE faces SET faceset_id=?, gen=?, expires=NULL WHERE {frag}", [fs.id, gen, *args])
                self._move_vectors(c, ids, fs.id)
                c.execute("UPDATE facesets SET generation=?, face_count=face_count+?, updated=? WHERE id=?", (gen, len(ids), now, fs.id))
                fs = replace(fs, generation=gen, face_count=fs.face_count + len(ids), updated=now)
        return Assignment(fs, tuple(added), tuple(failures))

    def set_subject(self, tenant: str, face_token: str, subject: str, now: float) -> None:
        subject = validate.subject(subject)
        with self._tx() as c:
            q = "UPDATE faces SET subject=? WHERE tenant=? AND token=? AND (expires IS NULL OR expires>?)"
            n = c.execute(q, (subject, tenant, face_token, now)).rowcount if self.dialect.storable([face_token]) else 0
        if not n:
            raise InvalidFaceToken(f"no face with token {face_token!r}", face_token=face_token)

    def purge_detected(self, now: float) -> int:
        with self._tx() as c:
            q = "SELECT id FROM faces WHERE faceset_id IS NULL AND expires IS NOT NULL AND expires<=?" + self.dialect.lock
            ids = [int(r[0]) for r in c.execute(q, (now,)).fetchall()]
            for part in chunks(ids, self.dialect):
                self._delete_rows(c, DETECTED, part)  # type: ignore[arg-type]
            removal = self._removal(c) if ids else None
        if ids:
            self._erase(DETECTED, removal)
        return len(ids)

    def adopt_token(self, tenant: str, old: str, new: str, subject: str, analysis: bytes | None) -> bool:
        """Migration: the face stored as ``old`` takes the face token ``new`` (its template re-sealed
        under the new name) and detect's analysis. False if there is no such face or ``new`` is taken."""
        with self._tx() as c:
            row = c.execute("SELECT id, faceset_id FROM faces WHERE tenant=? AND token=?", (tenant, old)).fetchone()
            if row is None or c.execute("SELECT 1 FROM faces WHERE token=?", (new,)).fetchone():
                return False
            home, fid = row[1] or DETECTED, row[0]
            blobs = [self._embedding(c, home, fid), self._thumbnail_blob(c, home, fid)]
            aad = [b"", b"/thumb"]
            opened = [None if b is None else self.cipher.open(bytes(b), old.encode() + a) for b, a in zip(blobs, aad, strict=True)]
            sealed = [None if o is None else self.cipher.seal(o, new.encode() + a) for o, a in zip(opened, aad, strict=True)]
            seal_a = None if analysis is None else self.cipher.seal(analysis, new.encode() + b"/a")
            c.execute("UPDATE faces SET token=?, subject=?, analysis=? WHERE id=?", (new, validate.subject(subject), seal_a, fid))
            self._reseal(c, home, fid, sealed[0], sealed[1])  # type: ignore[arg-type]
        return True

    def _thumbnail_blob(self, c: Any, home: int, face_id: int) -> bytes | None:
        if self.dialect.vector_column:
            row = c.execute("SELECT thumbnail FROM faces WHERE id=?", (face_id,)).fetchone()
            return None if row is None else row[0]
        return self._thumbnail(c, home, face_id)

    @abstractmethod
    def _reseal(self, c: Any, home: int, face_id: int, embedding: bytes, thumbnail: bytes | None) -> None: ...

    def detected_count(self) -> int:
        with self._read() as c:
            return int(c.execute("SELECT COUNT(*) FROM faces WHERE faceset_id IS NULL").fetchone()[0])


def _refusal(row: tuple[Any, ...] | None, fs: FaceSet, now: float, full: bool) -> str | None:
    """Why a face (token, id, pack, faceset id, expires) cannot join ``fs``; None if it can."""
    if row is None or (row[3] is None and row[4] is not None and row[4] <= now):
        return "INVALID_FACE_TOKEN"
    if row[3] is not None:
        return "FACE_IN_ANOTHER_FACESET"  # a face has one home: remove it there first
    if row[2] != fs.pack:
        return "PACK_MISMATCH"
    return "QUOTA_EXCEEDED" if full else None
