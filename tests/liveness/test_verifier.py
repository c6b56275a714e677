"""The rules on real footage: genuine cuts pass; every attack fails with its own reason code."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from faceprint.liveness import Action, FrameObservation, analyse, decide, observe, parse_actions, verify_observations
from faceprint.liveness.attacks import static_photo
from faceprint.liveness.track import retime

from .support import CLIPS, cut


def _verify(obs, challenge):
    return verify_observations(obs, parse_actions(challenge))


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_genuine_cuts_pass_their_labelled_challenge(shot, name):
    clip = CLIPS[name]
    result = _verify(cut(shot[1], *clip["frames"]), clip["challenge"])
    assert result.passed, result.reasons
    assert [e.action.value for e in result.matched] == clip["challenge"]
    assert all(a.start < b.start for a, b in pairwise(result.matched))


def test_a_static_photo_is_refused(engine, other_person):
    one = observe(engine, static_photo(other_person, 2))[0]  # per-frame work is deterministic: observe once
    obs = [FrameObservation(k / 15, one.faces, one.size, one.gray, one.gray_scale) for k in range(45)]
    result = _verify(obs, "turn_left,blink")
    assert not result.passed
    assert result.reasons[0] == "STATIC_SEQUENCE" and "ACTION_MISSING" in result.reasons


def test_a_photo_with_synthetic_motion_is_refused_for_every_challenge(other_moving):
    an = analyse(other_moving[1])
    assert "PLANAR_FACE" in [f.reason.value for f in an.failures]
    assert not any(e for e in an.events if not e.truncated and e.action in (Action.TURN_LEFT, Action.TURN_RIGHT))
    for challenge in ("left,right", "blink,smile", "mouth,nod", "right,blink,smile,left"):
        result = decide(an, parse_actions(challenge))
        assert not result.passed and "PLANAR_FACE" in result.reasons


def test_a_replay_performing_another_challenge_is_refused(shot):
    obs = cut(shot[1], *CLIPS["right-left"]["frames"])  # performs turn_right then turn_left
    an = analyse(obs)
    cases = {
        "left,right": "ACTIONS_OUT_OF_ORDER",
        "blink,left": "ACTION_MISSING",
        "left,smile": "UNEXPECTED_ACTION",  # the replay turns right, which was not asked for
    }
    for challenge, code in cases.items():
        result = decide(an, parse_actions(challenge))
        assert not result.passed and code in result.reasons, (challenge, result.reasons)
    missing = decide(an, parse_actions("blink,left"))
    assert [f.detail["action"] for f in missing.failures if f.reason.value == "ACTION_MISSING"] == ["blink"]


def test_frames_spliced_from_two_people_are_refused(shot, other_moving):
    clip = CLIPS["right-left"]
    base = cut(shot[1], *clip["frames"])
    other = other_moving[1][:15]
    step = 1001 / 30000
    appended = base + retime(other, base[-1].time + step * np.arange(1, 16))
    mid = len(base) // 2
    swapped = base[:mid] + retime(other[:1], np.array([base[mid].time])) + base[mid + 1 :]
    for obs in (appended, swapped):
        result = _verify(obs, clip["challenge"])
        assert not result.passed and "FACE_CHANGED" in result.reasons
        changed = next(f for f in result.failures if f.reason.value == "FACE_CHANGED")
        assert changed.detail["similarity"] < 0.2


def test_several_faces_are_refused(engine, hamilton_seq):
    """The audience shot (frames 213-229): six people on screen."""
    result = _verify(observe(engine, hamilton_seq.slice(213, 230)), "smile")
    assert not result.passed and "MULTIPLE_FACES" in result.reasons


def test_frame_gaps_reordered_frames_and_low_rates_are_refused(shot):
    clip = CLIPS["right-left"]
    obs = cut(shot[1], *clip["frames"])
    gap = obs[:30] + obs[40:]  # a third of a second dropped
    assert "FRAME_GAP" in _verify(gap, clip["challenge"]).reasons
    t = np.array([o.time for o in obs])
    t[[10, 11]] = t[[11, 10]]
    assert "TIMESTAMPS_INVALID" in _verify(retime(obs, t), clip["challenge"]).reasons
    slow = obs[::5]  # 6 fps
    assert "LOW_FRAME_RATE" in _verify(slow, clip["challenge"]).reasons


def test_a_face_that_leaves_the_frame_is_refused(shot):
    clip = CLIPS["right-left"]
    obs = cut(shot[1], *clip["frames"])
    gone = [FrameObservation(o.time, () if 30 <= i < 42 else o.faces, o.size, o.gray, o.gray_scale) for i, o in enumerate(obs)]
    result = _verify(gone, clip["challenge"])
    assert "FACE_LOST" in result.reasons and "NO_FACE" in result.reasons


def test_timing_rules(shot):
    clip = CLIPS["right-left"]
    obs = cut(shot[1], *clip["frames"])
    short = _verify(obs[:10], "right,left,blink,smile")
    assert "CLIP_TOO_SHORT" in short.reasons
    t = np.array([o.time for o in obs])
    stretched = retime(obs, t * 6.5)  # 16 s, at 4.6 fps
    slow = _verify(stretched, clip["challenge"])
    assert "ACTION_TIMEOUT" in slow.reasons and "CLIP_TOO_LONG" in slow.reasons


def test_the_result_serialises_every_reason(shot):
    result = _verify(cut(shot[1], *CLIPS["right-left"]["frames"]), "blink,left")
    d = result.to_dict()
    assert d["passed"] is False and {r["code"] for r in d["reasons"]} == set(result.reasons)
    assert d["matched"][0] is None and d["matched"][1]["action"] == "turn_left"


def test_a_clip_without_a_face_is_refused_not_crashed(engine):
    from faceprint.liveness import FrameSequence

    blank = FrameSequence.from_images([np.full((120, 160, 3), 20 + i, np.uint8) for i in range(20)], fps=15)
    result = _verify(observe(engine, blank), "blink,left")
    assert not result.passed and result.reasons[:2] == ["NO_FACE", "ACTION_MISSING"] and result.best_frame is None
    assert result.to_dict()["matched"] == [None, None]
