"""Annotated images: boxes, keypoints, landmarks and labels drawn on a copy of the frame.

A face's label is its number in the list (``0`` is the largest, as in ``faceprint detect``'s
table and ``--face N``) unless the caller gives labels (names, say). Labels are placed so that
none covers another: each takes the first free spot around its box (above, below, inside),
and in a crowd where every spot is taken, the one it overlaps least.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .types import Face

_KPS_COLOURS = [(255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 0, 255), (0, 255, 255)]
_FONT = cv2.FONT_HERSHEY_SIMPLEX

Rect = tuple[int, int, int, int]  # x1, y1, x2, y2


def draw_faces(
    img: np.ndarray, faces: Sequence[Face], labels: Sequence[str] | None = None, colour: tuple[int, int, int] = (0, 200, 0)
) -> np.ndarray:
    out = img.copy()
    thick = max(1, round(max(img.shape[:2]) / 500))
    texts = list(labels) if labels is not None else [str(i) for i in range(len(faces))]
    boxes = [_box(f) for f in faces]
    for face, (x1, y1, x2, y2) in zip(faces, boxes, strict=True):
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick)
        if face.landmarks is not None:
            for x, y in face.landmarks:
                cv2.circle(out, (int(x), int(y)), max(1, thick), (255, 255, 0), -1)
        for (x, y), c in zip(face.kps, _KPS_COLOURS, strict=True):
            cv2.circle(out, (int(x), int(y)), thick + 1, c, -1)
    scale = 0.4 * thick
    sizes = [_text_size(t, scale) for t in texts]
    for text, rect in zip(texts, place_labels(boxes, sizes, (img.shape[1], img.shape[0])), strict=True):
        if text:
            _label(out, text, rect, colour, scale)
    return out


def place_labels(boxes: Sequence[Rect], sizes: Sequence[tuple[int, int]], image_size: tuple[int, int]) -> list[Rect]:
    """Where each label goes: the first spot by its box that is inside the image and free of other labels."""
    width, height = image_size
    placed: list[Rect] = []
    for box, (w, h) in zip(boxes, sizes, strict=True):
        spots = [_fit(s, width, height) for s in _spots(box, w, h)]
        free = [s for s in spots if not any(_overlap(s, p) for p in placed)]
        placed.append(free[0] if free else min(spots, key=lambda s: sum(_overlap(s, p) for p in placed)))
    return placed


def _spots(box: Rect, w: int, h: int) -> list[Rect]:
    """Candidate places, nearest first: on the box's edges, inside its corner, beside it, then rows further out."""
    x1, y1, x2, y2 = box
    near = [
        (x1, y1 - h, x1 + w, y1),  # above, left-aligned
        (x2 - w, y1 - h, x2, y1),  # above, right-aligned
        (x1, y2, x1 + w, y2 + h),  # below, left-aligned
        (x2 - w, y2, x2, y2 + h),  # below, right-aligned
        (x1, y1, x1 + w, y1 + h),  # inside the top-left corner
        (x1 - w, y1, x1, y1 + h),  # left of the box
        (x2, y1, x2 + w, y1 + h),  # right of the box
    ]
    rows = [(x, y1 - k * h, x + w, y1 - (k - 1) * h) for k in range(2, 7) for x in (x1, x2 - w)]
    rows += [(x, y2 + (k - 1) * h, x + w, y2 + k * h) for k in range(2, 7) for x in (x1, x2 - w)]
    return near + sorted(rows, key=lambda r: abs(r[1] - y1))


def _fit(r: Rect, width: int, height: int) -> Rect:
    w, h = r[2] - r[0], r[3] - r[1]
    x = min(max(r[0], 0), max(width - w, 0))
    y = min(max(r[1], 0), max(height - h, 0))
    return (x, y, x + w, y + h)


def _overlap(a: Rect, b: Rect) -> int:
    """Area two rectangles share (0 when they only touch)."""
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def _box(face: Face) -> Rect:
    x1, y1, x2, y2 = (round(float(v)) for v in face.bbox)
    return (x1, y1, x2, y2)


def _text_size(text: str, scale: float) -> tuple[int, int]:
    (tw, th), base = cv2.getTextSize(text, _FONT, scale, 1)
    return tw + 2, th + base + 2


def _label(img: np.ndarray, text: str, rect: Rect, colour: tuple[int, int, int], scale: float) -> None:
    x1, y1, x2, y2 = rect
    _, base = cv2.getTextSize(text, _FONT, scale, 1)
    cv2.rectangle(img, (x1, y1), (x2, y2), colour, -1)
    cv2.putText(img, text, (x1 + 1, y2 - base - 1), _FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)
