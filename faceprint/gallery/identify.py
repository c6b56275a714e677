"""Identify everyone: every face of every image searched at once, best subject or unknown.

    results = identify(service, "staff", ["group.jpg"], SearchOptions(top_k=3, by="subject"))
    for face in results[0].faces:
        print(face.index, face.face.bbox, face.name)       # "unknown" below the FAR threshold

One detector call per image size, one embedder call for all faces, one batched index search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from .. import pipeline
from ..image import ImageInput
from ..types import Face
from .search import common_pack
from .types import SearchResult

if TYPE_CHECKING:
    from .search import SearchOptions
    from .service import GalleryService

UNKNOWN = "unknown"


@dataclass(frozen=True)
class FaceIdentity:
    """One face of an image and its search result (``by`` as asked; "subject" by default)."""

    index: int  # the face's number in the image, largest first as ``detect`` lists them
    face: Face = field(repr=False)
    result: SearchResult

    @property
    def name(self) -> str:
        return self.result.subject or UNKNOWN

    def to_dict(self) -> dict[str, object]:
        return {"index": self.index, "face_rectangle": [round(float(v), 2) for v in self.face.bbox],
                "quality": None if self.face.quality is None else round(self.face.quality.score, 1),
                "subject": self.name, **self.result.to_dict()}  # fmt: skip


@dataclass(frozen=True)
class Identified:
    """Every face of one image."""

    faces: tuple[FaceIdentity, ...]
    width: int
    height: int

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.faces]

    def to_dict(self) -> dict[str, object]:
        return {"width": self.width, "height": self.height, "face_num": len(self.faces),
                "faces": [f.to_dict() for f in self.faces]}  # fmt: skip


def identify(
    service: GalleryService,
    refs: str | Sequence[str],
    images: Sequence[ImageInput],
    options: SearchOptions,
    *,
    tenant: str,
) -> list[Identified]:
    """Each image's every face with its top matches and the open-set answer at ``options.far``."""
    facesets = [service.get(r, tenant=tenant) for r in ([refs] if isinstance(refs, str) else refs)]
    first = common_pack(facesets)
    engine = service.engine_for(first.pack)
    imgs = [engine.load(im) for im in images]
    embedded = pipeline.analyse(engine.models, imgs, engine.steps())
    vectors = [f.embedding for faces in embedded for f in faces if f.embedding is not None]
    results: list[SearchResult] = []
    if vectors:
        results = service.search_embeddings(facesets, np.stack(vectors), options, tenant=tenant)
    out, k = [], 0
    for img, faces in zip(imgs, embedded, strict=True):
        found = tuple(
            FaceIdentity(i, f, replace(results[k + i], face=f, faces_found=len(faces))) for i, f in enumerate(faces)
        )
        k += len(faces)
        out.append(Identified(found, img.shape[1], img.shape[0]))
    return out
