"""SCRFD (InsightFace) detector on onnxruntime: anchor-free boxes and five keypoints.

The network is fully convolutional, so the input is padded only to a multiple of 32
rather than to a square: a 4:3 photo costs 640x480, not 640x640.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from ..models.onnx import make_session
from ..types import Face
from .base import Detector, ceil32, to_faces

_STRIDES = (8, 16, 32)
_ANCHORS = 2
_MEAN, _STD = 127.5, 128.0


class SCRFD(Detector):
    name = "scrfd"

    def __init__(
        self, path: Path, *, det_size: int = 640, threshold: float = 0.5, nms_iou: float = 0.4, threads: int | None = None
    ) -> None:
        self.session = make_session(path, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.det_size = det_size
        self.threshold = threshold
        self.nms_iou = nms_iou
        self._centers: dict[tuple[int, int, int], np.ndarray] = {}

    def _fit(self, img: np.ndarray) -> tuple[int, int, float]:
        """Resized (w, h) and scale, computed exactly as InsightFace's reference SCRFD does.

        Marginal faces (score near the threshold) are sensitive to a one-pixel change of
        scale, so the same rounding as the reference keeps the same faces found.
        """
        h, w = img.shape[:2]
        if max(h, w) <= self.det_size:
            # Never enlarge: SCRFD-500M misses faces that fill an upscaled frame (31 of LFW's
            # 13,233 250x250 images at 640, none at their own size), and enlarging adds no detail.
            return w, h, 1.0
        im_ratio = float(h) / w
        if im_ratio > 1.0:
            nh = self.det_size
            nw = max(1, int(nh / im_ratio))
        else:
            nw = self.det_size
            nh = max(1, int(nw * im_ratio))
        return nw, nh, float(nh) / h

    def _prepare(self, img: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float]:
        """Resize to fit, pad bottom/right to ``size`` (w, h) with black; NCHW float RGB blob."""
        nw, nh, scale = self._fit(img)
        resized = cv2.resize(img, (nw, nh)) if (nw, nh) != (img.shape[1], img.shape[0]) else img
        canvas = np.zeros((size[1], size[0], 3), dtype=np.uint8)
        canvas[:nh, :nw] = resized
        blob = cv2.dnn.blobFromImage(canvas, 1.0 / _STD, size, (_MEAN, _MEAN, _MEAN), swapRB=True)
        return blob, scale

    def input_size(self, img: np.ndarray) -> tuple[int, int]:
        nw, nh, _ = self._fit(img)
        return (ceil32(nw), ceil32(nh))

    def detect(self, img: np.ndarray) -> list[Face]:
        size = self.input_size(img)
        blob, scale = self._prepare(img, size)
        outs = self.session.run(self.output_names, {self.input_name: blob})
        return self._decode([o[0] if o.ndim == 3 else o for o in outs], size, scale)

    def detect_batch(self, imgs: Sequence[np.ndarray]) -> list[list[Face]]:
        """One ONNX call per group of images sharing an input size (e.g. a folder of LFW crops)."""
        results: list[list[Face]] = [[] for _ in imgs]
        groups: dict[tuple[int, int], list[int]] = {}
        for i, img in enumerate(imgs):
            groups.setdefault(self.input_size(img), []).append(i)
        for size, idx in groups.items():
            if len(idx) == 1:
                results[idx[0]] = self.detect(imgs[idx[0]])
                continue
            prepared = [self._prepare(imgs[i], size) for i in idx]
            blob = np.concatenate([p[0] for p in prepared])
            outs = self.session.run(self.output_names, {self.input_name: blob})
            for j, i in enumerate(idx):
                results[i] = self._decode([o[j] for o in outs], size, prepared[j][1])
        return results

    def _anchor_centers(self, h: int, w: int, stride: int) -> np.ndarray:
        key = (h, w, stride)
        if key not in self._centers:
            ys, xs = np.mgrid[:h, :w]
            c = (np.stack([xs, ys], axis=-1).astype(np.float32) * stride).reshape(-1, 2)
            self._centers[key] = np.repeat(c, _ANCHORS, axis=0)
        return self._centers[key]

    def _decode(self, outs: list[np.ndarray], size: tuple[int, int], scale: float) -> list[Face]:
        n = len(_STRIDES)
        boxes, scores, kpss = [], [], []
        for k, stride in enumerate(_STRIDES):
            s = outs[k].reshape(-1)
            keep = np.where(s >= self.threshold)[0]
            if keep.size == 0:
                continue
            centers = self._anchor_centers(size[1] // stride, size[0] // stride, stride)[keep]
            d = outs[n + k].reshape(-1, 4)[keep] * stride
            boxes.append(np.concatenate([centers - d[:, :2], centers + d[:, 2:]], axis=1))
            kp = outs[2 * n + k].reshape(-1, 10)[keep] * stride
            kpss.append(kp.reshape(-1, 5, 2) + centers[:, None, :])
            scores.append(s[keep])
        return to_faces(boxes, scores, kpss, scale, self.nms_iou)
