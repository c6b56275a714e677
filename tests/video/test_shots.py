"""Shot cuts on real footage: the clip's three hard cuts, and none in a continuous crowd shot."""

from __future__ import annotations

from faceprint.video import CutConfig, read_frames
from faceprint.video.shots import CutDetector

from .support import clip_frames


def cuts(path, config=None) -> list[int]:
    detect = CutDetector(config)
    return [f.index for f in read_frames(path) if detect(f.image)]


def test_cuts_in_the_real_clip(hamilton, video_dir):
    # wide shot | Alex Lacamoire in profile, panning onto the audience | Lin-Manuel Miranda | the Obamas
    assert cuts(hamilton) == [20, 82, 211]
    assert cuts(video_dir / "MOT20-05_crowd_short.mp4") == []


def test_first_frame_is_never_a_cut_and_disabled_finds_none(hamilton):
    wide, lin = clip_frames(hamilton, 0, 1)[0], clip_frames(hamilton, 100, 101)[0]
    detect = CutDetector()
    assert [detect(wide), detect(wide), detect(lin), detect(lin), detect(wide)] == [False, False, True, False, True]
    off = CutDetector(CutConfig(enabled=False))
    assert not any(off(img) for img in (wide, lin, wide))
