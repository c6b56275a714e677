"""Decoding in a worker process: the same frames and codes as in-process, and a dead worker is a code."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import psutil
import pytest

from faceprint.errors import FaceprintError
from faceprint.video import SourceConfig, open_video
from faceprint.video.isolated import IsolatedVideo, WorkerLimits


def isolated(limits: WorkerLimits | None = None, **kw) -> SourceConfig:
    return SourceConfig(worker=limits or WorkerLimits(), **kw)


def test_same_frames_and_info_as_in_process(hamilton):
    with open_video(hamilton) as here, open_video(hamilton, isolated()) as there:
        assert isinstance(there, IsolatedVideo)
        assert here.info == there.info
        for a, b in zip(here, there, strict=True):
            assert (a.index, a.time_s) == (b.index, b.time_s) and np.array_equal(a.image, b.image)
        assert there.frames_read == 275


def test_refusals_keep_their_codes(tmp_path):
    (tmp_path / "text.mp4").write_bytes(b"not a video " * 50)
    (tmp_path / "empty.mp4").write_bytes(b"")
    for name, code in (("text.mp4", "VIDEO_ERROR_UNSUPPORTED_FORMAT"), ("empty.mp4", "VIDEO_ERROR_EMPTY_FILE")):
        with pytest.raises(FaceprintError) as err:
            open_video(tmp_path / name, isolated())
        assert err.value.code == code


def test_a_killed_worker_is_a_crash_code(hamilton):
    with open_video(hamilton, isolated()) as video:
        frames = iter(video)
        next(frames)
        os.kill(video._proc.pid, signal.SIGSEGV)
        with pytest.raises(FaceprintError) as err:
            for _ in frames:
                pass
    assert err.value.code == "VIDEO_ERROR_WORKER_CRASHED"


def test_memory_and_time_limits_have_codes(hamilton):
    with pytest.raises(FaceprintError) as err, open_video(hamilton, isolated(WorkerLimits(memory_mb=120))) as video:
        for _ in video:
            pass
    assert err.value.code == "VIDEO_ERROR_WORKER_OUT_OF_MEMORY"
    t = time.perf_counter()
    with pytest.raises(FaceprintError) as err:
        open_video(hamilton, isolated(WorkerLimits(timeout_s=0.05)))
    assert err.value.code == "VIDEO_ERROR_TIMEOUT" and time.perf_counter() - t < 5


def test_closing_early_ends_the_worker(hamilton):
    video = open_video(hamilton, isolated())
    pid = video._proc.pid  # type: ignore[attr-defined]
    next(iter(video))
    video.close()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
