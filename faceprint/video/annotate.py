"""Boxes, names and confidence drawn on a video frame (a copy)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .detections import Detections

KNOWN = (60, 200, 60)  # BGR
UNKNOWN = (0, 165, 255)
NOISE = (140, 140, 140)


def annotate(image: np.ndarray, dets: Detections, labels: Sequence[str | None], known: Sequence[bool]) -> np.ndarray:
    """``labels[i]`` None: a track dropped as noise, drawn thin and grey without text."""
    out = image.copy()
    thick = max(1, round(max(image.shape[:2]) / 400))
    for i in range(len(dets)):
        x1, y1, x2, y2 = (round(float(v)) for v in dets.xyxy[i])
        label = labels[i]
        colour = NOISE if label is None else (KNOWN if known[i] else UNKNOWN)
        width = 1 if label is None or not dets.detected[i] else thick + 1
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, width, cv2.LINE_AA)
        if label:
            _text(out, label, (x1, y1), colour, thick)
    return out


def _text(img: np.ndarray, text: str, org: tuple[int, int], colour: tuple[int, int, int], thick: int) -> None:
    scale = 0.38 * thick
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x = min(max(org[0], 0), max(img.shape[1] - tw - 2, 0))
    y = max(org[1], th + base + 2)
    cv2.rectangle(img, (x, y - th - base - 2), (x + tw + 2, y), colour, -1)
    cv2.putText(img, text, (x + 1, y - base), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
