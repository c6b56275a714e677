"""Typed values that cross module seams. Numpy arrays in, numpy arrays out."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .errors import NoFaceFound


@dataclass(frozen=True)
class Pose:
    """Head pose in degrees. Positive yaw turns to the subject's left, positive pitch looks up."""

    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True)
class Quality:
    """0-100 face quality (role of Face++ ``facequality``) and the parts it is built from."""

    score: float
    size: float  # 0-1: inter-eye distance against what recognition needs
    sharpness: float  # 0-1: variance of the Laplacian on the aligned crop
    brightness: float  # 0-1: exposure of the aligned crop
    pose: float  # 0-1: frontalness

    THRESHOLD = 40.0  # below this a face is not fit for enrolment; see docs in quality.py

    @property
    def acceptable(self) -> bool:
        return self.score >= self.THRESHOLD


@dataclass(frozen=True, eq=False)
class Face:
    """One face. The detector creates it; later stages fill their own field via ``with_``."""

    bbox: np.ndarray  # (4,) float32, x1 y1 x2 y2 in source-image pixels
    score: float  # detection confidence 0-1
    kps: np.ndarray  # (5, 2) float32: left eye, right eye, nose, left mouth, right mouth (image left/right)
    landmarks: np.ndarray | None = None  # (106, 2) when asked for
    pose: Pose | None = None
    quality: Quality | None = None
    embedding: np.ndarray | None = None  # (D,) float32, L2-normalised

    def with_(self, **changes: object) -> Face:
        return replace(self, **changes)  # type: ignore[arg-type]

    def vector(self) -> np.ndarray:
        """The embedding; NoFaceFound for a face that never went through embedding."""
        if self.embedding is None:
            raise NoFaceFound("face has no embedding; pass it through embed() first")
        return self.embedding

    @property
    def width(self) -> float:
        return float(self.bbox[2] - self.bbox[0])

    @property
    def height(self) -> float:
        return float(self.bbox[3] - self.bbox[1])

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    def to_dict(self, *, embedding: bool = False) -> dict[str, object]:
        out: dict[str, object] = {
            "bbox": [round(float(v), 2) for v in self.bbox],
            "score": round(self.score, 4),
            "kps": _rounded(self.kps),
        }
        if self.landmarks is not None:
            out["landmarks"] = _rounded(self.landmarks)
        if self.pose is not None:
            out["pose"] = {k: round(v, 2) for k, v in vars(self.pose).items()}
        if self.quality is not None:
            out["quality"] = {k: round(v, 3) for k, v in vars(self.quality).items()}
        if embedding and self.embedding is not None:
            out["embedding"] = [round(float(v), 6) for v in self.embedding]
        return out


def _rounded(points: np.ndarray) -> list[list[float]]:
    """Points to 2 decimals as JSON numbers: rounded in float64, so 579.15 prints as 579.15."""
    out: list[list[float]] = np.round(points.astype(np.float64), 2).tolist()
    return out


@dataclass(frozen=True)
class Verdict:
    """The result of a 1:1 comparison, as Face++ ``compare`` reports it."""

    similarity: float  # cosine similarity of the two templates
    confidence: float  # 0-100, monotonic in similarity
    thresholds: dict[str, float]  # {"1e-3": c, "1e-4": c, "1e-5": c} confidence at each FAR
    faces_a: int = 1  # faces found in each input; the largest was compared
    faces_b: int = 1
    face_a: Face | None = field(default=None, compare=False, repr=False)
    face_b: Face | None = field(default=None, compare=False, repr=False)

    def match(self, far: str = "1e-5") -> bool:
        return self.confidence >= self.thresholds[far]

    @property
    def is_match(self) -> bool:
        """Match at FAR 1e-3 (the loosest published operating point)."""
        return self.match("1e-3")

    def to_dict(self) -> dict[str, object]:
        return {
            "similarity": round(self.similarity, 5),
            "confidence": round(self.confidence, 3),
            "thresholds": {k: round(v, 3) for k, v in self.thresholds.items()},
            "match": {k: self.match(k) for k in self.thresholds},
            "faces_found": [self.faces_a, self.faces_b],
        }
