"""The detector seam: BGR image in, faces with box, score and five keypoints out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from ..boxes import box_iou, inclusive
from ..types import Face


class Detector(ABC):
    name: str

    @abstractmethod
    def detect(self, img: np.ndarray) -> list[Face]:
        """Faces sorted by descending score, with ``bbox``, ``score`` and ``kps`` filled."""

    def detect_batch(self, imgs: Sequence[np.ndarray]) -> list[list[Face]]:
        return [self.detect(img) for img in imgs]


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best first."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    px = inclusive(boxes)  # the detectors count a box's last row and column as inside it
    order = scores.argsort()[::-1]
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        iou = box_iou(px[i : i + 1], px[order[1:]])[0]
        order = order[1:][iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def to_faces(
    boxes: list[np.ndarray], scores: list[np.ndarray], kpss: list[np.ndarray], scale: float, iou: float
) -> list[Face]:
    """Per-stride candidates in network-input pixels -> NMS-filtered faces in source pixels."""
    if not scores:
        return []
    b = np.concatenate(boxes) / scale
    sc = np.concatenate(scores)
    kp = np.concatenate(kpss) / scale
    keep = nms(b, sc, iou)
    return [Face(bbox=b[i].astype(np.float32), score=float(sc[i]), kps=kp[i].astype(np.float32)) for i in keep]


def ceil32(v: float) -> int:
    """Smallest multiple of 32 (the detectors' largest stride) at or above ``v``, at least 32."""
    return max(32, int(np.ceil(v / 32.0)) * 32)
