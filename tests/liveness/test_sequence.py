"""Frame sequences: clips through PyAV, frame lists with timestamps, stable error codes."""

from __future__ import annotations

import numpy as np
import pytest

from faceprint.errors import FaceprintError
from faceprint.liveness import FrameSequence, SequenceLimits


def test_a_real_clip_reads_with_presentation_times(hamilton_seq):
    assert len(hamilton_seq) == 275
    assert hamilton_seq.images[0].shape == (360, 640, 3)
    assert np.allclose(np.diff(hamilton_seq.times), 1001 / 30000, atol=1e-6)
    part = hamilton_seq.slice(100, 130)
    assert len(part) == 30 and part.times[0] == 0.0


def test_frames_with_times_or_a_rate(hamilton_seq):
    imgs = list(hamilton_seq.images[:5])
    seq = FrameSequence.from_images(imgs, [0.0, 0.1, 0.2, 0.25, 0.4])
    assert seq.duration_s == pytest.approx(0.4)
    assert FrameSequence.from_images(imgs, fps=10).times.tolist() == pytest.approx([0, 0.1, 0.2, 0.3, 0.4])


@pytest.mark.parametrize(
    "times, fps, limits",
    [
        ([0.0, 0.1], None, SequenceLimits()),  # 2 times for 5 frames
        ([0.0, 0.1, float("nan"), 0.3, 0.4], None, SequenceLimits()),
        (["a", 0.1, 0.2, 0.3, 0.4], None, SequenceLimits()),
        (None, None, SequenceLimits()),  # neither times nor a rate
        (None, 0.0, SequenceLimits()),
        (None, 10, SequenceLimits(max_frames=4)),
        ([0.0, 10.0, 20.0, 30.0, 40.0], None, SequenceLimits()),  # spans over 20 s
    ],
)
def test_bad_frame_lists_get_a_code(hamilton_seq, times, fps, limits):
    with pytest.raises(FaceprintError) as exc:
        FrameSequence.from_images(list(hamilton_seq.images[:5]), times, fps=fps, limits=limits)
    assert exc.value.code == "INVALID_FRAME_SEQUENCE" and exc.value.http_status == 400


def test_bad_frames_and_files_get_codes(tmp_path, hamilton_seq):
    with pytest.raises(FaceprintError) as exc:
        FrameSequence.from_images([b"not an image", b"nor this"], fps=10)
    assert exc.value.code == "IMAGE_ERROR_UNSUPPORTED_FORMAT"
    text = tmp_path / "clip.mp4"
    text.write_text("hello")
    with pytest.raises(FaceprintError) as exc:
        FrameSequence.from_video(text)
    assert exc.value.code.startswith("VIDEO_ERROR")
    with pytest.raises(FaceprintError) as exc:
        FrameSequence.from_video(tmp_path / "missing.mp4")
    assert exc.value.code.startswith("VIDEO_ERROR")


def test_long_clips_are_refused_while_reading(shared):
    with pytest.raises(FaceprintError) as exc:
        FrameSequence.from_video(shared / "video" / "short_hamilton_clip.mp4", limits=SequenceLimits(max_frames=100))
    assert exc.value.code == "INVALID_FRAME_SEQUENCE"
