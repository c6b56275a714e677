"""Decoding in a separate process, so a decoder crash or runaway allocation ends one job, not the server.

    config = SourceConfig(worker=WorkerLimits(memory_mb=1536, timeout_s=600))
    with open_video("upload.mp4", config) as video:    # an IsolatedVideo: same API as VideoSource
        for frame in video:
            ...

Each video gets its own process (:mod:`faceprint.video.worker`) with an address-space limit
(RLIMIT_AS, ``memory_mb``) and a wall-clock limit (``timeout_s``; ``stall_s`` for one frame).
Frames come back over a pipe. What the worker refuses keeps its own code (VIDEO_ERROR_TRUNCATED...);
a worker that dies (SIGSEGV in FFmpeg, killed) is ``VIDEO_ERROR_WORKER_CRASHED``, one over its
memory limit ``VIDEO_ERROR_WORKER_OUT_OF_MEMORY``, one past its time ``VIDEO_ERROR_TIMEOUT``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np

from ..errors import (
    VideoCorrupt,
    VideoError,
    VideoWorkerCrashed,
    VideoWorkerOutOfMemory,
    VideoWorkerTimeout,
)
from .source import Frame, SourceConfig, VideoInfo
from .worker import BOOTSTRAP, FRAME_HEAD, MESSAGE_HEAD

log = logging.getLogger("faceprint.video")

PACKAGE_DIR = Path(__file__).resolve().parents[1]
# What a worker that ran out of address space leaves on stderr (in Python, in FFmpeg, in the loader).
OUT_OF_MEMORY = ("MemoryError", "Cannot allocate memory", "failed to map segment")
MAX_MESSAGE = 1 << 20  # a JSON message (info, error) is small; anything bigger is a broken worker


def _codes() -> dict[str, type[VideoError]]:
    """Every video error by its code: what the worker reports, the parent raises."""
    out: dict[str, type[VideoError]] = {}
    todo: list[type[VideoError]] = [VideoError]
    while todo:
        cls = todo.pop()
        out[cls.code] = cls
        todo.extend(cls.__subclasses__())
    return out


@dataclass(frozen=True)
class WorkerLimits:
    memory_mb: int = 2048  # RLIMIT_AS of the decoding process (address space, not RSS)
    timeout_s: float = 1800.0  # the whole decode of one file, wall clock
    stall_s: float = 60.0  # the longest wait for one frame

    @classmethod
    def from_env(cls) -> WorkerLimits:
        d = cls()
        mem = os.environ.get("FACEPRINT_VIDEO_WORKER_MEMORY_MB")
        wall = os.environ.get("FACEPRINT_VIDEO_WORKER_TIMEOUT_S")
        return cls(
            int(mem) if mem else d.memory_mb,
            float(wall) if wall else d.timeout_s,
            d.stall_s,
        )


def _spec(path: Path, config: SourceConfig, limits: WorkerLimits) -> str:
    return json.dumps({
        "path": str(path), "memory_mb": limits.memory_mb,
        "config": {"codecs": sorted(config.codecs), "max_pixels": config.max_pixels, "max_duration_s": config.max_duration_s,
                   "allow_truncated": config.allow_truncated, "threads": config.threads},
    })  # fmt: skip


class IsolatedVideo:
    """A :class:`~faceprint.video.source.VideoSource` whose decoder runs in a process of its own."""

    def __init__(
        self, path: str | os.PathLike[str], config: SourceConfig, limits: WorkerLimits
    ) -> None:
        self.path = Path(path)
        self.config = config
        self.limits = limits
        self.truncated = False
        self.frames_read = 0
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - the worker's stderr, kept for the crash report; closed in close()
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        self._proc = subprocess.Popen(  # noqa: S603 - this interpreter running our own bootstrap; no shell, the path is one argument
            [sys.executable, "-c", BOOTSTRAP, str(PACKAGE_DIR), _spec(self.path, config, limits)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr, bufsize=0, close_fds=True, env=env,
        )  # fmt: skip
        if not isinstance(self._proc.stdout, io.FileIO):  # bufsize=0: raw reads, so select() sees every byte
            raise TypeError(f"the worker's stdout is {type(self._proc.stdout).__name__}, not a raw pipe")
        self._pipe = self._proc.stdout
        self._deadline = time.monotonic() + limits.timeout_s
        try:
            kind, body = self._message()
            if kind == b"E":
                raise self._refusal(body)
            if kind != b"I" or not isinstance(body, dict):
                raise self._broken("the decoder sent no video description")
            self.info = VideoInfo(**body)
        except BaseException:
            self.close()
            raise

    # -- the pipe ---------------------------------------------------------------------------------
    def _read(self, view: memoryview) -> None:
        while view:
            wait = min(self._deadline - time.monotonic(), self.limits.stall_s)
            if wait <= 0 or not select.select([self._pipe], [], [], wait)[0]:
                self._kill()
                raise VideoWorkerTimeout(f"decoding took over {self.limits.timeout_s:g} s (or {self.limits.stall_s:g} s for one frame)",
                                         path=str(self.path))  # fmt: skip
            n = self._pipe.readinto(view)
            if not n:
                raise self._ended()
            view = view[n:]

    def _message(self) -> tuple[bytes, Any]:
        head = bytearray(MESSAGE_HEAD.size)
        self._read(memoryview(head))
        kind, size = MESSAGE_HEAD.unpack(head)
        if kind == b"F":
            return kind, self._frame(size)
        if size > MAX_MESSAGE:
            raise self._broken(f"a {size}-byte message")
        body = bytearray(size)
        self._read(memoryview(body))
        try:
            return kind, json.loads(body)
        except ValueError:
            raise self._broken("an unreadable message") from None

    def _frame(self, size: int) -> Frame:
        head = bytearray(FRAME_HEAD.size)
        self._read(memoryview(head))
        index, time_s, h, w = FRAME_HEAD.unpack(head)
        if h * w > self.config.max_pixels or size != FRAME_HEAD.size + h * w * 3:
            raise self._broken(f"a frame of {w}x{h} in {size} bytes")
        pixels = np.empty((h, w, 3), np.uint8)
        self._read(pixels.data.cast("B"))
        return Frame(index, time_s, pixels)

    # -- the worker's end -------------------------------------------------------------------------
    def _ended(self) -> VideoError:
        """The pipe closed before the end message: the worker died."""
        code = self._proc.wait()
        tail = self._stderr_tail()
        if code < 0:
            name = signal.Signals(-code).name
            log.warning(
                "video decoder for %s died with %s: %s", self.path.name, name, tail
            )
            return VideoWorkerCrashed(
                f"the video decoder crashed ({name}) on this file", path=str(self.path)
            )
        if any(sign in tail for sign in OUT_OF_MEMORY):
            return VideoWorkerOutOfMemory(
                f"decoding this file needed over {self.limits.memory_mb} MB",
                path=str(self.path),
            )
        log.warning(
            "video decoder for %s exited with status %d: %s", self.path.name, code, tail
        )
        return VideoWorkerCrashed(
            f"the video decoder stopped (status {code}) on this file",
            path=str(self.path),
        )

    def _broken(self, what: str) -> VideoError:
        self._kill()
        return VideoWorkerCrashed(f"the video decoder sent {what}", path=str(self.path))

    def _refusal(self, body: Any) -> VideoError:
        code = body.get("code") if isinstance(body, dict) else None
        cls = _codes().get(str(code), VideoCorrupt)
        return cls(
            str(body.get("message", code)) if isinstance(body, dict) else "",
            path=str(self.path),
        )

    def _stderr_tail(self) -> str:
        self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(self._stderr.tell() - 2000, 0))
        return self._stderr.read().decode(errors="replace").strip()

    def _kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()

    # -- the VideoSource API ----------------------------------------------------------------------
    def __iter__(self) -> Generator[Frame, None, None]:
        while True:
            kind, body = self._message()
            if kind == b"F":
                self.frames_read += 1
                yield body
            elif kind == b"T":
                self.truncated = bool(body.get("truncated"))
                return
            elif kind == b"E":
                raise self._refusal(body)
            else:
                raise self._broken(f"an unknown message {kind!r}")

    def close(self) -> None:
        self._pipe.close()
        self._kill()
        self._stderr.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
