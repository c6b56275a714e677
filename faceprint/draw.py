"""Annotated images: boxes, keypoints, landmarks and labels drawn on a copy of the frame."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .types import Face

_KPS_COLOURS = [(255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 0, 255), (0, 255, 255)]


def draw_faces(
    img: np.ndarray, faces: Sequence[Face], labels: Sequence[str] | None = None, colour: tuple[int, int, int] = (0, 200, 0)
) -> np.ndarray:
    out = img.copy()
    thick = max(1, round(max(img.shape[:2]) / 500))
    for i, face in enumerate(faces):
        x1, y1, x2, y2 = (int(round(v)) for v in face.bbox)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick)
        if face.landmarks is not None:
            for x, y in face.landmarks:
                cv2.circle(out, (int(x), int(y)), max(1, thick), (255, 255, 0), -1)
        for (x, y), c in zip(face.kps, _KPS_COLOURS):
            cv2.circle(out, (int(x), int(y)), thick + 1, c, -1)
        text = labels[i] if labels is not None else f"{face.score:.2f}"
        if text:
            _label(out, text, (x1, y1), colour, thick)
    return out


def _label(img: np.ndarray, text: str, org: tuple[int, int], colour: tuple[int, int, int], thick: int) -> None:
    scale = 0.4 * thick
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x, y = org[0], max(org[1], th + base + 2)
    cv2.rectangle(img, (x, y - th - base - 2), (x + tw + 2, y), colour, -1)
    cv2.putText(img, text, (x + 1, y - base), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
