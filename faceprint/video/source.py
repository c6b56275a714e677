"""Frames from a video file through PyAV (FFmpeg): BGR arrays, presentation time, rotation applied.

    with open_video("clip.mp4") as video:
        print(video.info.duration_s, video.info.fps)
        for frame in video:                 # Frame(index, time_s, image)
            ...

Time is the frame's presentation timestamp minus the stream's start, in seconds, so a variable
frame rate keeps true times. A display matrix (phones record portrait video as rotated
landscape) is applied, so ``image`` is what a player shows. Bad files raise a
:class:`~faceprint.errors.VideoError` with a stable code, never an FFmpeg traceback.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Self

import av
import av.error
import numpy as np

from ..errors import (
    NoVideoStream,
    UnsupportedCodec,
    VideoCorrupt,
    VideoEmpty,
    VideoFormatError,
    VideoTooLarge,
    VideoTruncated,
)

if TYPE_CHECKING:
    from .isolated import WorkerLimits

# Decoders we accept. Others may work in FFmpeg, but every decoder is attack surface on a server
# that takes uploads, so the list is explicit and extended on purpose.
SUPPORTED_CODECS = frozenset(
    {"h264", "hevc", "vp8", "vp9", "av1", "mjpeg", "mpeg4", "mpeg2video", "mpeg1video", "prores", "theora", "h263"}
)

# First bytes of the containers we know. A file that starts like one of them but cannot be read
# is a damaged or truncated video; anything else is not a video at all.
_SIGNATURES: tuple[tuple[int, bytes], ...] = (
    (4, b"ftyp"), (4, b"moov"), (4, b"mdat"), (4, b"free"), (4, b"wide"), (4, b"skip"),  # MP4 / MOV
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska / WebM
    (0, b"RIFF"),  # AVI
    (0, b"OggS"), (0, b"FLV"), (0, b"\x00\x00\x01\xba"),  # Ogg, FLV, MPEG-PS
)  # fmt: skip

# FFmpeg opens single images too (JPEG, PNG...): as a "video" of one frame. We refuse them.
_IMAGE_DEMUXERS = frozenset({"image2", "gif", "webp", "apng"})


@dataclass(frozen=True)
class SourceConfig:
    codecs: frozenset[str] = SUPPORTED_CODECS
    max_pixels: int = 3840 * 2160  # per frame, after rotation
    max_duration_s: float | None = None  # None: no limit
    allow_truncated: bool = False  # True: a file that ends early yields what it holds, no error
    threads: bool = True  # let FFmpeg decode with frame threads
    worker: WorkerLimits | None = None  # decode in a separate process with these limits (faceprint.video.isolated)


@dataclass(frozen=True)
class VideoInfo:
    path: str
    container: str  # FFmpeg demuxer name(s), e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    codec: str
    width: int  # as displayed, after rotation
    height: int
    rotation: int  # degrees counter-clockwise applied to decoded frames
    fps: float  # average rate; 0 when unknown (times still come from timestamps)
    duration_s: float | None
    frame_count: int | None  # from the header, when it says

    def to_dict(self) -> dict[str, object]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in vars(self).items()}


@dataclass(frozen=True, eq=False)
class Frame:
    index: int  # 0-based decode order
    time_s: float  # presentation time from the stream start
    image: np.ndarray  # (H, W, 3) uint8 BGR, rotation applied


def _sniff(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(16)


def _known_container(head: bytes) -> bool:
    return any(head[off : off + len(sig)] == sig for off, sig in _SIGNATURES)


class VideoSource:
    """An open video. Iterate once for frames; use as a context manager to close the file."""

    def __init__(self, path: str | os.PathLike[str], config: SourceConfig | None = None) -> None:
        self.path = Path(path)
        self.config = config or SourceConfig()
        self.truncated = False  # set when the file ended early and ``allow_truncated`` let it pass
        self.frames_read = 0
        self._rotation = 0  # degrees, from the first frame's display matrix
        # Demuxing and decoding hold this lock; close() takes it, so the container is never freed
        # under a read-ahead thread still inside FFmpeg (that was a SIGSEGV in libavformat).
        self._lock = threading.Lock()
        self._closed = False
        self._container = self._open()
        try:
            self._stream = self._video_stream()
            self._packets = self._container.demux(self._stream)
            self._iter = self._decoded()
            self._pending: list[Frame] = []
            first = self._next_decoded()
            if first is None:
                raise VideoTruncated("the video stream holds no decodable frame", path=str(self.path))
            self._pending.append(first)
            self.info = self._make_info(first)
        except BaseException:
            self.close()
            raise

    # -- opening -------------------------------------------------------------------------------
    def _open(self) -> av.container.InputContainer:
        try:
            head = _sniff(self.path)
        except FileNotFoundError:
            raise VideoFormatError(f"no such file: {self.path}", path=str(self.path)) from None
        except (IsADirectoryError, PermissionError) as exc:
            raise VideoFormatError(f"cannot read {self.path}: {exc.strerror}", path=str(self.path)) from None
        if not head:
            raise VideoEmpty("the file is empty (0 bytes)", path=str(self.path))
        try:
            container = av.open(str(self.path), mode="r", metadata_errors="ignore")
        except av.error.FFmpegError:
            if _known_container(head):
                raise VideoTruncated("the video file ends early or is damaged: its index cannot be read",
                                     path=str(self.path)) from None  # fmt: skip
            raise VideoFormatError("not a video file FFmpeg can read", path=str(self.path)) from None
        demuxer = container.format.name
        if demuxer in _IMAGE_DEMUXERS or demuxer.endswith("_pipe"):
            container.close()
            raise VideoFormatError(f"this is a still image ({demuxer.removesuffix('_pipe')}), not a video", path=str(self.path))
        return container

    def _video_stream(self) -> av.video.stream.VideoStream:
        streams = self._container.streams.video
        if not streams:
            kinds: list[str] = sorted({str(s.type) for s in self._container.streams}) or ["none"]
            raise NoVideoStream(f"the file holds no video stream (streams: {', '.join(kinds)})", path=str(self.path))
        stream = streams[0]
        ctx = stream.codec_context
        name = ctx.name if ctx is not None else None
        if name is None or name not in self.config.codecs:
            tag = name or "unknown (no decoder in this FFmpeg build)"
            raise UnsupportedCodec(f"video codec {tag!r} is not supported", codec=str(tag), path=str(self.path))
        self._check_declared(ctx.width, ctx.height)
        ctx.options = {**ctx.options, "max_pixels": str(self.config.max_pixels)}  # FFmpeg refuses bigger frames later on
        if self.config.threads:
            stream.thread_type = "AUTO"
        return stream

    def _check_declared(self, width: int, height: int) -> None:
        """Refuse from the header, before a frame is decoded: a 16000x16000 MJPEG frame costs ~1 GB."""
        if width * height > self.config.max_pixels:
            raise VideoTooLarge(f"the header declares frames of {width}x{height}; the limit is {self.config.max_pixels} pixels",
                                path=str(self.path))  # fmt: skip

    def _make_info(self, first: Frame) -> VideoInfo:
        s = self._stream
        h, w = first.image.shape[:2]
        if w * h > self.config.max_pixels:
            raise VideoTooLarge(f"frames of {w}x{h} are over the limit of {self.config.max_pixels} pixels")
        duration = self._stream_duration()
        cap = self.config.max_duration_s
        if cap is not None and duration is not None and duration > cap:
            raise VideoTooLarge(f"the video lasts {duration:.1f} s; the limit is {cap:.1f} s")
        rate = s.average_rate or s.guessed_rate
        return VideoInfo(
            path=str(self.path), container=self._container.format.name, codec=s.codec_context.name,
            width=w, height=h, rotation=self._rotation, fps=float(rate) if rate else 0.0,
            duration_s=duration, frame_count=s.frames or None,
        )  # fmt: skip

    def _stream_duration(self) -> float | None:
        s = self._stream
        if s.duration is not None and s.time_base is not None:
            return float(s.duration * s.time_base)
        if self._container.duration is not None and len(self._container.streams) == 1:
            return self._container.duration / av.time_base
        return None

    # -- decoding ------------------------------------------------------------------------------
    def _convert(self, frame: av.VideoFrame) -> np.ndarray:
        img = frame.to_ndarray(format="bgr24")
        rot = round((frame.rotation or 0) / 90.0) % 4
        self._rotation = rot * 90
        return np.ascontiguousarray(np.rot90(img, k=rot)) if rot else img

    def _time(self, frame: av.VideoFrame) -> float:
        s = self._stream
        pts = frame.pts if frame.pts is not None else frame.dts
        if pts is None or s.time_base is None:
            rate = s.average_rate or Fraction(30)
            return self.frames_read / float(rate)
        return float((pts - (s.start_time or 0)) * s.time_base)

    def _decoded(self) -> Iterator[av.VideoFrame]:
        bad = 0
        try:
            for packet in self._packets:
                try:
                    yield from packet.decode()
                except av.error.InvalidDataError:
                    bad += 1  # one damaged packet: FFmpeg conceals it; many means a broken file
                    if bad > 25:
                        raise VideoCorrupt("too many undecodable packets", path=str(self.path)) from None
        except av.error.FFmpegError as exc:
            self._ended_early(f"demuxing failed: {exc.strerror or exc}")

    def _next_decoded(self) -> Frame | None:
        with self._lock:
            if self._closed:
                return None
            try:
                frame = next(self._iter)
            except StopIteration:
                return None
            except av.error.FFmpegError as exc:
                self._ended_early(f"decoding failed: {exc.strerror or exc}")
                return None
            out = Frame(self.frames_read, self._time(frame), self._convert(frame))
        self.frames_read += 1
        return out

    def _ended_early(self, why: str) -> None:
        if not self.config.allow_truncated:
            raise VideoTruncated(f"the video ends early or is damaged after {self.frames_read} frames ({why})",
                                 path=str(self.path), frames_read=self.frames_read)  # fmt: skip
        self.truncated = True

    def _check_complete(self, last: Frame | None) -> None:
        """A file cut short often decodes without an error: compare with what its header promised."""
        info = self.info
        step = 1.0 / info.fps if info.fps else 0.0
        end = last.time_s + step if last is not None else 0.0
        promised = [info.duration_s or 0.0]
        if info.frame_count and info.fps:
            promised.append(info.frame_count / info.fps)  # AVI: its index may be gone, its header is not
        if end < max(promised) * 0.95 - 0.25:
            self._ended_early(f"{self.frames_read} frames up to {end:.2f} s of {max(promised):.2f} s")

    def __iter__(self) -> Generator[Frame, None, None]:
        last = None
        while self._pending:
            last = self._pending.pop()
            yield last
            nxt = self._next_decoded()
            if nxt is not None:
                self._pending.append(nxt)
        self._check_complete(last)

    # -- lifetime ------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop demuxing first (waiting for a decode step in flight on another thread), then free FFmpeg's state."""
        self._closed = True
        with self._lock:
            iterator = getattr(self, "_iter", None)
            if iterator is not None:
                iterator.close()
            self._container.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Done:
    pass


