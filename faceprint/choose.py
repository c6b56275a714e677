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


def template_keypoints(box: np.ndarray) -> np.ndarray:
    """The 5 keypoints of a frontal face filling ``box``, as the 112x112 template places them."""
    x1, y1, x2, y2 = (float(v) for v in box)
    scale = np.array([(x2 - x1) / 112.0, (y2 - y1) / 112.0], np.float32)
    return (ARCFACE_TEMPLATE * scale + np.array([x1, y1], np.float32)).astype(np.float32)
