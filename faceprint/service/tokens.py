"""Face tokens minted by ``detect``: template, box and analysis, per tenant, with an expiry.

A token expires ``ttl`` seconds after detection unless it is added to a faceset; then it lives
as long as it belongs to one (removed from its last faceset, its clock starts again). Expired
rows are deleted for real (SQLite: ``secure_delete`` zeroes them, the WAL is truncated; PostgreSQL
leaves their bytes in free space until reused, so seal templates with FACEPRINT_KEY there: see
:meth:`~faceprint.service.db.PostgresDb.erase_freed`): a template is personal data. Expiry is
checked on every read and swept on a timer.

On PostgreSQL every node shares the tokens: ``expires`` is an absolute Unix time set by the node
that minted (or released) the token and checked against the reading node's clock, so nodes keep
their clocks in step (NTP); a skew of a second is nothing against a TTL of hours.

Face++ lets one face token sit in many facesets, while a gallery face belongs to one gallery;
``members`` maps (faceset, face token) to the gallery's own face token.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidFaceToken
from ..gallery.crypto import Cipher
from ..types import Face, Pose, Quality
from .db import Schema
from .state import ServiceState, as_state

SERVICE_DB = "service.db"

_TOKENS = """CREATE TABLE IF NOT EXISTS face_tokens(
        token TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        pack TEXT NOT NULL,
        embedding {blob} NOT NULL,
        analysis {blob} NOT NULL,
        x1 {real}, y1 {real}, x2 {real}, y2 {real},
        user_id TEXT NOT NULL DEFAULT '',
        created {real} NOT NULL,
        expires {real})"""
_MEMBERS = """CREATE TABLE IF NOT EXISTS members(
        {rowid}faceset_token TEXT NOT NULL,
        face_token TEXT NOT NULL REFERENCES face_tokens(token) ON DELETE CASCADE,
        gallery_token TEXT NOT NULL UNIQUE,
        PRIMARY KEY(faceset_token, face_token))"""
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS face_tokens_expires ON face_tokens(expires) WHERE expires IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS members_face ON members(face_token)",
)
SCHEMA = Schema(
    "face_tokens", 1,
    sqlite=(_TOKENS.format(blob="BLOB", real="REAL"), _INDEXES[0], _MEMBERS.format(rowid=""), _INDEXES[1]),
    # SQLite numbers rows itself (rowid: the order memberships were made); PostgreSQL gets a column of that name.
    postgresql=(
        _TOKENS.format(blob="BYTEA", real="DOUBLE PRECISION"), _INDEXES[0],
        _MEMBERS.format(rowid="rowid BIGINT GENERATED ALWAYS AS IDENTITY,\n        "), _INDEXES[1],
    ),
    file=SERVICE_DB, secure_delete=True, foreign_keys=True,
)  # fmt: skip


@dataclass(frozen=True)
class StoredFace:
    token: str
    tenant: str
    pack: str
    face: Face  # box, score, keypoints, pose, quality, landmarks if they were computed, embedding
    user_id: str
    expires: float | None
    image_id: str = ""  # Face++ image_id of the image it was detected in ("" for faces enrolled by the library)


def _analysis(face: Face, image_id: str = "") -> bytes:
    out: dict[str, object] = {"score": face.score, "kps": np.asarray(face.kps, float).round(2).tolist()}
    if image_id:
        out["image_id"] = image_id
    if face.landmarks is not None:
        out["landmarks"] = np.asarray(face.landmarks, float).round(2).tolist()
    if face.pose is not None:
        out["pose"] = vars(face.pose)
    if face.quality is not None:
        out["quality"] = {k: getattr(face.quality, k) for k in ("score", "size", "sharpness", "brightness", "pose")}
    return json.dumps(out).encode()


def _face(analysis: bytes, bbox: tuple, embedding: np.ndarray) -> Face:
    a = json.loads(analysis)
    return Face(
        bbox=np.array(bbox, np.float32),
        score=float(a["score"]),
        kps=np.array(a["kps"], np.float32),
        landmarks=None if "landmarks" not in a else np.array(a["landmarks"], np.float32),
        pose=Pose(**a["pose"]) if "pose" in a else None,
        quality=Quality(**a["quality"]) if "quality" in a else None,
        embedding=embedding,
    )


class TokenStore:
    def __init__(self, where: Path | ServiceState, cipher: Cipher, ttl_s: float) -> None:
        """``where``: a data directory (``service.db`` there) or the node's service state."""
        self.db = as_state(where).db(SCHEMA)
        self.cipher = cipher
        self.ttl_s = ttl_s

    def close(self) -> None:
        self.db.close()

    # -- minting and reading --------------------------------------------------------------------
    def mint(self, tenant: str, pack: str, faces: Sequence[Face], image_id: str = "") -> list[str]:
        now = time.time()
        rows, tokens = [], []
        for f in faces:
            assert f.embedding is not None
            tok = secrets.token_hex(16)
            vec = np.asarray(f.embedding, "<f4").tobytes()
            rows.append((
                tok, tenant, pack, self.cipher.seal(vec, tok.encode()), self.cipher.seal(_analysis(f, image_id), tok.encode() + b"/a"),
                *[float(v) for v in f.bbox], now, now + self.ttl_s,
            ))  # fmt: skip
            tokens.append(tok)
        if rows:
            with self.db.write() as c:
                c.executemany(
                    "INSERT INTO face_tokens(token, tenant, pack, embedding, analysis, x1, y1, x2, y2, created, expires)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )
        return tokens

    def get(self, tenant: str, token: str) -> StoredFace:
        """The face, if it exists, belongs to ``tenant`` and has not expired; else INVALID_FACE_TOKEN."""
        with self.db.read() as c:
            row = c.execute(
                "SELECT token, tenant, pack, embedding, analysis, x1, y1, x2, y2, user_id, expires FROM face_tokens"
                " WHERE token=? AND tenant=?",
                (token, tenant),
            ).fetchone()
        if row is not None and row[10] is not None and row[10] <= time.time():
            self.purge()
            row = None
        if row is None:
            raise InvalidFaceToken(f"no face with token {token!r}", face_token=token)
        vec = np.frombuffer(self.cipher.open(row[3], token.encode()), "<f4").astype(np.float32)
        analysis = self.cipher.open(row[4], token.encode() + b"/a")
        face = _face(analysis, row[5:9], vec)
        return StoredFace(row[0], row[1], row[2], face, row[9], row[10], str(json.loads(analysis).get("image_id", "")))

    def exists(self, tenant: str, token: str) -> bool:
        with self.db.read() as c:
            row = c.execute(
                "SELECT 1 FROM face_tokens WHERE token=? AND tenant=? AND (expires IS NULL OR expires>?)", (token, tenant, time.time())
            ).fetchone()
        return row is not None

    def set_user_id(self, tenant: str, token: str, user_id: str) -> None:
        self.get(tenant, token)
        with self.db.write() as c:
            c.execute("UPDATE face_tokens SET user_id=? WHERE token=? AND tenant=?", (user_id, token, tenant))

    # -- faceset membership ---------------------------------------------------------------------
    def members(self, faceset_token: str, face_tokens: Sequence[str]) -> dict[str, str]:
        """face token -> gallery token, for those of ``face_tokens`` already in the faceset."""
        out: dict[str, str] = {}
        with self.db.read() as c:
            for i in range(0, len(face_tokens), 900):
                part = list(face_tokens[i : i + 900])
                q = f"SELECT face_token, gallery_token FROM members WHERE faceset_token=? AND face_token IN ({','.join('?' * len(part))})"
                out.update(dict(c.execute(q, [faceset_token, *part]).fetchall()))
        return out

    def join(self, faceset_token: str, pairs: Sequence[tuple[str, str]]) -> None:
        """Record (face token, gallery token) pairs; the face tokens stop expiring."""
        with self.db.write() as c:
            c.executemany("INSERT INTO members(faceset_token, face_token, gallery_token) VALUES (?,?,?)", [(faceset_token, f, g) for f, g in pairs])
            c.executemany("UPDATE face_tokens SET expires=NULL WHERE token=?", [(f,) for f, _ in pairs])

    def leave(self, faceset_token: str, gallery_tokens: Sequence[str] | None = None) -> None:
        """Drop memberships (all of the faceset's when None); orphaned face tokens expire again."""
        with self.db.write() as c:
            if gallery_tokens is None:
                faces = [r[0] for r in c.execute("SELECT face_token FROM members WHERE faceset_token=?", (faceset_token,))]
                c.execute("DELETE FROM members WHERE faceset_token=?", (faceset_token,))
            else:
                faces = []
                for i in range(0, len(gallery_tokens), 900):
                    part = list(gallery_tokens[i : i + 900])
                    marks = ",".join("?" * len(part))
                    faces += [r[0] for r in c.execute(f"SELECT face_token FROM members WHERE gallery_token IN ({marks})", part)]
                    c.execute(f"DELETE FROM members WHERE gallery_token IN ({marks})", part)
            expires = time.time() + self.ttl_s
            c.executemany(
                "UPDATE face_tokens SET expires=? WHERE token=? AND NOT EXISTS (SELECT 1 FROM members WHERE face_token=?)",
                [(expires, f, f) for f in set(faces)],
            )

    def facesets_of(self, token: str) -> list[str]:
        with self.db.read() as c:
            return [r[0] for r in c.execute("SELECT faceset_token FROM members WHERE face_token=? ORDER BY rowid", (token,)).fetchall()]

    def from_gallery(self, gallery_tokens: Sequence[str]) -> dict[str, tuple[str, str]]:
        """gallery token -> (face token, user_id) for faces added through the API."""
        out: dict[str, tuple[str, str]] = {}
        with self.db.read() as c:
            for i in range(0, len(gallery_tokens), 900):
                part = list(gallery_tokens[i : i + 900])
                q = (
                    "SELECT m.gallery_token, f.token, f.user_id FROM members m JOIN face_tokens f ON f.token=m.face_token"
                    f" WHERE m.gallery_token IN ({','.join('?' * len(part))})"
                )
                out.update({g: (t, u) for g, t, u in c.execute(q, part).fetchall()})
        return out

    # -- expiry ---------------------------------------------------------------------------------
    def purge(self, now: float | None = None) -> int:
        """Delete expired face tokens for real; returns how many went.

        Safe on every node at once: each row goes once, whichever node's DELETE reaches it first.
        """
        now = time.time() if now is None else now
        with self.db.write() as c:
            n = c.execute("DELETE FROM face_tokens WHERE expires IS NOT NULL AND expires<=?", (now,)).rowcount
        if n:
            self.db.erase_freed(("face_tokens", "members"))
        return n

    def count(self) -> int:
        with self.db.read() as c:
            return int(c.execute("SELECT COUNT(*) FROM face_tokens").fetchone()[0])
