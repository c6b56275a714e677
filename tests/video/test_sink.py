"""VideoSink: every container we write reads back with the same pictures and times."""

from __future__ import annotations

import numpy as np
import pytest

from faceprint.errors import FaceprintError
from faceprint.video import VideoSink, open_video
from faceprint.video.sink import CODECS

from .support import clip_frames


@pytest.fixture(scope="module")
def frames(hamilton):
    return clip_frames(hamilton, 80, 90, (321, 181))  # odd sizes: 4:2:0 needs even, the sink trims


@pytest.mark.parametrize("ext", sorted(CODECS))
def test_round_trip(tmp_path, frames, ext):
    times = [0.0, 0.05, 0.1, 0.3, 0.35, 0.4, 0.8, 0.9, 1.0, 1.5]
    path = tmp_path / f"out{ext}"
    with VideoSink(path, 321, 181, fps=20) as sink:
        for img, t in zip(frames, times, strict=True):
            sink.write(img, t)
    assert sink.frames == len(frames)
    with open_video(path) as video:
        got = list(video)
        assert (video.info.width, video.info.height) == (320, 180)
    assert len(got) == len(frames)
    if CODECS[ext].vfr:
        assert [round(f.time_s, 3) for f in got] == times
    else:  # AVI: nearest slot of the nominal 20 fps
        assert [round(f.time_s, 3) for f in got] == [round(round(t * 20) / 20, 3) for t in times]
    for f, want in zip(got, frames, strict=True):
        assert np.abs(f.image.astype(int) - want[:180, :320].astype(int)).mean() < 8


def test_default_times_follow_the_rate(tmp_path, frames):
    with VideoSink(tmp_path / "cfr.mp4", 321, 181, fps=25) as sink:
        for img in frames[:5]:
            sink.write(img)
    with open_video(tmp_path / "cfr.mp4") as video:
        assert [round(f.time_s, 3) for f in video] == [0.0, 0.04, 0.08, 0.12, 0.16]


def test_bad_requests_are_codes(tmp_path, frames):
    with pytest.raises(FaceprintError) as err:
        VideoSink(tmp_path / "out.gifv", 320, 180)
    assert err.value.code == "VIDEO_ERROR_UNSUPPORTED_FORMAT"
    with VideoSink(tmp_path / "out.mp4", 320, 180) as sink, pytest.raises(FaceprintError) as err:
        sink.write(frames[0][:100, :100])
    assert err.value.code == "BAD_ARGUMENTS"
