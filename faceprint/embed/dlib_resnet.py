"""dlib's ResNet face recogniser (``dlib_face_recognition_resnet_model_v1``): 128-D templates.

Alignment is dlib's own, not our ArcFace template: the 5-point shape predictor runs on each
face's box, ``get_face_chips`` cuts 150x150 chips with 0.25 padding (the settings the model
was trained with, and ``face_recognition``'s defaults), and one ``compute_face_descriptor``
call embeds every chip of the request. dlib compares raw descriptors by Euclidean distance
(0.6 is its usual tolerance); we L2-normalise them, so cosine similarity ranks pairs exactly
as the distance between the normalised vectors does (|a - b|^2 = 2 - 2 cos).

Speed on this 2-core machine: about 100 ms per face, with no gain from a second thread
(dlib-bin has no BLAS).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..detect.dlib_shape import FivePoint, import_dlib, to_rgb
from ..types import Face
from .base import Embedder, l2_normalize

CHIP_SIZE = 150
CHIP_PADDING = 0.25


class DlibResNet(Embedder):
    name = "dlib_resnet_v1"
    dim = 128

    def __init__(self, path: Path, shapes: FivePoint, *, jitters: int = 0) -> None:
        self._dlib = import_dlib()
        self._net = self._dlib.face_recognition_model_v1(str(path))
        self.shapes = shapes
        self.jitters = jitters
        self._lock = threading.Lock()

    def chips(self, items: Sequence[tuple[np.ndarray, Face]]) -> list[np.ndarray]:
        """150x150 RGB chips, one per (image, face), aligned by dlib from the 5-point shapes."""
        out: list[np.ndarray] = []
        k = 0
        while k < len(items):  # faces of the same image come together: convert it to RGB once
            img = items[k][0]
            group: list[Face] = []
            j = k
            while j < len(items) and items[j][0] is img:
                group.append(items[j][1])
                j += 1
            rgb = to_rgb(img)
            shapes = self.shapes.shapes(rgb, [f.bbox for f in group])
            out.extend(self._dlib.get_face_chips(rgb, shapes, size=CHIP_SIZE, padding=CHIP_PADDING))
            k = j
        return out

    def embed(self, items: Sequence[tuple[np.ndarray, Face]]) -> np.ndarray:
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        chips = self.chips(items)
        with self._lock:
            vecs = self._net.compute_face_descriptor(chips, self.jitters)
        return l2_normalize(np.array([np.asarray(v) for v in vecs], dtype=np.float32))
