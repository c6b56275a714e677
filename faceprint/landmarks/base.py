"""The dense-landmark seam: 106 points per face."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from ..types import Face


class Landmarker(ABC):
    name: str
    points: int = 106
    # Indices of the 5 alignment keypoints (left eye, right eye, nose tip, left and right mouth corner,
    # image left/right) within this model's points; None if the model has no such points.
    five: tuple[int, int, int, int, int] | None = None

    @abstractmethod
    def landmarks(self, img: np.ndarray, faces: Sequence[Face]) -> list[np.ndarray]:
        """One (points, 2) float32 array per face, in source-image pixels."""
