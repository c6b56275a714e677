"""Liveness: challenge-response on dense landmarks, a pluggable passive check, a FaceID flow.

    from faceprint.liveness import FrameSequence, SessionStore, verify_sequence
    issued = SessionStore().issue()                      # random 2-4 actions, nonce, expiry
    result = verify_sequence(engine, FrameSequence.from_video("clip.mp4"), issued.challenge.actions)
    result.passed, result.reasons                        # True, []  or  False, ["ACTION_MISSING", ...]

Modules, in pipeline order: ``sequence`` (frames and times), ``track`` (faces per frame, one
followed), ``signals`` (eye, mouth, yaw, pitch from the 106 landmarks), ``events`` (actions as
timed events), ``planar`` (is it a flat picture?), ``verifier`` (the rules and their reason
codes), ``session`` (challenges, nonces, expiry), ``pad`` (passive presentation-attack
detectors), ``flow`` (the FaceID-style biz_token -> verify flow) and ``attacks`` (attack
sequences for tests and benchmarks).
"""

from __future__ import annotations

from .actions import Action, parse_actions
from .events import Event, EventConfig, detect_events
from .sequence import FrameSequence, SequenceLimits
from .session import Challenge, IssuedSession, SessionStore, random_actions
from .track import FaceTrack, FrameObservation, follow, observe
from .verifier import (
    DEFAULT_CONFIG,
    Analysis,
    Failure,
    LivenessConfig,
    LivenessResult,
    Reason,
    analyse,
    decide,
    verify_observations,
    verify_sequence,
)

__all__ = [
    "DEFAULT_CONFIG",
    "Action",
    "Analysis",
    "Challenge",
    "Event",
    "EventConfig",
    "FaceTrack",
    "Failure",
    "FrameObservation",
    "FrameSequence",
    "IssuedSession",
    "LivenessConfig",
    "LivenessResult",
    "Reason",
    "SequenceLimits",
    "SessionStore",
    "analyse",
    "decide",
    "detect_events",
    "follow",
    "observe",
    "parse_actions",
    "random_actions",
    "verify_observations",
    "verify_sequence",
]  # fmt: skip
