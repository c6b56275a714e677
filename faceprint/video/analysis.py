"""The per-frame loop: decode, detect (every frame or every Nth), track, and remember each track.

    analysis = FrameAnalysis(engine, AnalysisConfig(detect_every=3))
    for result in analysis.run(video):       # FrameResult per decoded frame, in order
        ...
    analysis.tracklets                       # {track_id: Tracklet}: history and best face crops

On a frame the detector skips, the tracker's predicted boxes stand in. A shot cut ends every
track and forces a detection on the cut frame, so no track runs from one shot into the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace

import numpy as np

from ..engine import FaceEngine
from ..errors import BadInput
from .detections import Detections
from .shots import CutConfig, CutDetector
from .source import FrameSource, read_ahead
from .tracker import ByteTracker, TrackerConfig
from .tracklets import TrackletCollector, TrackletConfig


@dataclass(frozen=True)
class AnalysisConfig:
    detect_every: int = 1  # run the detector on every Nth frame, track in between
    min_face: int = 0  # ignore faces narrower than this many pixels
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    cuts: CutConfig = field(default_factory=CutConfig)
    tracklets: TrackletConfig = field(default_factory=TrackletConfig)
    read_ahead: int = 8  # frames decoded ahead on a helper thread; 0: decode inline

    def __post_init__(self) -> None:
        if not 1 <= self.detect_every <= 100:
            raise BadInput(f"detect_every must be 1-100; got {self.detect_every}")
        if self.min_face < 0:
            raise BadInput(f"min_face must be 0 or more; got {self.min_face}")


@dataclass(frozen=True, eq=False)
class FrameResult:
    index: int
    time_s: float
    detections: Detections  # tracked faces (tracker_id set); predicted rows have detected=False
    detected: bool  # the detector ran on this frame
    cut: bool  # this frame starts a new shot
    image: np.ndarray | None = None  # the frame, BGR; None once the result is stored

    def without_image(self) -> FrameResult:
        return FrameResult(self.index, self.time_s, self.detections, self.detected, self.cut)


class FrameAnalysis:
    def __init__(self, engine: FaceEngine, config: AnalysisConfig | None = None) -> None:
        self.engine = engine
        self.config = config or AnalysisConfig()
        self.tracklets = TrackletCollector(self.config.tracklets)
        self.frames_detected = 0
        self.faces_detected = 0
        self.frames = 0
        self.cuts: list[int] = []  # indices of frames that start a new shot

    def run(self, video: FrameSource) -> Iterator[FrameResult]:
        cfg = self.config
        tracker = ByteTracker(self._tracker_config(video.info.fps))
        cuts = CutDetector(cfg.cuts)
        since = cfg.detect_every  # frames since the detector last ran
        frames = read_ahead(iter(video), cfg.read_ahead) if cfg.read_ahead else iter(video)
        with closing(frames):  # stops the read-ahead thread before the caller closes the video
            for frame in frames:
                cut = cuts(frame.image)
                if cut:
                    tracker.reset()
                    self.cuts.append(frame.index)
                self.frames += 1
                detect = cut or since >= cfg.detect_every
                if detect:
                    dets = tracker.update(self._detect(frame.image), frame.time_s)
                    since = 1
                else:
                    dets = tracker.predict(frame.time_s)
                    since += 1
                self.tracklets.observe(frame.index, frame.time_s, frame.image, dets)
                yield FrameResult(frame.index, frame.time_s, dets, detect, cut, frame.image)

    def _tracker_config(self, fps: float) -> TrackerConfig:
        """The pack's measured detector threshold is the tracker's high score unless set."""
        t = self.config.tracker
        high = t.high_score if t.high_score is not None else self.engine.pack.det_threshold
        new = t.new_track_score if t.new_track_score is not None else high + 0.05
        return replace(t, high_score=high, new_track_score=new, frame_rate=fps or t.frame_rate)

    def _detect(self, image: np.ndarray) -> Detections:
        faces = self.engine.detect(image, gate=False)  # the gate is for stills: it would cut turning heads' tracks
        if self.config.min_face:
            faces = [f for f in faces if f.width >= self.config.min_face]
        self.frames_detected += 1
        self.faces_detected += len(faces)
        return Detections.from_faces(faces)
