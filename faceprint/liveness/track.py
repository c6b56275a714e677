"""Faces in every frame, then one face followed through the sequence.

:func:`observe` is the expensive, stateless part: detection, 106 landmarks, pose, quality and a
template for each face of each frame, batched through the engine. Because each frame is
processed on its own, the observations of a spliced or trimmed sequence are the splice or
trim of the observations, which the tests and the bench rely on to reuse work.

:func:`follow` is cheap and deterministic: it picks the face to follow (the largest in the first
frame that has one) and, frame by frame, the face overlapping it most. When nothing overlaps
and a face is present, the track re-attaches to the largest face and records a *jump*; whether
it is still the same person is for the identity rule to say, from the templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..boxes import box_iou
from ..engine import FaceEngine
from ..types import Face
from .sequence import FrameSequence

BATCH = 16


@dataclass(frozen=True, eq=False)
class FrameObservation:
    time: float
    faces: tuple[Face, ...]  # largest first; each with landmarks, pose, quality and embedding
    size: tuple[int, int]  # (width, height)
    gray: np.ndarray | None = None  # grey frame, at most 640 px a side, for the flat-picture test
    gray_scale: float = 1.0  # gray pixels per frame pixel


def gray_small(image: np.ndarray, max_side: int = 640) -> tuple[np.ndarray, float]:
    """Grey copy no larger than ``max_side``, and the factor it was scaled by."""
    g = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    s = min(1.0, max_side / max(g.shape))
    return (cv2.resize(g, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1.0 else g), s


def observe(engine: FaceEngine, seq: FrameSequence, *, min_face: int = 0) -> list[FrameObservation]:
    out: list[FrameObservation] = []
    for k in range(0, len(seq), BATCH):
        imgs = list(seq.images[k : k + BATCH])
        found = engine.embed_batch(imgs, landmarks=True)
        for j, (img, faces) in enumerate(zip(imgs, found, strict=True)):
            keep = tuple(f for f in faces if f.width >= min_face)
            gray, scale = gray_small(img)
            out.append(FrameObservation(float(seq.times[k + j]), keep, (img.shape[1], img.shape[0]), gray, scale))
    return out


def retime(observations: list[FrameObservation], times: np.ndarray) -> list[FrameObservation]:
    """The same observations with new timestamps (splices, re-based sub-clips, forged gaps)."""
    return [FrameObservation(float(t), o.faces, o.size, o.gray, o.gray_scale) for o, t in zip(observations, times, strict=False)]


@dataclass(frozen=True)
class TrackConfig:
    min_iou: float = 0.1  # to keep following the same box from one frame to the next
    other_face_ratio: float = 0.5  # another face at least this wide (relative) counts as a second person


@dataclass(frozen=True, eq=False)
class FaceTrack:
    times: np.ndarray  # (N,) seconds, every frame of the sequence
    faces: tuple[Face | None, ...]  # the followed face in each frame, None when not seen
    others: np.ndarray  # (N,) int: other faces in the frame at least other_face_ratio as wide
    jumps: tuple[int, ...] = field(default=())  # frames where the track re-attached without overlap

    @property
    def seen(self) -> np.ndarray:
        return np.array([f is not None for f in self.faces], dtype=bool)

    def __len__(self) -> int:
        return len(self.faces)


def follow(observations: list[FrameObservation], config: TrackConfig | None = None) -> FaceTrack:
    cfg = config or TrackConfig()
    faces: list[Face | None] = []
    others = np.zeros(len(observations), dtype=np.int64)
    jumps: list[int] = []
    last: Face | None = None
    for i, obs in enumerate(observations):
        pick: Face | None = None
        if obs.faces:
            if last is None:
                pick = obs.faces[0]
            else:
                ious = box_iou(last.bbox[None], np.stack([f.bbox for f in obs.faces]))[0]
                k = int(np.argmax(ious))
                if ious[k] >= cfg.min_iou:
                    pick = obs.faces[k]
                else:
                    pick = obs.faces[0]
                    jumps.append(i)
            others[i] = sum(1 for f in obs.faces if f is not pick and f.width >= cfg.other_face_ratio * pick.width)
            last = pick
        faces.append(pick)
    times = np.array([o.time for o in observations], dtype=np.float64)
    return FaceTrack(times, tuple(faces), others, tuple(jumps))
