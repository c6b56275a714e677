"""When each person is on screen: segments per subject, written as JSON or CSV.

A track is present from its first to its last frame. A subject's tracks are joined into
segments ``[start_s, end_s)`` wherever they are less than ``gap_s`` apart; each segment keeps
the best confidence among its tracks and their ids. Unknown people are ``unknown-N``.
"""

from __future__ import annotations

import base64
import csv
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .identify import Identification
from .tracklets import Tracklet

CSV_COLUMNS = ("label", "known", "start_s", "end_s", "confidence", "track_ids", "thumbnail")


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    confidence: float  # 0-100, the best of its tracks
    track_ids: tuple[int, ...]

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, object]:
        return {"start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3),
                "confidence": round(self.confidence, 2), "track_ids": list(self.track_ids)}  # fmt: skip


@dataclass(frozen=True, eq=False)
class SubjectTimeline:
    label: str  # subject name or "unknown-N"
    subject: str | None  # None: not enrolled
    confidence: float  # best segment confidence
    person_ids: tuple[int, ...]
    track_ids: tuple[int, ...]
    segments: tuple[Segment, ...]
    thumbnail: np.ndarray  # BGR, best face

    @property
    def known(self) -> bool:
        return self.subject is not None

    @property
    def seconds(self) -> float:
        return sum(s.duration_s for s in self.segments)

    def thumbnail_jpeg(self) -> bytes:
        ok, buf = cv2.imencode(".jpg", self.thumbnail, [cv2.IMWRITE_JPEG_QUALITY, 90])
        return buf.tobytes() if ok else b""

    def to_dict(self, *, thumbnail: bool = True) -> dict[str, object]:
        out: dict[str, object] = {
            "label": self.label,
            "known": self.known,
            "confidence": round(self.confidence, 2),
            "seconds": round(self.seconds, 3),
            "person_ids": list(self.person_ids),
            "track_ids": list(self.track_ids),
            "segments": [s.to_dict() for s in self.segments],
        }
        if thumbnail:
            out["thumbnail_jpeg_base64"] = base64.b64encode(self.thumbnail_jpeg()).decode("ascii")
        return out


def build_timeline(
    tracklets: dict[int, Tracklet], ident: Identification, frame_s: float, gap_s: float = 0.5
) -> tuple[SubjectTimeline, ...]:
    """Subjects in order of first appearance; ``frame_s`` is one frame's duration (ends are exclusive)."""
    by_label: dict[str, list[int]] = {}
    for p in ident.persons:
        by_label.setdefault(p.label, []).append(p.person_id)
    out = []
    for label, pids in by_label.items():
        persons = [ident.person(pid) for pid in pids]
        spans = sorted(
            (tracklets[tid].start_s, tracklets[tid].end_s + frame_s, ident.track_confidence.get(tid, 0.0), tid)
            for p in persons
            for tid in p.track_ids
        )
        segments: list[Segment] = []
        for start, end, conf, tid in spans:
            if segments and start - segments[-1].end_s <= gap_s:
                last = segments[-1]
                segments[-1] = Segment(last.start_s, max(last.end_s, end), max(last.confidence, conf), (*last.track_ids, tid))
            else:
                segments.append(Segment(start, end, conf, (tid,)))
        best = max(persons, key=lambda p: p.confidence)
        out.append(SubjectTimeline(
            label=label, subject=persons[0].subject, confidence=max(s.confidence for s in segments),
            person_ids=tuple(pids), track_ids=tuple(sorted(t for p in persons for t in p.track_ids)),
            segments=tuple(segments), thumbnail=best.thumbnail,
        ))  # fmt: skip
    out.sort(key=lambda s: s.segments[0].start_s)
    return tuple(out)


def write_json(path: str | os.PathLike[str], payload: dict[str, object]) -> None:
    Path(path).write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_csv(path: str | os.PathLike[str], subjects: Sequence[SubjectTimeline], thumbnails: str | os.PathLike[str] | None = None) -> None:
    """One row per segment. With ``thumbnails`` (a folder), each subject's face is saved there as JPEG."""
    thumb_dir = Path(thumbnails) if thumbnails is not None else None
    if thumb_dir is not None:
        thumb_dir.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for s in subjects:
            thumb = ""
            if thumb_dir is not None:
                name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in s.label) + ".jpg"
                (thumb_dir / name).write_bytes(s.thumbnail_jpeg())
                thumb = str(thumb_dir / name)
            for seg in s.segments:
                w.writerow([s.label, int(s.known), f"{seg.start_s:.3f}", f"{seg.end_s:.3f}", f"{seg.confidence:.2f}",
                            " ".join(str(t) for t in seg.track_ids), thumb])  # fmt: skip


def read_csv(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
