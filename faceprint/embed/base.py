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


def l2_normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norms, 1e-12)
