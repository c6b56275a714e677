"""Signals from the 106 landmarks, and events with hysteresis, on the labelled real shot."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faceprint.liveness import Action, detect_events, follow
from faceprint.liveness.events import episodes
from faceprint.liveness.signals import frame_signals, track_signals

from .support import LABELS, SHOT


@pytest.fixture(scope="module")
def signals(shot):
    return track_signals(follow(shot[1]))


@pytest.fixture(scope="module")
def events(signals):
    return detect_events(signals)


def _frames(first: int, last: int) -> slice:
    return slice(first - SHOT[0], last - SHOT[0] + 1)


@settings(max_examples=60, deadline=None)
@given(
    frame=st.sampled_from([84, 100, 113, 130, 160, 195]),
    angle=st.floats(-np.pi, np.pi),
    scale=st.floats(0.3, 3.0),
    stretch=st.floats(0.5, 2.0),
    shear=st.floats(-0.5, 0.5),
    shift=st.tuples(st.floats(-500, 500), st.floats(-500, 500)),
)
def test_signals_ignore_any_affine_move_of_the_picture(shot, frame, angle, scale, stretch, shear, shift):
    """What makes a moved, zoomed, rotated or sheared photo read as no action at all."""
    lm = shot[1][frame - SHOT[0]].faces[0].landmarks.astype(np.float64)
    c, s = np.cos(angle), np.sin(angle)
    a = scale * np.array([[c, -s], [s, c]]) @ np.array([[stretch, shear], [0.0, 1.0 / stretch]])
    moved = lm @ a.T + np.array(shift)
    assert np.allclose(frame_signals(moved), frame_signals(lm), atol=1e-6)


def test_yaw_sign_follows_the_subjects_own_left_and_right(signals):
    """Labelled turns: to his right (nose to image left) reads negative, to his left positive, as Pose does."""
    right, left = _frames(128, 136), _frames(157, 162)
    assert np.nanmedian(signals.yaw[right]) < -0.15 and np.nanmedian(signals.yaw_deg[right]) < -15
    assert np.nanmedian(signals.yaw[left]) > 0.09 and np.nanmedian(signals.yaw_deg[left]) > 10


def test_the_labelled_blink_is_a_drop_in_eye_openness(signals):
    closed = np.nanmean(signals.ear[_frames(82, 85)])
    opened = np.nanmean(signals.ear[_frames(88, 95)])
    assert closed < 0.8 * opened


def test_labelled_turns_blink_and_wide_mouth_openings_are_detected(events):
    """Each labelled turn, the blink and each wide mouth opening overlaps a detected event of its action."""
    for lab in LABELS["tracks"][0]["events"]:
        if lab["action"] in ("turn_left", "turn_right", "blink") or lab.get("strength") == "wide":
            a, b = lab["frames"]
            hits = [e for e in events if e.action.value == lab["action"] and e.first + SHOT[0] <= b and e.last + SHOT[0] >= a]
            assert hits, f"{lab['action']} {a}-{b} not detected"


def test_events_under_way_at_the_start_are_marked_truncated(events):
    at_start = [e for e in events if e.first == 0]
    assert {e.action for e in at_start} >= {Action.BLINK, Action.TURN_LEFT, Action.SMILE}
    assert all(e.truncated for e in at_start)
    turns = [e for e in events if e.action in (Action.TURN_LEFT, Action.TURN_RIGHT) and e.first > 0]
    assert len(turns) == 3 and not any(e.truncated for e in turns)
    assert [e.action for e in turns] == [Action.TURN_RIGHT, Action.TURN_LEFT, Action.TURN_RIGHT]


def test_hysteresis_episodes():
    x = np.array([0, 0.5, 1.2, 0.9, 0.6, 1.1, 0.3, 0, 1.5, np.nan, 1.4])
    assert episodes(x, on=1.0, off=0.5) == [(2, 5, True), (8, 10, False)]
    assert episodes(np.array([np.nan, np.nan]), on=1.0, off=0.5) == []
    assert episodes(np.array([0.99, 0.2, 0.99]), on=1.0, off=0.5) == []
