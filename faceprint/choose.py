"""Which face of a photo a 1:1 call means: the primary-face rule, or the caller's index or box.

The primary face is the one a person photographing someone frames: big, near the centre and
clearly a face. Each detected face gets

    weight = sqrt(area / image area) * exp(-d^2 / (2 * 0.5^2)) * detection score

where ``d`` is the distance from the face's centre to the image's, as a fraction of the half
diagonal. The square root keeps a face twice the size from winning outright over one at the
centre; 0.5 leaves a face a third of the way to a corner at 0.80 of a centred one's weight.
Measured on LFW's official pairs and on multi-face photos (docs/choosing.md, bench/primary_face.py).

A caller's box follows Face++ ``face_rectangle``: the box *is* the face. The detector looks for
the keypoints inside it; where it finds no face there, the box's own shape places them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .align import ARCFACE_TEMPLATE
from .errors import BadInput, NoFaceFound
from .types import Face

CENTRE_SIGMA = 0.5  # of the half diagonal
BOX_MIN_IOU = 0.3  # a detection overlapping a caller's box this much lends it its keypoints


@dataclass(frozen=True)
class FaceChoice:
    """Which face to use: ``index`` into the faces largest first, or ``box`` (x1, y1, x2, y2)."""

    index: int | None = None
    box: tuple[float, float, float, float] | None = None

    def __post_init__(self) -> None:
        if self.index is not None and self.box is not None:
            raise BadInput("choose a face by index or by box, not both")
        if self.index is not None and self.index < 0:
            raise BadInput(f"face index must be 0 or more; got {self.index}")
        if self.box is not None:
            x1, y1, x2, y2 = self.box
            if not (x2 > x1 and y2 > y1):
                raise BadInput(f"face box must be x1,y1,x2,y2 with x2 > x1 and y2 > y1; got {self.box}")

    @classmethod
    def parse(cls, text: str | None) -> FaceChoice:
        """``"3"`` is face #3 (largest first); ``"x1,y1,x2,y2"`` is a box; empty/None: primary."""
        if text is None or not text.strip():
            return cls()
        parts = [p.strip() for p in text.split(",")]
        try:
            if len(parts) == 1:
                return cls(index=int(parts[0]))
            if len(parts) == 4:
                x1, y1, x2, y2 = (float(p) for p in parts)
                return cls(box=(x1, y1, x2, y2))
        except ValueError:
            pass
        raise BadInput(f"a face is an index (0 = largest) or a box x1,y1,x2,y2; got {text!r}")


PRIMARY = FaceChoice()


def primary_weights(faces: Sequence[Face], width: int, height: int) -> np.ndarray:
    """The primary-face weight of each face (see the module docstring)."""
    if not faces:
        return np.zeros(0)
    boxes = np.stack([f.bbox for f in faces]).astype(np.float64)
    w = np.clip(boxes[:, 2] - boxes[:, 0], 0, None)
    h = np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2.0
    half_diag = max(float(np.hypot(width, height)) / 2.0, 1.0)
    d = np.linalg.norm(centres - np.array([width / 2.0, height / 2.0]), axis=1) / half_diag
    scores = np.array([f.score for f in faces], np.float64)
    weights: np.ndarray = np.sqrt(w * h / max(width * height, 1)) * np.exp(-(d**2) / (2 * CENTRE_SIGMA**2)) * scores
    return weights


def primary_index(faces: Sequence[Face], width: int, height: int) -> int:
    if not faces:
        raise NoFaceFound("no face found in the image")
    return int(np.argmax(primary_weights(faces, width, height)))


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, float(x2 - x1)) * max(0.0, float(y2 - y1))
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / union if union > 0 else 0.0


def template_keypoints(box: np.ndarray) -> np.ndarray:
    """The 5 keypoints of a frontal face filling ``box``, as the 112x112 template places them."""
    x1, y1, x2, y2 = (float(v) for v in box)
    scale = np.array([(x2 - x1) / 112.0, (y2 - y1) / 112.0], np.float32)
    return (ARCFACE_TEMPLATE * scale + np.array([x1, y1], np.float32)).astype(np.float32)


def face_for_box(box: np.ndarray, found: Sequence[Face]) -> Face:
    """The face a caller's box names: the box itself, with the keypoints of the detection that
    overlaps it best (IoU >= BOX_MIN_IOU) or, failing one, the template's."""
    box = np.asarray(box, np.float32)
    best = max(found, key=lambda f: box_iou(f.bbox, box), default=None)
    if best is not None and box_iou(best.bbox, box) >= BOX_MIN_IOU:
        return best.with_(bbox=box)
    return Face(bbox=box, score=0.0, kps=template_keypoints(box))


def crop_window(box: np.ndarray, width: int, height: int, margin: float = 0.5) -> tuple[int, int, int, int]:
    """The region around a box the detector searches for its keypoints: ``margin`` of the box's
    size on every side, inside the image."""
    x1, y1, x2, y2 = (float(v) for v in box)
    mx, my = (x2 - x1) * margin, (y2 - y1) * margin
    cx1, cy1 = max(0, int(x1 - mx)), max(0, int(y1 - my))
    cx2, cy2 = min(width, int(np.ceil(x2 + mx))), min(height, int(np.ceil(y2 + my)))
    if cx2 - cx1 < 2 or cy2 - cy1 < 2:
        raise BadInput(f"face box {[round(float(v), 1) for v in box]} lies outside the {width}x{height} image")
    return cx1, cy1, cx2, cy2
