"""Find and identify enrolled people in a video: decode, detect, track, identify per track, report.

    from faceprint.video import process_video, VideoOptions
    with GalleryService() as svc:
        result = process_video("clip.mp4", svc.gallery("staff"), VideoOptions.every(3), out="annotated.mp4")
    for s in result.subjects:
        print(s.label, [(g.start_s, g.end_s) for g in s.segments])
    result.write_json("timeline.json"); result.write_csv("timeline.csv")

``iter_frames`` is the streaming form: one :class:`FrameResult` per decoded frame, with tracked
boxes and the frame itself, and no identities (those need the whole video).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..engine import EngineConfig, FaceEngine
from .analysis import AnalysisConfig, FrameAnalysis, FrameResult
from .annotate import annotate
from .identify import Identification, IdentifyConfig, Searcher, identify
from .sink import VideoSink, codec_for
from .source import SourceConfig, VideoInfo, open_video, read_ahead
from .timeline import SubjectTimeline, build_timeline, write_csv, write_json

Progress = Callable[[str, int, int | None], None]  # (stage, frames done, frames expected or None)


@dataclass(frozen=True)
class VideoOptions:
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    identify: IdentifyConfig = field(default_factory=IdentifyConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    segment_gap_s: float = 0.5  # a subject's appearances closer than this form one segment
    keep_frames: bool = True  # keep every frame's tracked boxes in the result (per-frame output)

    @classmethod
    def every(cls, n: int, min_face: int = 0) -> VideoOptions:
        return cls(analysis=AnalysisConfig(detect_every=n, min_face=min_face))


@dataclass(frozen=True)
class VideoStats:
    frames: int
    frames_detected: int  # frames the detector ran on
    faces_detected: int
    faces_embedded: int
    tracks: int
    seconds: float  # wall time of decoding, detection, tracking and identification
    truncated: bool  # the file ended early and SourceConfig.allow_truncated let it pass

    @property
    def embeddings_per_frame(self) -> float:
        return self.faces_embedded / max(self.frames, 1)

    def to_dict(self) -> dict[str, object]:
        return {**{k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(self).items()},
                "embeddings_per_frame": round(self.embeddings_per_frame, 4)}  # fmt: skip


@dataclass(frozen=True, eq=False)
class VideoResult:
    info: VideoInfo
    subjects: tuple[SubjectTimeline, ...]
    identification: Identification
    frames: tuple[FrameResult, ...]  # without images; empty unless ``keep_frames``
    stats: VideoStats
    options: VideoOptions

    @property
    def realtime_factor(self) -> float:
        """Media seconds processed per wall second."""
        return (self.info.duration_s or 0.0) / max(self.stats.seconds, 1e-9)

    def subject(self, label: str) -> SubjectTimeline | None:
        return next((s for s in self.subjects if s.label == label), None)

    def track_label(self, track_id: int) -> tuple[str, bool, float] | None:
        """(label, known, confidence) of a track, None for a track dropped as noise."""
        pid = self.identification.track_person.get(track_id)
        if pid is None:
            return None
        p = self.identification.person(pid)
        return p.label, p.known, self.identification.track_confidence.get(track_id, p.confidence)

    def overlay_label(self, track_id: int) -> str | None:
        """What the annotated video writes by a face: "#<track id> <label> [confidence]".

        The number is the track id, as in the CLI table's "tracks" column and the CSV's and
        JSON's ``track_ids``, so a box in the video can be found in the timeline.
        """
        lab = self.track_label(track_id)
        return None if lab is None else f"#{track_id} {lab[0]}" + (f" {lab[2]:.0f}" if lab[1] else "")

    def to_dict(self, *, per_frame: bool = False, thumbnails: bool = True) -> dict[str, object]:
        ident = self.identification
        out: dict[str, object] = {
            "video": self.info.to_dict(),
            "settings": {"detect_every": self.options.analysis.detect_every, "min_face": self.options.analysis.min_face,
                         "far": self.options.identify.far, "threshold": round(ident.threshold, 3)},
            "stats": self.stats.to_dict(),
            "subjects": [s.to_dict(thumbnail=thumbnails) for s in self.subjects],
            "persons": [{"person_id": p.person_id, "label": p.label, "confidence": round(p.confidence, 2),
                         "track_ids": list(p.track_ids)} for p in ident.persons],
        }  # fmt: skip
        if per_frame:
            out["frames"] = [self._frame_dict(f) for f in self.frames]
        return out

    def _frame_dict(self, f: FrameResult) -> dict[str, object]:
        faces = f.detections.to_list()
        for row in faces:
            lab = self.track_label(int(row["track_id"]))  # type: ignore[call-overload]
            row["person_id"] = self.identification.track_person.get(int(row["track_id"]))  # type: ignore[call-overload]
            row["label"] = lab[0] if lab else None
        return {"index": f.index, "time_s": round(f.time_s, 4), "detected": f.detected, "cut": f.cut, "faces": faces}

    def write_json(self, path: str | os.PathLike[str], *, per_frame: bool = False) -> None:
        write_json(path, self.to_dict(per_frame=per_frame))

    def write_csv(self, path: str | os.PathLike[str], thumbnails: str | os.PathLike[str] | None = None) -> None:
        write_csv(path, self.subjects, thumbnails)


def video_engine(pack: str | None = None, options: VideoOptions | None = None) -> FaceEngine:
    """An engine whose detector also reports the low-score faces the tracker's second stage uses."""
    opts = options or VideoOptions()
    return FaceEngine(pack, EngineConfig(pack=pack, det_threshold=opts.analysis.tracker.low_score))


