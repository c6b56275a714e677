"""Typed values of the gallery layer: what the store, the index and the service hand each other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..types import Face

DEFAULT_TENANT = "default"
MAX_USER_DATA = 16 * 1024  # bytes of UTF-8, as Face++
MAX_TOP_K = 100


@dataclass(frozen=True)
class FaceSet:
    """A gallery. ``token`` is unguessable; ``outer_id`` is the caller's own unique name for it."""

    token: str
    tenant: str
    outer_id: str | None
    display_name: str
    tags: tuple[str, ...]
    user_data: str
    pack: str  # the model pack every embedding in it came from
    dim: int
    index_spec: str  # "auto" or a spec such as "Flat" or "IVF1024,PQ64x4fs,Refine"
    face_count: int
    generation: int  # bumped by every write; index files record the one they reflect
    created: float
    updated: float
    # The store's own row id and its oldest listed removal: an index catches up to this FaceSet's
    # generation from them without reading the store again (-1: not known, read it).
    id: int = field(default=-1, compare=False, repr=False)
    removed_floor: int = field(default=0, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.outer_id or self.token

    def to_dict(self) -> dict[str, object]:
        return {
            "faceset_token": self.token,
            "outer_id": self.outer_id,
            "display_name": self.display_name,
            "tags": list(self.tags),
            "user_data": self.user_data,
            "pack": self.pack,
            "dim": self.dim,
            "index_spec": self.index_spec,
            "face_count": self.face_count,
            "created": self.created,
        }


@dataclass(frozen=True)
class NewFaceSet:
    """What a caller gives to create a gallery."""

    pack: str
    dim: int
    outer_id: str | None = None
    display_name: str = ""
    tags: tuple[str, ...] = ()
    user_data: str = ""
    index_spec: str = "auto"
    tenant: str = DEFAULT_TENANT
    token: str | None = None  # None: a new random token; set only when moving a gallery between stores
    created: float | None = None  # None: now


@dataclass(frozen=True)
class FaceSetUpdate:
    """Fields of a gallery to change; None leaves a field as it is."""

    outer_id: str | None = None
    display_name: str | None = None
    tags: tuple[str, ...] | None = None
    user_data: str | None = None


@dataclass(frozen=True, eq=False)
class NewFace:
    """One face to store: its template and what we keep about where it came from."""

    embedding: np.ndarray  # (D,) float32, L2-normalised
    subject: str = ""  # user_id
    bbox: tuple[float, float, float, float] | None = None  # x1 y1 x2 y2 in the source image
    quality: float | None = None
    image_sha256: str | None = None
    thumbnail: bytes | None = None  # JPEG of the aligned face, only when asked for
    token: str | None = None  # None: a new random token; set only when moving a gallery between stores
    created: float | None = None  # None: now
    analysis: bytes | None = None  # what detect found about the face (opaque to the store, sealed at rest)


@dataclass(frozen=True)
class FaceRecord:
    """A stored face, without its embedding."""

    token: str
    faceset_token: str
    subject: str
    bbox: tuple[float, float, float, float] | None
    quality: float | None
    image_sha256: str | None
    created: float
    has_thumbnail: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "face_token": self.token,
            "faceset_token": self.faceset_token,
            "user_id": self.subject,
            "bbox": None if self.bbox is None else [round(v, 2) for v in self.bbox],
            "quality": None if self.quality is None else round(self.quality, 3),
            "image_sha256": self.image_sha256,
            "created": self.created,
        }


@dataclass(frozen=True)
class Page:
    """One page of a listing. ``next_start`` is None on the last page."""

    items: tuple[Any, ...]  # FaceSet or FaceRecord, as the listing says
    total: int
    start: int
    next_start: int | None

    @classmethod
    def of(cls, items: tuple[Any, ...], total: int, start: int) -> Page:
        """``items`` found from ``start`` of ``total``; the next page starts after them, if any is left."""
        end = start + len(items)
        return cls(items, total, start, end if end < total else None)


@dataclass(frozen=True)
class Match:
    """One search result: a stored face, or with ``by="subject"`` the best face of a subject."""

    face_token: str
    subject: str
    score: float  # cosine similarity
    confidence: float  # 0-100, the same scale as compare
    faceset_token: str

    def to_dict(self) -> dict[str, object]:
        return {
            "face_token": self.face_token,
            "user_id": self.subject,
            "confidence": round(self.confidence, 3),
            "similarity": round(self.score, 5),
            "faceset_token": self.faceset_token,
        }


@dataclass(frozen=True)
class SearchResult:
    """Matches for one probe face, best first, and the open-set decision at ``far``."""

    matches: tuple[Match, ...]
    thresholds: dict[str, float]
    far: str
    face: Face | None = field(default=None, compare=False, repr=False)
    faces_found: int = 1

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None

    @property
    def known(self) -> bool:
        best = self.best
        return best is not None and best.confidence >= self.thresholds[self.far]

    @property
    def subject(self) -> str | None:
        """The identified subject, or None for "unknown"."""
        return self.best.subject if self.known and self.best else None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "results": [m.to_dict() for m in self.matches],
            "thresholds": {k: round(v, 3) for k, v in self.thresholds.items()},
            "far": self.far,
            "decision": self.subject if self.known else "unknown",
            "faces_found": self.faces_found,
        }
        if self.face is not None:
            out["face_rectangle"] = [round(float(v), 2) for v in self.face.bbox]
        return out


@dataclass(frozen=True)
class Rejected:
    source: str
    code: str
    reason: str


@dataclass(frozen=True)
class EnrolReport:
    """What an enrolment did: every input lands in exactly one list."""

    enrolled: tuple[FaceRecord, ...] = ()
    rejected: tuple[Rejected, ...] = ()
    duplicates: tuple[str, ...] = ()  # sources whose face was already in the gallery
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "enrolled": len(self.enrolled),
            "rejected": [vars(r) for r in self.rejected],
            "duplicates": list(self.duplicates),
            "faces": [f.to_dict() for f in self.enrolled],
            "seconds": round(self.seconds, 3),
        }