def read_ahead(frames: Iterator[Frame], depth: int = 8) -> Generator[Frame, None, None]:
    """Decode on a helper thread while the caller works on earlier frames (FFmpeg drops the GIL).

    Errors raised while decoding reach the caller at the frame where they happened. Closing the
    returned generator early stops the thread.
    """
    q: queue.Queue[Frame | BaseException | _Done] = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()

    def put(item: Frame | BaseException | _Done) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for f in frames:
                if not put(f):
                    return
            put(_Done())
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread, which raises it
            put(exc)

    thread = threading.Thread(target=work, name="faceprint-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if isinstance(item, _Done):
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


class FrameSource(Protocol):
    """An open video, decoded here (:class:`VideoSource`) or in a worker process (``IsolatedVideo``)."""

    info: VideoInfo
    truncated: bool
    frames_read: int

    def __iter__(self) -> Generator[Frame, None, None]: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...


def open_video(path: str | os.PathLike[str], config: SourceConfig | None = None) -> FrameSource:
    """Open and check a video: raises a VideoError code for anything we cannot decode.

    With ``config.worker`` set, FFmpeg runs in a process of its own (see :mod:`faceprint.video.isolated`).
    """
    if config is not None and config.worker is not None:
        from .isolated import IsolatedVideo

        return IsolatedVideo(path, config, config.worker)
    return VideoSource(path, config)


def read_frames(path: str | os.PathLike[str], config: SourceConfig | None = None) -> Iterator[Frame]:
    """Every frame of a video, in order: the frame generator."""
    with open_video(path, config) as video:
        yield from video
