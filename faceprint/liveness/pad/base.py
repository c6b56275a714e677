"""The passive presentation-attack detection (PAD) plug-in interface and its registry.

A detector scores face crops: 0 looks bona fide, 1 looks like an attack. ``threshold`` is its
documented operating point (score >= threshold: attack). A clip is scored as the median over
up to ``max_frames`` evenly spaced frames of the track, so one odd frame does not decide.

    detector = get_detector("glare")
    result = detector.score_frames(images, faces)     # PADResult(score, attack, frames, ...)

Register a new detector with ``register("name", factory)``; the factory takes no arguments.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import UnknownDetector as UnknownDetector  # defined in the one tree, re-exported for liveness.pad
from ...registry import Registry
from ...types import Face


@dataclass(frozen=True)
class PADOptions:
    """What a detector with installed weights needs to find and run them (the others ignore it)."""

    data_dir: Path | None = None  # None: $FACEPRINT_PAD_DIR, else the default data directory
    threads: int | None = None


@dataclass(frozen=True)
class PADResult:
    detector: str
    score: float  # 0 bona fide .. 1 attack (median over frames)
    threshold: float
    frames: int  # frames scored
    per_frame: tuple[float, ...] = field(default=(), repr=False)
    probability: bool = False  # score = 1 - a trained network's live probability

    @property
    def live_probability(self) -> float | None:
        return 1.0 - self.score if self.probability else None

    @property
    def attack(self) -> bool:
        return self.score >= self.threshold

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"detector": self.detector, "score": round(self.score, 4), "threshold": self.threshold,
                                  "attack": self.attack, "frames": self.frames}  # fmt: skip
        if self.probability:
            out["live_probability"] = round(1.0 - self.score, 4)
        return out


def face_crop(image: np.ndarray, face: Face, margin: float = 0.0) -> np.ndarray | None:
    x1, y1, x2, y2 = (float(v) for v in face.bbox)
    w, h = x2 - x1, y2 - y1
    hh, ww = image.shape[:2]
    a, b = int(max(0, x1 - margin * w)), int(max(0, y1 - margin * h))
    c, d = int(min(ww, x2 + margin * w)), int(min(hh, y2 + margin * h))
    if c - a < 8 or d - b < 8:
        return None
    return image[b:d, a:c]


class PADDetector(ABC):
    name: str = ""
    threshold: float = 0.5
    summary: str = ""
    max_frames: int = 15
    probability: bool = False  # True: the score is one minus a trained network's live probability

    def __init__(self, options: PADOptions | None = None) -> None:
        self.options = options or PADOptions()

    @abstractmethod
    def score_crop(self, crop: np.ndarray) -> float:
        """0..1 for one BGR face crop."""

    def score_faces(self, pairs: Sequence[tuple[np.ndarray, Face]]) -> list[float]:
        """One score per (image, face) pair that can be scored (tiny faces are skipped).

        The default crops the face box and calls :meth:`score_crop`; a detector that needs
        context around the box, or batches frames, overrides this instead.
        """
        crops = (face_crop(im, f) for im, f in pairs)
        return [float(self.score_crop(c)) for c in crops if c is not None]

    def score_frames(self, images: Sequence[np.ndarray], faces: Sequence[Face | None]) -> PADResult:
        pairs = [(im, f) for im, f in zip(images, faces, strict=False) if f is not None]
        if len(pairs) > self.max_frames:
            idx = np.linspace(0, len(pairs) - 1, self.max_frames).round().astype(int)
            pairs = [pairs[i] for i in idx]
        scores = self.score_faces(pairs)
        score = float(np.median(scores)) if scores else float("nan")
        return PADResult(self.name, score, self.threshold, len(scores), tuple(scores), self.probability)


# The shipped detectors are registered by this package's __init__ (which imports their modules).
DETECTORS: Registry[Callable[..., PADDetector]] = Registry(
    "PAD detector", UnknownDetector, builtin=dict.fromkeys(("glare", "minifasnet", "moire"), "faceprint.liveness.pad"), details={"param": "pad"},
)  # fmt: skip


def register(name: str, factory: Callable[..., PADDetector]) -> None:
    """``factory()`` builds the detector; a PADDetector subclass also takes ``PADOptions``."""
    DETECTORS.register(name, factory)


def available() -> list[str]:
    return DETECTORS.names()


def get_detector(name: str, options: PADOptions | None = None) -> PADDetector:
    factory = DETECTORS.get(name)
    return factory(options) if options is not None else factory()
