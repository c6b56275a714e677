"""Decoding real footage: formats, presentation times, rotation, and every kind of bad file as a code."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from faceprint.errors import FaceprintError
from faceprint.video import SourceConfig, open_video, read_frames
from faceprint.video.source import read_ahead

from .support import FORMATS, clip_frames, write_audio_only, write_video


@pytest.fixture(scope="module")
def small(hamilton):
    """The clip's first 24 frames at 320x180 (the wide shot: two faces)."""
    return clip_frames(hamilton, 0, 24, (320, 180))


def code_of(path, config=None) -> str:
    with pytest.raises(FaceprintError) as err, open_video(path, config) as video:
        for _ in video:
            pass
    return err.value.code


def test_real_clip_times_come_from_timestamps(hamilton):
    with open_video(hamilton) as video:
        frames = list(video)
        info = video.info
    assert (info.width, info.height, info.codec, info.rotation, info.frame_count) == (640, 360, "h264", 0, 275)
    assert info.fps == pytest.approx(29.97, abs=0.01) and info.duration_s == pytest.approx(9.176, abs=0.01)
    times = np.array([f.time_s for f in frames])
    # the stream starts at pts 10214 (0.85 s): times are measured from the stream's start
    assert times[0] == 0.0 and np.all(np.diff(times) > 0)
    assert times[-1] == pytest.approx(274 * 1001 / 30000, abs=1e-3)
    assert [f.index for f in frames] == list(range(275))
    assert frames[0].image.shape == (360, 640, 3) and frames[0].image.dtype == np.uint8


@pytest.mark.parametrize(("ext", "encoder", "pix_fmt", "options", "codec"), FORMATS, ids=[f[4] + f[0] for f in FORMATS])
def test_formats(tmp_path, small, ext, encoder, pix_fmt, options, codec):
    path = write_video(tmp_path / f"clip{ext}", small, encoder=encoder, pix_fmt=pix_fmt, options=options)
    with open_video(path) as video:
        frames = list(video)
        assert video.info.codec == codec and (video.info.width, video.info.height) == (320, 180)
    assert len(frames) == len(small)
    assert [round(f.time_s, 3) for f in frames] == [round(k / 30, 3) for k in range(len(small))]
    for got, want in zip(frames, small, strict=True):  # lossy codecs, but the same pictures
        assert np.abs(got.image.astype(int) - want.astype(int)).mean() < 8


def test_variable_frame_rate_keeps_true_times(tmp_path, small):
    times = [0.0, 0.04, 0.1, 0.5, 0.52, 1.3, 1.31, 2.0]
    for ext in (".mp4", ".mkv"):
        path = write_video(tmp_path / f"vfr{ext}", small[: len(times)], times=times)
        assert [round(f.time_s, 3) for f in read_frames(path)] == times


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_rotation_metadata_is_applied(tmp_path, small, rotation):
    path = write_video(tmp_path / "rotated.mp4", small[:3], rotation=rotation)
    with open_video(path) as video:
        frames = list(video)
        assert video.info.rotation == rotation % 360
    want = np.rot90(small[0], k=rotation // 90)  # display matrix: counter-clockwise degrees
    assert frames[0].image.shape == want.shape
    assert (video.info.width, video.info.height) == (want.shape[1], want.shape[0])
    assert np.abs(frames[0].image.astype(int) - want.astype(int)).mean() < 8


def test_not_a_video(tmp_path, shared):
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 20)
    assert code_of(text) == "VIDEO_ERROR_UNSUPPORTED_FORMAT"
    photo = tmp_path / "photo.mp4"  # FFmpeg would call a JPEG a one-frame video
    photo.write_bytes((shared / "lfw" / "images" / "Aaron_Eckhart" / "Aaron_Eckhart_0001.jpg").read_bytes())
    assert code_of(photo) == "VIDEO_ERROR_UNSUPPORTED_FORMAT"
    assert code_of(tmp_path / "missing.mp4") == "VIDEO_ERROR_UNSUPPORTED_FORMAT"
    assert code_of(tmp_path) == "VIDEO_ERROR_UNSUPPORTED_FORMAT"


