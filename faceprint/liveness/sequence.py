"""A short clip or a list of timestamped frames, checked and held as BGR arrays.

    seq = FrameSequence.from_video("clip.mp4")
    seq = FrameSequence.from_images([img0, img1, ...], times=[0.0, 0.066, ...])

Limits are enforced while reading (a 2-hour upload is refused at frame ``max_frames`` + 1, not
decoded whole). Timestamps are kept exactly as given: gaps, repeats and reversals are for the
verifier to judge and report as reason codes, not for the reader to paper over.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..image import ImageInput, ImageLimits, load_image
from .errors import InvalidFrameSequence

if TYPE_CHECKING:
    from ..video.isolated import WorkerLimits


@dataclass(frozen=True)
class SequenceLimits:
    max_frames: int = 300  # 10 s at 30 fps
    max_duration_s: float = 20.0
    max_side: int = 1920  # frames larger than this on their longer side are refused
    min_frames: int = 2
    worker: WorkerLimits | None = None  # decode clips in a worker process with these limits (the server does)


DEFAULT_SEQUENCE_LIMITS = SequenceLimits()


@dataclass(frozen=True, eq=False)
class FrameSequence:
    images: tuple[np.ndarray, ...]  # (H, W, 3) uint8 BGR
    times: np.ndarray  # (N,) float64 seconds, as given

    def __len__(self) -> int:
        return len(self.images)

    @property
    def duration_s(self) -> float:
        return float(self.times[-1] - self.times[0]) if len(self.times) else 0.0

    def slice(self, start: int, stop: int) -> FrameSequence:
        return FrameSequence(self.images[start:stop], self.times[start:stop] - self.times[start])

    @classmethod
    def from_images(
        cls,
        images: Sequence[ImageInput],
        times: Sequence[float] | None = None,
        *,
        fps: float | None = None,
        limits: SequenceLimits = DEFAULT_SEQUENCE_LIMITS,
    ) -> FrameSequence:
        """Frames with their capture times in seconds (or evenly spaced at ``fps``)."""
        n = len(images)
        if n > limits.max_frames:
            raise InvalidFrameSequence(f"{n} frames; at most {limits.max_frames}", param="frames")
        if n < limits.min_frames:
            raise InvalidFrameSequence(f"{n} frame(s); at least {limits.min_frames}", param="frames")
        if times is None:
            if fps is None or not (math.isfinite(fps) and fps > 0):
                raise InvalidFrameSequence("give each frame's timestamp, or a frame rate", param="timestamps")
            t = np.arange(n, dtype=np.float64) / fps
        else:
            try:
                t = np.asarray([float(x) for x in times], dtype=np.float64)
            except (TypeError, ValueError):
                raise InvalidFrameSequence("timestamps must be numbers (seconds)", param="timestamps") from None
            if t.shape != (n,):
                raise InvalidFrameSequence(f"{len(t)} timestamps for {n} frames", param="timestamps")
            if not np.all(np.isfinite(t)):
                raise InvalidFrameSequence("timestamps must be finite", param="timestamps")
        if float(t.max() - t.min()) > limits.max_duration_s:
            raise InvalidFrameSequence(f"the frames span more than {limits.max_duration_s:g} s", param="timestamps")
        img_limits = ImageLimits(max_side=limits.max_side)
        imgs = tuple(load_image(im, img_limits) for im in images)
        return cls(imgs, t)

    @classmethod
    def from_video(cls, path: str | os.PathLike[str], *, limits: SequenceLimits = DEFAULT_SEQUENCE_LIMITS) -> FrameSequence:
        """Decode a clip through :mod:`faceprint.video.source`; bad files raise its VideoError codes."""
        from ..video.source import SourceConfig, open_video

        config = SourceConfig(max_pixels=limits.max_side * limits.max_side, max_duration_s=limits.max_duration_s,
                              worker=limits.worker)  # fmt: skip
        images: list[np.ndarray] = []
        times: list[float] = []
        with open_video(path, config) as video:
            if max(video.info.width, video.info.height) > limits.max_side:
                raise InvalidFrameSequence(f"frames of {video.info.width}x{video.info.height}; the longer side may be"
                                           f" at most {limits.max_side}", param="video")  # fmt: skip
            for frame in video:
                if len(images) >= limits.max_frames:
                    raise InvalidFrameSequence(f"the clip has more than {limits.max_frames} frames", param="video")
                images.append(frame.image)
                times.append(frame.time_s)
        if len(images) < limits.min_frames:
            raise InvalidFrameSequence(f"the clip has {len(images)} frame(s); at least {limits.min_frames}", param="video")
        t = np.asarray(times, dtype=np.float64)
        if float(t.max() - t.min()) > limits.max_duration_s:
            raise InvalidFrameSequence(f"the clip lasts more than {limits.max_duration_s:g} s", param="video")
        return cls(tuple(images), t)
