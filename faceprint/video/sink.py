"""VideoSink: write BGR frames to a video file with PyAV, keeping each frame's presentation time.

    with VideoSink("out.mp4", width, height, fps=info.fps) as sink:
        for frame in frames:
            sink.write(annotated, frame.time_s)

The codec follows the file's extension (a registry, :data:`CODECS`). Times are kept at
millisecond resolution, so a variable-frame-rate input stays in sync with its annotations
(AVI has no per-frame times: there a frame goes to the nearest slot of the nominal rate).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from ..errors import BadInput, VideoFormatError

_TIME_BASE = Fraction(1, 1000)


@dataclass(frozen=True)
class Codec:
    name: str  # FFmpeg encoder
    pix_fmt: str
    options: dict[str, str] = field(default_factory=dict)
    vfr: bool = True  # the container keeps per-frame times; False: constant rate (AVI)


# x264 "ultrafast": an annotated copy is for review; it costs 2 ms a 640x360 frame instead of 8 ("veryfast"),
# for files about 2.5 times larger.
CODECS: dict[str, Codec] = {
    ".mp4": Codec("libx264", "yuv420p", {"preset": "ultrafast", "crf": "23"}),
    ".mov": Codec("libx264", "yuv420p", {"preset": "ultrafast", "crf": "23"}),
    ".mkv": Codec("libx264", "yuv420p", {"preset": "ultrafast", "crf": "23"}),
    ".webm": Codec("libvpx-vp9", "yuv420p", {"deadline": "realtime", "cpu-used": "8", "crf": "32", "b": "0"}),
    ".avi": Codec("mjpeg", "yuvj420p", {"q:v": "4"}, vfr=False),
}


def codec_for(path: str | os.PathLike[str]) -> Codec:
    """The registered codec for a file name; an unknown extension is a clear error up front."""
    suffix = Path(path).suffix.lower()
    if suffix not in CODECS:
        raise VideoFormatError(f"cannot write {suffix or 'extension-less'} files; use one of {', '.join(CODECS)}")
    return CODECS[suffix]


class VideoSink:
    def __init__(self, path: str | os.PathLike[str], width: int, height: int, fps: float = 30.0, codec: Codec | None = None) -> None:
        self.path = Path(path)
        self.codec = codec or codec_for(self.path)
        if width < 2 or height < 2:
            raise BadInput(f"frame size {width}x{height} is too small to encode")
        # 4:2:0 chroma needs even sizes: an odd last row or column is dropped
        self.width, self.height = width - width % 2, height - height % 2
        self.frames = 0
        self._last_pts = -1
        self._fps = fps if fps and fps > 0 else 30.0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(str(self.path), mode="w")
        self._closed = False
        try:
            rate = Fraction(self._fps).limit_denominator(1001)
            self._stream: av.video.stream.VideoStream = self._container.add_stream(  # type: ignore[assignment]
                self.codec.name, rate=rate, options=dict(self.codec.options)
            )
            self._stream.width, self._stream.height, self._stream.pix_fmt = self.width, self.height, self.codec.pix_fmt
            self._time_base = _TIME_BASE if self.codec.vfr else 1 / rate
            self._stream.time_base = self._time_base
            self._stream.codec_context.time_base = self._time_base
        except BaseException:
            self._container.close()
            raise

    def write(self, image: np.ndarray, time_s: float | None = None) -> None:
        """One BGR frame at ``time_s`` (default: the next frame at the nominal rate)."""
        if image.ndim != 3 or image.shape[2] != 3:
            raise BadInput(f"expected an (H, W, 3) BGR frame; got shape {image.shape}")
        img = image[: self.height, : self.width]
        if img.shape[:2] != (self.height, self.width):
            raise BadInput(f"frame is {image.shape[1]}x{image.shape[0]}; this sink writes {self.width}x{self.height}")
        t = time_s if time_s is not None else self.frames / self._fps
        pts = max(round(t / self._time_base), self._last_pts + 1)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")
        frame.pts, frame.time_base = pts, self._time_base
        self._last_pts = pts
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()

    def __enter__(self) -> VideoSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
