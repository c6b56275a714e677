"""dlib face detectors: HOG + linear SVM (the default) or the MMOD CNN, with 5 keypoints.

Scores. Both detectors return an SVM margin, not a probability; dlib keeps a detection when
its margin is above 0. We report ``score = 1 / (1 + exp(-2 * margin))``: margin 0 (dlib's own
threshold) maps to 0.5, which is our default ``det_threshold``, so the pack by default keeps
exactly what dlib keeps. On LFW, frontal faces found by HOG score margin 0.7-2.6 (score
0.80-0.99, median 0.97); on dlib's 9 annotated test photos every false box had a margin
under 0 and all 43 true faces were above it.

Size. HOG finds faces from about 80 px, 40 px with one upsample: five times SCRFD's
smallest, so it needs about twice the resolution to find the faces SCRFD finds at
``det_size``. The image is therefore shrunk (never enlarged) only when its long side exceeds
``max_side`` (the pack passes 2 * det_size, 1280 by default), then upsampled ``upsample``
times inside dlib. On ``players.jpg`` (1237x800, 22 faces) HOG with upsample 1 finds 16 faces
in 520 ms at full size, 16 in 270 ms at 960 px, and 1 at 640 px.
Speed on this 2-core machine: HOG with upsample 1 takes 110-180 ms for a 500x375 photo,
about 40-60 ms for a 250x250 LFW image. The MMOD CNN takes seconds per photo here
(dlib-bin has no BLAS): opt in with ``kind="mmod"``. dlib's Python API gives the MMOD
detector no threshold argument and it returns only margins above 0, so for it a
``threshold`` below 0.5 acts as 0.5.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

import cv2
import numpy as np

from ..errors import ModelError
from ..types import Face
from .base import Detector
from .dlib_shape import FivePoint, bbox, import_dlib, to_rgb

KINDS = ("hog", "mmod")
_SLOPE = 2.0


def margin_to_score(margin: float) -> float:
    return 1.0 / (1.0 + math.exp(-_SLOPE * margin))


def score_to_margin(score: float) -> float:
    score = min(max(score, 1e-6), 1.0 - 1e-6)
    return math.log(score / (1.0 - score)) / _SLOPE


SMALL = 320  # images up to this side get the second look when HOG finds nothing


class DlibDetector(Detector):
    def __init__(
        self,
        shapes: FivePoint,
        *,
        kind: str = "hog",
        cnn_path: Path | None = None,
        upsample: int = 1,
        max_side: int = 1280,
        threshold: float = 0.5,
    ) -> None:
        if kind not in KINDS:
            raise ModelError(f"unknown dlib detector {kind!r}; choose one of {', '.join(KINDS)}")
        if upsample < 0:
            raise ModelError(f"upsample must be >= 0, got {upsample}")
        dlib = import_dlib()
        if kind == "mmod" and cnn_path is None:
            raise ModelError("the MMOD detector needs mmod_human_face_detector.dat")
        self._cnn_path = cnn_path
        self._cnn = dlib.cnn_face_detection_model_v1(str(cnn_path)) if kind == "mmod" else None
        self._hog = dlib.get_frontal_face_detector() if kind == "hog" else None
        self.name = f"dlib-{kind}"
        self.kind = kind
        self.shapes = shapes
        self.upsample = upsample
        self.max_side = max_side
        self.threshold = threshold
        self._lock = threading.Lock()

    def detect(self, img: np.ndarray) -> list[Face]:
        rgb = to_rgb(img)
        small, scale = _shrink(rgb, self.max_side)
        with self._lock:
            found = self._run(small)
        faces = []
        for r, margin in found:
            score = margin_to_score(margin)
            if score < self.threshold:
                continue
            box = bbox(r, scale)
            kps = self.shapes.kps(self.shapes.shape(rgb, box))
            faces.append(Face(bbox=box, score=score, kps=kps))
        return sorted(faces, key=lambda f: -f.score)

    def _run(self, rgb: np.ndarray) -> list[tuple[object, float]]:
        hog = self._hog
        if hog is None:  # kind "mmod": there is no HOG detector
            return self._mmod(rgb)
        rects, margins, _ = hog.run(rgb, self.upsample, score_to_margin(self.threshold))
        if rects or max(rgb.shape[:2]) > SMALL:
            return list(zip(rects, (float(m) for m in margins), strict=True))  # one margin per box
        # A small image where HOG found nothing (67 of LFW's 13,233 250x250 images): one more
        # doubling finds 28 of them, and the MMOD CNN (about 1 s at this size) most of the rest.
        # Large images never pay this: on a frame with no face it would cost seconds.
        rects, margins, _ = hog.run(rgb, self.upsample + 1, score_to_margin(self.threshold))
        if rects or self._cnn_path is None:
            return list(zip(rects, (float(m) for m in margins), strict=True))  # one margin per box
        return self._mmod(rgb)

    def _mmod(self, rgb: np.ndarray) -> list[tuple[object, float]]:
        if self._cnn is None:
            self._cnn = import_dlib().cnn_face_detection_model_v1(str(self._cnn_path))
        return [(d.rect, float(d.confidence)) for d in self._cnn(rgb, self.upsample)]


def _shrink(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return rgb, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.ascontiguousarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)), scale
