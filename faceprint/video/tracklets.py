"""What each track saw: when, where, and its few best faces, kept as small crops.

Only ``keep`` faces per track are kept, the best by quality (then detector score), at least
``min_gap_s`` apart so they are not three copies of one instant. Each is stored as a crop of
the frame with a margin around the face and the face's coordinates moved into the crop, so
embedding it later aligns exactly as on the full frame while a track holds kilobytes, not frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..types import Face
from .detections import Detections

THUMB_SIDE = 112


@dataclass(frozen=True)
class TrackletConfig:
    keep: int = 3  # best faces kept (and later embedded) per track
    min_gap_s: float = 0.2  # kept faces are at least this far apart in time
    margin: float = 0.75  # crop margin on each side, in face sizes (0.7 embeds identically on the real clip, 0.5 does not)


@dataclass(frozen=True, eq=False)
class Candidate:
    time_s: float
    frame_index: int
    quality: float  # 0-100
    score: float  # detector confidence
    crop: np.ndarray  # BGR region around the face
    face: Face  # bbox and keypoints in crop coordinates
    bbox: np.ndarray  # (4,) in frame coordinates

    @property
    def rank(self) -> tuple[float, float]:
        return (self.quality, self.score)

    def thumbnail(self) -> np.ndarray:
        """The face with a little context, at most THUMB_SIDE pixels on its longer side."""
        x1, y1, x2, y2 = self.face.bbox
        pad = 0.25 * max(x2 - x1, y2 - y1)
        h, w = self.crop.shape[:2]
        a, b = max(int(x1 - pad), 0), max(int(y1 - pad), 0)
        c, d = min(int(np.ceil(x2 + pad)), w), min(int(np.ceil(y2 + pad)), h)
        img = self.crop[b:d, a:c]
        if img.size == 0:
            return np.zeros((THUMB_SIDE, THUMB_SIDE, 3), np.uint8)
        scale = THUMB_SIDE / max(img.shape[:2])
        if scale < 1.0:
            img = cv2.resize(img, (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale))),
                             interpolation=cv2.INTER_AREA)  # fmt: skip
        return np.ascontiguousarray(img)


@dataclass(eq=False)
class Tracklet:
    """One tracker id's history. ``frames`` and ``times`` include frames where its box was predicted."""

    track_id: int
    frames: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    detected: list[bool] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)  # best first

    @property
    def detections(self) -> int:
        return sum(self.detected)

    @property
    def start_s(self) -> float:
        return self.times[0]

    @property
    def end_s(self) -> float:
        return self.times[-1]

    @property
    def best_quality(self) -> float:
        return self.candidates[0].quality if self.candidates else 0.0

    def last_detected(self) -> int:
        """Index into ``frames`` of the last detector sighting (predicted tails are not presence)."""
        for k in range(len(self.detected) - 1, -1, -1):
            if self.detected[k]:
                return k
        return -1


def _crop(image: np.ndarray, box: np.ndarray, kps: np.ndarray, score: float, margin: float) -> tuple[np.ndarray, Face]:
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1) * margin
    h, w = image.shape[:2]
    a, b = max(int(np.floor(x1 - side)), 0), max(int(np.floor(y1 - side)), 0)
    c, d = min(int(np.ceil(x2 + side)), w), min(int(np.ceil(y2 + side)), h)
    shift = np.array([a, b], np.float32)
    face = Face(bbox=(box - np.tile(shift, 2)).astype(np.float32), score=score, kps=(kps - shift).astype(np.float32))
    return image[b:d, a:c].copy(), face


class TrackletCollector:
    """Feed it every frame's tracked detections; it keeps each track's history and best faces."""

    def __init__(self, config: TrackletConfig | None = None) -> None:
        self.config = config or TrackletConfig()
        self.tracklets: dict[int, Tracklet] = {}

    def observe(self, index: int, time_s: float, image: np.ndarray, dets: Detections) -> None:
        for i in range(len(dets)):
            tid = int(dets.tracker_id[i])
            if tid < 0:
                continue
            tr = self.tracklets.get(tid)
            if tr is None:
                tr = self.tracklets[tid] = Tracklet(tid)
            tr.frames.append(index)
            tr.times.append(time_s)
            tr.boxes.append(dets.xyxy[i].copy())
            tr.detected.append(bool(dets.detected[i]))
            if dets.detected[i] and not np.isnan(dets.kps[i]).any():
                q = 0.0 if np.isnan(dets.quality[i]) else float(dets.quality[i])
                self._offer(tr, index, time_s, q, image, dets, i)

    def _offer(self, tr: Tracklet, index: int, t: float, q: float, image: np.ndarray, dets: Detections, i: int) -> None:
        cfg = self.config
        score = float(dets.confidence[i])
        rank = (q, score)
        near = [k for k, c in enumerate(tr.candidates) if abs(c.time_s - t) < cfg.min_gap_s]
        if any(tr.candidates[k].rank >= rank for k in near):
            return  # a better face from about the same instant is already kept
        rest = [c for k, c in enumerate(tr.candidates) if k not in near]  # best first
        if len(rest) >= cfg.keep and rest[cfg.keep - 1].rank >= rank:
            return
        crop, face = _crop(image, dets.xyxy[i], dets.kps[i], score, cfg.margin)
        rest.append(Candidate(t, index, q, score, crop, face, dets.xyxy[i].copy()))
        rest.sort(key=lambda c: c.rank, reverse=True)
        tr.candidates = rest[: cfg.keep]
