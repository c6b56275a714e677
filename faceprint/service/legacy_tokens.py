"""Migration 0002 "one home", service side: face tokens that faceprint before it kept in the service
database (``face_tokens`` and ``members``) move into the gallery store once, at startup.

- A face token added to a faceset: the gallery face it was copied to takes the face token as its
  own token (its template re-sealed under that name) and its analysis and user_id. A face token in
  several facesets names the first one joined; the other copies keep their gallery tokens.
- A face token in no faceset and not expired: a detected face with the same token and expiry.
- Moved rows are deleted from the service database, so the step is idempotent and a crash midway
  is resumed at the next start. This module is the one place the service layer reaches the store
  directly: it moves rows between schemas, which no library call should offer.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from ..gallery import GalleryService, NewFace
from ..gallery.crypto import Cipher
from ..gallery.store.sql_detected import DetectedSqlStore
from .db import Db, Schema
from .state import ServiceState

log = logging.getLogger(__name__)
_TABLES = ("face_tokens", "members")


def _legacy(state: ServiceState) -> Db | None:
    """The old tables' database, if they exist (never created here)."""
    probe = Schema("face_tokens_legacy", 1, sqlite=(), postgresql=(), file="service.db")
    db = state.db(probe)
    with db.read() as c:
        if db.dialect == "sqlite":
            found = c.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='face_tokens'").fetchone()
        else:
            found = c.execute("SELECT to_regclass('face_tokens')").fetchone()[0]
    if not found:
        db.close()
        return None
    return db


def adopt(state: ServiceState, gallery: GalleryService) -> int:
    """Move every legacy face token into the gallery store; returns how many moved."""
    db = _legacy(state)
    if db is None:
        return 0
    try:
        return _move(db, gallery, gallery.cipher)
    finally:
        db.close()


def _sql(gallery: GalleryService) -> DetectedSqlStore:
    store = gallery.store
    if not isinstance(store, DetectedSqlStore):
        raise TypeError(f"legacy face tokens move into a SQL store, not {type(store).__name__}")
    return store


def _move(db: Db, gallery: GalleryService, cipher: Cipher) -> int:
    with db.read() as c:
        members = c.execute(
            "SELECT m.face_token, m.gallery_token, f.tenant, f.user_id, f.analysis FROM members m"
            " JOIN face_tokens f ON f.token = m.face_token ORDER BY m.rowid"
        ).fetchall()
        loose = c.execute(
            "SELECT token, tenant, pack, embedding, analysis, x1, y1, x2, y2, user_id, expires FROM face_tokens"
            " WHERE token NOT IN (SELECT face_token FROM members) AND expires > ?",
            (time.time(),),
        ).fetchall()
    moved, named = 0, set()
    for token, gallery_token, tenant, user_id, analysis in members:
        if token in named:
            continue
        named.add(token)
        plain = cipher.open(bytes(analysis), token.encode() + b"/a")
        moved += _sql(gallery).adopt_token(tenant, gallery_token, token, user_id, plain)
    for token, tenant, pack, emb, analysis, x1, y1, x2, y2, user_id, expires in loose:
        vec = np.frombuffer(cipher.open(bytes(emb), token.encode()), "<f4").astype(np.float32)
        plain = cipher.open(bytes(analysis), token.encode() + b"/a")
        face = NewFace(vec, user_id, (x1, y1, x2, y2), None, token=token, analysis=plain)
        gallery.store.detect_faces(tenant, pack, [face], float(expires))
        moved += 1
    with db.write() as c:
        c.execute("DELETE FROM members")
        c.execute("DELETE FROM face_tokens")
    db.erase_freed(_TABLES)
    if moved:
        log.info("moved %d face tokens from the service database into the gallery store (migration 0002)", moved)
    return moved
