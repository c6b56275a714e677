"""The embedder seam: (image, detected face) pairs in, L2-normalised templates out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

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


def l2_normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    out: np.ndarray = x / np.maximum(norms, 1e-12)
    return out
