"""InsightFace 2d106det: 106 landmarks from a 192x192 crop around the detected box."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from ..models.onnx import make_session
from ..types import Face
from .base import Landmarker


class Det106(Landmarker):
    name = "2d106det"
    five = (38, 92, 86, 52, 61)  # the pupils, nose tip and mouth corners: within a few pixels of SCRFD's keypoints

    def __init__(self, path: Path, threads: int | None = None) -> None:
        self.session = make_session(path, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.size = 192

    def _crop(self, img: np.ndarray, face: Face) -> tuple[np.ndarray, np.ndarray]:
        x1, y1, x2, y2 = face.bbox
        cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
        scale = self.size / (max(x2 - x1, y2 - y1) * 1.5)
        m = np.array([[scale, 0.0, self.size / 2.0 - cx * scale], [0.0, scale, self.size / 2.0 - cy * scale]])
        crop = cv2.warpAffine(img, m, (self.size, self.size), borderValue=0.0)
        return crop, m

    def landmarks(self, img: np.ndarray, faces: Sequence[Face]) -> list[np.ndarray]:
        if not faces:
            return []
        crops, mats = zip(*(self._crop(img, f) for f in faces), strict=True)
        blob = np.stack(crops)[..., ::-1].astype(np.float32).transpose(0, 3, 1, 2)
        pred = self.session.run(None, {self.input_name: np.ascontiguousarray(blob)})[0]
        out = []
        for p, m in zip(pred.reshape(len(faces), -1, 2), mats, strict=True):
            pts = (p + 1.0) * (self.size / 2.0)
            inv = cv2.invertAffineTransform(m)
            out.append((pts @ inv[:, :2].T + inv[:, 2]).astype(np.float32))
        return out
