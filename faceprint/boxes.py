"""Boxes in xyxy pixels (left, top, right, bottom): the one intersection over union.

The detectors' NMS, the video tracker and the liveness face track all measure overlap with
:func:`box_iou`. SCRFD's and YuNet's NMS count a box's pixels inclusively (a box from x1 to x2 is
``x2 - x1 + 1`` wide, as InsightFace does); :func:`inclusive` turns such boxes into the continuous
ones :func:`box_iou` reads, so that convention lives in one place too.
"""

from __future__ import annotations

import numpy as np

_PLUS_ONE = np.array([0.0, 0.0, 1.0, 1.0], np.float32)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, 4) x (M, 4) xyxy -> (N, M) float32 intersection over union; an empty side gives an empty matrix.

    A box with no area overlaps nothing (IoU 0), even itself."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0.0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0.0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0.0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    out: np.ndarray = (inter / np.maximum(union, 1e-9)).astype(np.float32)
    return out


def inclusive(boxes: np.ndarray) -> np.ndarray:
    """Boxes whose right and bottom pixels are inside them, as continuous xyxy (right and bottom + 1)."""
    out: np.ndarray = boxes + _PLUS_ONE.astype(boxes.dtype)
    return out
