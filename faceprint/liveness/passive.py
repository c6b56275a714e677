"""A passive presentation-attack check of one photo: a selfie at enrolment, no challenge.

    det = get_detector("minifasnet")
    result = check_image(engine, det, "selfie.jpg")     # PassiveResult: live_probability, score, attack

The largest face is checked (a photo with no face raises ``NoFaceFound``). A single photo gives
the detector one frame, so its error rates are the frame-level ones of bench/pad.py; a clip
(``PADDetector.score_frames``) decides on the median of many frames and is the stronger check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine import FaceEngine
from ..errors import NoFaceFound
from ..image import ImageInput
from .pad import PADDetector


@dataclass(frozen=True)
class PassiveResult:
    detector: str
    faces: int  # faces found; the largest was checked
    bbox: tuple[float, float, float, float]  # x1, y1, x2, y2 of the face checked
    score: float  # 0 bona fide .. 1 attack
    threshold: float
    live_probability: float | None  # the network's own probability, for detectors that have one

    @property
    def attack(self) -> bool:
        return self.score >= self.threshold

    def to_dict(self) -> dict[str, object]:
        return {"detector": self.detector, "faces": self.faces, "bbox": [round(v, 1) for v in self.bbox],
                "live_probability": None if self.live_probability is None else round(self.live_probability, 4),
                "score": round(self.score, 4), "threshold": self.threshold, "attack": self.attack}  # fmt: skip


def check_image(engine: FaceEngine, detector: PADDetector, image: ImageInput | np.ndarray) -> PassiveResult:
    img = engine.load(image)
    faces = engine.detect(img)
    if not faces:
        raise NoFaceFound("no face found in the image", param="image")
    face = faces[0]
    score = detector.score_faces([(img, face)])
    if not score:
        raise NoFaceFound("the face is too small to check", param="image")
    x1, y1, x2, y2 = (float(v) for v in face.bbox)
    live = 1.0 - score[0] if detector.probability else None
    return PassiveResult(detector.name, len(faces), (x1, y1, x2, y2), score[0], detector.threshold, live)
