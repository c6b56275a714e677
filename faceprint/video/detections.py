"""Columnar face detections of one frame: one array per field, filterable with a mask.

    dets = Detections.from_faces(engine.detect(img))
    big = dets[dets.width >= 40]
    tracked = tracker.update(dets, time_s)      # the same type, tracker_id filled in

Rows with ``detected == False`` are boxes a tracker predicted on a frame the detector skipped:
they carry no keypoints (NaN) and no quality (NaN).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from ..errors import BadInput
from ..types import Face

NO_TRACK = -1


@dataclass(frozen=True, eq=False)
class Detections:
    xyxy: np.ndarray  # (N, 4) float32
    confidence: np.ndarray  # (N,) float32 detector score; for predicted rows the track's last score
    kps: np.ndarray  # (N, 5, 2) float32; NaN on predicted rows
    quality: np.ndarray  # (N,) float32 0-100; NaN on predicted rows
    tracker_id: np.ndarray  # (N,) int64; NO_TRACK until a tracker fills it
    detected: np.ndarray  # (N,) bool: True from the detector on this frame, False predicted

    def __post_init__(self) -> None:
        n = len(self.xyxy)
        want = {"xyxy": (n, 4), "confidence": (n,), "kps": (n, 5, 2), "quality": (n,), "tracker_id": (n,), "detected": (n,)}
        for f in fields(self):
            arr = getattr(self, f.name)
            if not isinstance(arr, np.ndarray) or arr.shape != want[f.name]:
                got = getattr(arr, "shape", type(arr).__name__)
                raise BadInput(f"Detections.{f.name} must have shape {want[f.name]}; got {got}")

    @classmethod
    def empty(cls) -> Detections:
        return cls.build(np.zeros((0, 4), np.float32))

    @classmethod
    def build(
        cls,
        xyxy: np.ndarray,
        confidence: np.ndarray | None = None,
        kps: np.ndarray | None = None,
        quality: np.ndarray | None = None,
        tracker_id: np.ndarray | None = None,
        detected: np.ndarray | None = None,
    ) -> Detections:
        """Columns with defaults: score 1, NaN keypoints and quality, no track, detected."""
        xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
        n = len(xyxy)
        return cls(
            xyxy=xyxy,
            confidence=np.ones(n, np.float32) if confidence is None else np.asarray(confidence, np.float32),
            kps=np.full((n, 5, 2), np.nan, np.float32) if kps is None else np.asarray(kps, np.float32),
            quality=np.full(n, np.nan, np.float32) if quality is None else np.asarray(quality, np.float32),
            tracker_id=np.full(n, NO_TRACK, np.int64) if tracker_id is None else np.asarray(tracker_id, np.int64),
            detected=np.ones(n, bool) if detected is None else np.asarray(detected, bool),
        )

    @classmethod
    def from_faces(cls, faces: Sequence[Face]) -> Detections:
        if not faces:
            return cls.empty()
        return cls.build(
            np.stack([f.bbox for f in faces]),
            np.array([f.score for f in faces]),
            np.stack([f.kps for f in faces]),
            np.array([f.quality.score if f.quality is not None else np.nan for f in faces]),
        )

    @classmethod
    def merge(cls, parts: Sequence[Detections]) -> Detections:
        if not parts:
            return cls.empty()
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: np.ndarray | slice | int | Sequence[int]) -> Detections:
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        return Detections(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def with_tracker_id(self, ids: np.ndarray) -> Detections:
        return Detections(self.xyxy, self.confidence, self.kps, self.quality, np.asarray(ids, np.int64), self.detected)

    @property
    def width(self) -> np.ndarray:
        out: np.ndarray = self.xyxy[:, 2] - self.xyxy[:, 0]
        return out

    @property
    def height(self) -> np.ndarray:
        out: np.ndarray = self.xyxy[:, 3] - self.xyxy[:, 1]
        return out

    def face(self, i: int) -> Face:
        """Row ``i`` as a Face (quality as a bare score is not kept: use ``quality[i]``)."""
        return Face(bbox=self.xyxy[i].copy(), score=float(self.confidence[i]), kps=self.kps[i].copy())

    def to_list(self) -> list[dict[str, object]]:
        out = []
        for i in range(len(self)):
            row: dict[str, object] = {
                "bbox": [round(float(v), 1) for v in self.xyxy[i]],
                "score": round(float(self.confidence[i]), 3),
                "track_id": int(self.tracker_id[i]),
                "detected": bool(self.detected[i]),
            }
            if self.detected[i] and not np.isnan(self.quality[i]):
                row["quality"] = round(float(self.quality[i]), 1)
            out.append(row)
        return out
