"""Face tokens minted by ``detect``: rows of the gallery store, with their analysis and an expiry.

A detected face is stored once, in the gallery store, with no faceset and an expiry ``ttl``
seconds away (:meth:`~faceprint.gallery.GalleryService.detect_faces`); its face token is that
row's token. ``addface`` moves the same row into a faceset and clears its expiry; ``removeface``
erases it; ``setuserid`` changes its one user_id. A face has one home, so a face token sits in at
most one faceset. Expired rows are erased for real (the store's erasure: SQLite zeroes them and
truncates its WAL, PostgreSQL rewrites the vector table; see :meth:`~faceprint.gallery.store.base.Store.purge_detected`).

On PostgreSQL every node shares the rows: ``expires`` is an absolute Unix time set by the node
that minted the token and checked against the reading node's clock, so nodes keep their clocks in
step (NTP); a skew of a second is nothing against a TTL of hours.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..gallery import GalleryService, NewFace
from ..gallery.store.base import HeldFace
from ..types import Face, Pose, Quality


@dataclass(frozen=True)
class StoredFace:
    token: str
    tenant: str
    pack: str
    face: Face  # box, score, keypoints, pose, quality, landmarks if they were computed, embedding
    user_id: str
    expires: float | None
    faceset_token: str | None = None  # the faceset the face is in, if any
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


def _face(analysis: bytes | None, bbox: tuple[float, ...] | None, embedding: np.ndarray) -> Face:
    """The Face detect found; a face enrolled through the library kept only its box and template."""
    a: dict[str, Any] = json.loads(analysis) if analysis is not None else {"score": 1.0, "kps": np.zeros((5, 2)).tolist()}
    return Face(
        bbox=np.array(bbox if bbox is not None else (0, 0, 0, 0), np.float32),
        score=float(a["score"]),
        kps=np.array(a["kps"], np.float32),
        landmarks=None if "landmarks" not in a else np.array(a["landmarks"], np.float32),
        pose=Pose(**a["pose"]) if "pose" in a else None,
        quality=Quality(**a["quality"]) if "quality" in a else None,
        embedding=embedding,
    )


class TokenStore:
    """Face tokens over the gallery store: minting, reading, user_id, expiry."""

    def __init__(self, gallery: GalleryService, ttl_s: float) -> None:
        self.gallery = gallery
        self.ttl_s = ttl_s

    def close(self) -> None:
        pass  # the gallery service owns the store

    def mint(self, tenant: str, pack: str, faces: Sequence[Face], image_id: str = "") -> list[str]:
        new = []
        for f in faces:
            if f.embedding is None:
                raise ValueError("only embedded faces get a face token")
            q = None if f.quality is None else float(f.quality.score)
            new.append(NewFace(f.embedding, "", tuple(float(v) for v in f.bbox), q, analysis=_analysis(f, image_id)))  # type: ignore[arg-type]
        return self.gallery.detect_faces(tenant, pack, new, self.ttl_s) if new else []

    def get(self, tenant: str, token: str) -> StoredFace:
        """The face, if it exists, belongs to ``tenant`` and has not expired; else INVALID_FACE_TOKEN.

        Detected faces and faces in a faceset (added through the API or enrolled through the library) alike."""
        return stored(self.gallery.held_face(token, tenant=tenant))

    def set_user_id(self, tenant: str, token: str, user_id: str) -> None:
        self.gallery.set_subject(token, user_id, tenant=tenant)

    def purge(self, now: float | None = None) -> int:
        """Erase expired face tokens for real; returns how many went. Safe on every node at once."""
        return self.gallery.purge_detected(now)

    def count(self) -> int:
        return self.gallery.detected_count()


def stored(held: HeldFace) -> StoredFace:
    face = _face(held.analysis, held.bbox, held.embedding)
    image_id = str(json.loads(held.analysis).get("image_id", "")) if held.analysis is not None else ""
    return StoredFace(held.token, held.tenant, held.pack, face, held.subject, held.expires, held.faceset_token, image_id)