def test_zero_length_file(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert code_of(empty) == "VIDEO_ERROR_EMPTY_FILE"


def test_truncated_files(tmp_path, hamilton, small):
    data = hamilton.read_bytes()  # its index (moov) is at the end: any cut loses it
    for keep in (len(data) // 2, 2000, 40):
        cut = tmp_path / f"cut{keep}.mp4"
        cut.write_bytes(data[:keep])
        assert code_of(cut) == "VIDEO_ERROR_TRUNCATED"
    # index first (faststart mp4) or none (webm): the cut shows only when the frames run out
    for name, kw in [("fast.mp4", {"container_options": {"movflags": "faststart"}}),
                     ("clip.webm", {"encoder": "libvpx-vp9", "options": {"deadline": "realtime", "cpu-used": "8"}})]:  # fmt: skip
        full = write_video(tmp_path / name, small, **kw)
        cut = tmp_path / f"cut-{name}"
        cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
        assert code_of(cut) == "VIDEO_ERROR_TRUNCATED"
        with open_video(cut, SourceConfig(allow_truncated=True)) as video:
            got = len(list(video))
            assert video.truncated and 0 < got < len(small)


def test_audio_only(tmp_path):
    assert code_of(write_audio_only(tmp_path / "song.m4a")) == "VIDEO_ERROR_NO_VIDEO_STREAM"
    assert code_of(write_audio_only(tmp_path / "song.mp4")) == "VIDEO_ERROR_NO_VIDEO_STREAM"


def test_unsupported_codec(tmp_path, hamilton, small):
    # a codec FFmpeg has no decoder for: the real clip with its sample entry renamed
    data = hamilton.read_bytes()  # "avc1" is also a compatible brand in ftyp; rename only the stsd entry
    entry = data.index(b"avc1", data.index(b"stsd"))
    odd = tmp_path / "odd.mp4"
    odd.write_bytes(data[:entry] + b"zzzz" + data[entry + 4 :])
    assert code_of(odd) == "VIDEO_ERROR_UNSUPPORTED_CODEC"
    # a codec FFmpeg decodes but we do not accept (lossless FFV1 in Matroska)
    ffv1 = write_video(tmp_path / "lossless.mkv", small[:4], encoder="ffv1", pix_fmt="yuv420p")
    assert code_of(ffv1) == "VIDEO_ERROR_UNSUPPORTED_CODEC"
    with open_video(ffv1, SourceConfig(codecs=frozenset({"ffv1"}))) as video:
        assert len(list(video)) == 4


def test_limits(hamilton):
    assert code_of(hamilton, SourceConfig(max_pixels=320 * 180)) == "VIDEO_ERROR_TOO_LARGE"
    assert code_of(hamilton, SourceConfig(max_duration_s=5.0)) == "VIDEO_ERROR_TOO_LARGE"


def test_errors_carry_codes_not_ffmpeg_types(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 4)
    with pytest.raises(FaceprintError) as err:
        open_video(bad)
    assert err.value.code == "VIDEO_ERROR_TRUNCATED" and err.value.http_status == 400
    assert err.value.to_dict()["error_code"] == "VIDEO_ERROR_TRUNCATED"


def test_read_ahead_matches_inline_decoding(hamilton):
    with open_video(hamilton) as a, open_video(hamilton) as b:
        inline = [(f.index, f.time_s, int(f.image[::40, ::40].sum())) for f in a]
        ahead = [(f.index, f.time_s, int(f.image[::40, ::40].sum())) for f in read_ahead(iter(b), 4)]
    assert inline == ahead


def test_read_ahead_raises_where_decoding_failed_and_stops_early(tmp_path, small):
    full = write_video(tmp_path / "fast.mp4", small, container_options={"movflags": "faststart"})
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    seen = 0
    with open_video(cut) as video, pytest.raises(FaceprintError) as err:
        for _ in read_ahead(iter(video), 2):
            seen += 1
    assert err.value.code == "VIDEO_ERROR_TRUNCATED" and 0 < seen < len(small)
    before = threading.active_count()
    with open_video(full) as video:
        gen = read_ahead(iter(video), 2)
        next(gen)
        gen.close()  # the consumer stops: the decode thread must end, not block on a full queue
    assert threading.active_count() <= before