def iter_frames(
    path: str | os.PathLike[str], engine: FaceEngine | None = None, options: VideoOptions | None = None
) -> Iterator[FrameResult]:
    """Per-frame tracked faces of a video, streamed; ``FrameResult.image`` holds the frame."""
    opts = options or VideoOptions()
    analysis = FrameAnalysis(engine or video_engine(None, opts), opts.analysis)
    with open_video(path, opts.source) as video:
        yield from analysis.run(video)


def process_video(
    path: str | os.PathLike[str],
    gallery: Searcher | None = None,
    options: VideoOptions | None = None,
    *,
    engine: FaceEngine | None = None,
    out: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> VideoResult:
    """The whole file: timeline of who appears when, and an annotated copy at ``out`` if given."""
    opts = options or VideoOptions()
    if out is not None:
        codec_for(out)  # an output we cannot write fails now, not after the whole video
        opts = replace(opts, keep_frames=True)
    engine = engine or video_engine(None, opts)
    analysis = FrameAnalysis(engine, opts.analysis)
    t0 = time.perf_counter()
    frames: list[FrameResult] = []
    with open_video(path, opts.source) as video:
        total = video.info.frame_count
        for r in analysis.run(video):
            if opts.keep_frames:
                frames.append(r.without_image())
            if progress is not None:
                progress("analysing", r.index + 1, total)
        info, truncated = video.info, video.truncated
    tracklets = analysis.tracklets.tracklets
    ident = identify(engine, list(tracklets.values()), gallery, analysis.cuts, opts.identify)
    frame_s = 1.0 / info.fps if info.fps else 0.0
    subjects = build_timeline(tracklets, ident, frame_s, opts.segment_gap_s)
    stats = VideoStats(analysis.frames, analysis.frames_detected, analysis.faces_detected, ident.embeddings,
                       len(tracklets), time.perf_counter() - t0, truncated)  # fmt: skip
    result = VideoResult(info, subjects, ident, tuple(frames), stats, opts)
    if out is not None:
        write_annotated(path, result, out, progress)
    return result


def write_annotated(
    path: str | os.PathLike[str], result: VideoResult, out: str | os.PathLike[str], progress: Progress | None = None
) -> Path:
    """Decode the video again and draw each frame's tracked faces with their final names."""
    by_index = {f.index: f for f in result.frames}
    source = replace(result.options.source, allow_truncated=True)
    with (
        open_video(path, source) as video,
        VideoSink(out, video.info.width, video.info.height, video.info.fps) as sink,
        closing(read_ahead(iter(video))) as frames,  # the decode thread stops before the file closes
    ):
        for frame in frames:
            fr = by_index.get(frame.index)
            img = frame.image
            if fr is not None and len(fr.detections):
                labels, known = [], []
                for tid in fr.detections.tracker_id:
                    lab = result.track_label(int(tid))
                    labels.append(result.overlay_label(int(tid)))
                    known.append(bool(lab and lab[1]))
                img = annotate(img, fr.detections, labels, known)
            sink.write(img, frame.time_s)
            if progress is not None:
                progress("writing", frame.index + 1, video.info.frame_count)
    return Path(out)
