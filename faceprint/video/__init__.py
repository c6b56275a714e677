"""Video: find and identify enrolled people in footage.

Decode (PyAV) -> detect every frame or every Nth -> track (ByteTrack-style) -> pick each
track's best faces -> one template per track -> people -> gallery search -> timeline and an
annotated copy. See :func:`process_video` and :func:`iter_frames`.
"""

from .analysis import AnalysisConfig, FrameResult
from .detections import Detections
from .identify import Identification, IdentifyConfig, Person
from .pipeline import VideoOptions, VideoResult, VideoStats, iter_frames, process_video, video_engine, write_annotated
from .shots import CutConfig
from .sink import VideoSink
from .source import Frame, SourceConfig, VideoInfo, VideoSource, open_video, read_frames
from .timeline import Segment, SubjectTimeline
from .tracker import ByteTracker, TrackerConfig
from .tracklets import TrackletConfig

__all__ = [
    "AnalysisConfig", "ByteTracker", "CutConfig", "Detections", "Frame", "FrameResult", "Identification",
    "IdentifyConfig", "Person", "Segment", "SourceConfig", "SubjectTimeline", "TrackerConfig", "TrackletConfig",
    "VideoInfo", "VideoOptions", "VideoResult", "VideoSink", "VideoSource", "VideoStats", "iter_frames",
    "open_video", "process_video", "read_frames", "video_engine", "write_annotated",
]  # fmt: skip
