"""The embedder seam: (image, detected face) pairs in, L2-normalised templates out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from ..align import mirror
from ..types import Face


class Embedder(ABC):
    name: str
    dim: int

    @abstractmethod
    def embed(self, items: Sequence[tuple[np.ndarray, Face]]) -> np.ndarray:
        """(N, dim) float32 unit vectors, one per (image, face); batched into as few calls as it can."""

    def embed_aligned(self, items: Sequence[tuple[np.ndarray, Face]], crops: Sequence[np.ndarray | None]) -> np.ndarray:
        """:meth:`embed`, given each face's 112x112 ArcFace-template crop where one is already warped
        (None where not). An embedder that aligns its own way ignores them."""
        return self.embed(items)

    def embed_mirrored(self, items: Sequence[tuple[np.ndarray, Face]]) -> np.ndarray:
        """The templates of each face's mirror image (flip fusion). This default mirrors the whole
        image; an embedder that warps its own crops mirrors the warp instead."""
        mirrored = []
        for img, f in items:
            m_img, m_kps, m_box = mirror(img, f.kps, f.bbox)
            mirrored.append((m_img, f.with_(kps=m_kps, bbox=m_box)))
        return self.embed(mirrored)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    out: np.ndarray = x / np.maximum(norms, 1e-12)
    return out
