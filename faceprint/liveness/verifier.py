"""The liveness rules: a face track, its events and a challenge in; a verdict with reasons out.

Every rule that fails adds a :class:`Failure` with a stable :class:`Reason` code, and all rules
run, so a result lists every problem at once. The rules:

=====================  ==========================================================================
reason                 when
=====================  ==========================================================================
TIMESTAMPS_INVALID     frame times do not strictly increase (reordered or duplicated frames)
FRAME_GAP              two consecutive frames more than ``max_gap_s`` apart
LOW_FRAME_RATE         the median frame interval is longer than ``1 / min_fps``
CLIP_TOO_SHORT         shorter than ``min_s_per_action`` per action
CLIP_TOO_LONG          longer than ``lead_s + max_s_per_action`` per action
NO_FACE                the face is seen in under ``min_seen`` of the frames
FACE_TOO_SMALL         the median inter-eye distance is under ``min_eye_px``
FACE_LOST              the followed face is missing for more than ``max_gap_s``
MULTIPLE_FACES         another face at least half as wide is in ``max_other_frames`` frames or more
FACE_CHANGED           a frame's template is further than ``identity_min`` (cosine) from the best
                       frame's: a different person appeared along the track
STATIC_SEQUENCE        the landmarks do not move at all (one still repeated)
PLANAR_FACE            the face moves as a flat picture does: consecutive frames of the face match
                       after a homography with a median correlation of ``planar_cc`` or more
                       (see planar.py); a photo shifted, zoomed, rotated, sheared or tilted
ACTION_MISSING         an asked-for action has no event
ACTIONS_OUT_OF_ORDER   every action happened, but not in the order asked
UNEXPECTED_ACTION      a head turn that was not asked for (turns are never made by accident;
                       a replayed clip of someone turning every way is)
ACTION_TIMEOUT         an action began more than ``max_s_per_action`` after the one before
=====================  ==========================================================================

Only events whose onset is inside the sequence count towards the challenge: a photo of someone
with the head turned, smiling or with eyes half shut shows that state from the first frame, but
never *performs* it. Order: each deliberate action is taken at its *first* performed event, so a
clip that performs every action over and over cannot satisfy any order; a blink (people blink
unbidden) is the first blink after the previous action began.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from ..engine import FaceEngine
from .actions import Action
from .events import Event, EventConfig, detect_events
from .planar import planarity
from .sequence import FrameSequence
from .signals import Signals, canonical, track_signals
from .track import FaceTrack, FrameObservation, TrackConfig, follow, observe


class Reason(StrEnum):
    TIMESTAMPS_INVALID = "TIMESTAMPS_INVALID"
    FRAME_GAP = "FRAME_GAP"
    LOW_FRAME_RATE = "LOW_FRAME_RATE"
    CLIP_TOO_SHORT = "CLIP_TOO_SHORT"
    CLIP_TOO_LONG = "CLIP_TOO_LONG"
    NO_FACE = "NO_FACE"
    FACE_TOO_SMALL = "FACE_TOO_SMALL"
    FACE_LOST = "FACE_LOST"
    MULTIPLE_FACES = "MULTIPLE_FACES"
    FACE_CHANGED = "FACE_CHANGED"
    STATIC_SEQUENCE = "STATIC_SEQUENCE"
    PLANAR_FACE = "PLANAR_FACE"
    ACTION_MISSING = "ACTION_MISSING"
    ACTIONS_OUT_OF_ORDER = "ACTIONS_OUT_OF_ORDER"
    UNEXPECTED_ACTION = "UNEXPECTED_ACTION"
    ACTION_TIMEOUT = "ACTION_TIMEOUT"


@dataclass(frozen=True)
class LivenessConfig:
    max_gap_s: float = 0.25
    min_fps: float = 8.0
    min_s_per_action: float = 0.4
    max_s_per_action: float = 5.0
    lead_s: float = 3.0  # allowed on top of max_s_per_action per action, for the start and the end
    min_seen: float = 0.9
    min_eye_px: float = 20.0
    max_other_frames: int = 2
    identity_min: float = 0.2  # cosine to the best frame; hamilton cuts: same person >= 0.35, others < 0.1
    static_eps: float = 0.004  # landmark motion, in inter-eye distances (RMS about the median)
    planar_cc: float = 0.99  # homography-fit correlation of consecutive face crops (planar.py)
    strict_turns: bool = True
    events: EventConfig = field(default_factory=EventConfig)
    track: TrackConfig = field(default_factory=TrackConfig)


DEFAULT_CONFIG = LivenessConfig()

# All 106 landmarks: how their face-frame positions change tells a moving head from a moving picture.
_SHAPE_POINTS = np.arange(106)


@dataclass(frozen=True)
class Failure:
    reason: Reason
    message: str
    detail: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"code": self.reason.value, "message": self.message, **self.detail}


@dataclass(frozen=True, eq=False)
class LivenessResult:
    passed: bool
    actions: tuple[Action, ...]
    failures: tuple[Failure, ...]
    events: tuple[Event, ...]
    matched: tuple[Event | None, ...]  # the event credited to each action, in challenge order
    best_frame: int | None  # index of the sharpest near-frontal frame of the track
    stats: dict[str, float]
    track: FaceTrack | None = field(default=None, repr=False)
    signals: Signals | None = field(default=None, repr=False)

    @property
    def reasons(self) -> list[str]:
        return [f.reason.value for f in self.failures]

    def to_dict(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "challenge": [a.value for a in self.actions],
            "reasons": [f.to_dict() for f in self.failures],
            "matched": [None if e is None else e.to_dict() for e in self.matched],
            "events": [e.to_dict() for e in self.events],
            "best_frame": self.best_frame,
            "stats": {k: round(v, 4) for k, v in self.stats.items()},
        }


def _timing(t: np.ndarray, c: LivenessConfig) -> tuple[list[Failure], dict[str, float]]:
    out: list[Failure] = []
    dt = np.diff(t)
    duration = float(t[-1] - t[0]) if len(t) else 0.0
    stats = {"frames": float(len(t)), "duration_s": duration}
    if len(dt) and np.any(dt <= 0):
        k = int(np.argmax(dt <= 0)) + 1
        out.append(Failure(Reason.TIMESTAMPS_INVALID, "frame times must strictly increase", {"frame": k}))
    if len(dt) and float(dt.max()) > c.max_gap_s:
        k = int(np.argmax(dt)) + 1
        out.append(Failure(Reason.FRAME_GAP, f"{dt.max():.3f} s between frames {k - 1} and {k}; at most {c.max_gap_s:g} s",
                           {"frame": k, "gap_s": round(float(dt.max()), 3)}))  # fmt: skip
    if len(dt):
        med = float(np.median(dt))
        stats["fps"] = 1.0 / med if med > 0 else 0.0
        if med <= 0 or 1.0 / med < c.min_fps:
            out.append(Failure(Reason.LOW_FRAME_RATE, f"frame rate under {c.min_fps:g} fps", {"fps": round(stats["fps"], 2)}))
    return out, stats


def _duration(duration: float, n_actions: int, c: LivenessConfig) -> list[Failure]:
    if duration < c.min_s_per_action * n_actions:
        return [Failure(Reason.CLIP_TOO_SHORT, f"{duration:.2f} s is too short for {n_actions} action(s)")]
    if duration > c.lead_s + c.max_s_per_action * n_actions:
        return [Failure(Reason.CLIP_TOO_LONG, f"{duration:.2f} s is too long for {n_actions} action(s)")]
    return []


def _presence(track: FaceTrack, c: LivenessConfig) -> tuple[list[Failure], dict[str, float]]:
    out: list[Failure] = []
    seen = track.seen
    frac = float(seen.mean()) if len(seen) else 0.0
    stats = {"seen": frac}
    if frac < c.min_seen:
        out.append(Failure(Reason.NO_FACE, f"a face is seen in {frac:.0%} of frames; at least {c.min_seen:.0%}"))
    if seen.any():
        idx = np.flatnonzero(seen)
        t = track.times
        gaps = np.diff(np.r_[t[0], t[idx], t[-1]])
        if float(gaps.max()) > c.max_gap_s:
            out.append(
                Failure(
                    Reason.FACE_LOST, f"the face is missing for {gaps.max():.2f} s", {"missing_s": round(float(gaps.max()), 3)}
                )
            )
        eyes = [float(np.linalg.norm(f.kps[1] - f.kps[0])) for f in track.faces if f is not None]
        stats["eye_px"] = float(np.median(eyes))
        if stats["eye_px"] < c.min_eye_px:
            out.append(Failure(Reason.FACE_TOO_SMALL, f"inter-eye distance {stats['eye_px']:.0f} px; at least {c.min_eye_px:g}"))
    crowded = int((track.others > 0).sum())
    if crowded >= c.max_other_frames:
        k = int(np.argmax(track.others > 0))
        out.append(Failure(Reason.MULTIPLE_FACES, f"another face is in {crowded} frame(s)", {"frame": k, "frames": crowded}))
    return out, stats


def best_frame(track: FaceTrack, max_angle: float = 20.0) -> int | None:
    """The sharpest frame with the head within ``max_angle`` of frontal (any frame if none is)."""
    cands = [(i, f) for i, f in enumerate(track.faces) if f is not None and f.quality is not None]
    if not cands:
        return None
    frontal = [(i, f) for i, f in cands if f.pose is None or (abs(f.pose.yaw) <= max_angle and abs(f.pose.pitch) <= max_angle)]
    pool = frontal or cands
    return max(pool, key=lambda p: (p[1].quality.sharpness, p[1].quality.score))[0]  # type: ignore[union-attr]


def _identity(track: FaceTrack, best: int | None, c: LivenessConfig) -> tuple[list[Failure], dict[str, float]]:
    chosen = None if best is None else track.faces[best]
    if chosen is None or chosen.embedding is None:
        return [], {}
    ref = chosen.embedding
    sims = [(i, float(np.dot(f.embedding, ref))) for i, f in enumerate(track.faces) if f is not None and f.embedding is not None]
    k, low = min(sims, key=lambda p: p[1])
    stats = {"identity_min": low}
    if low < c.identity_min:
        msg = f"frame {k} shows a different person (cosine {low:.2f} to the best frame; at least {c.identity_min:g})"
        return [Failure(Reason.FACE_CHANGED, msg, {"frame": k, "similarity": round(low, 4)})], stats
    return [], stats


def _rigidity(
    observations: list[FrameObservation], track: FaceTrack, c: LivenessConfig
) -> tuple[list[Failure], dict[str, float]]:
    pts = [
        (f.landmarks, float(np.linalg.norm(f.kps[1] - f.kps[0])))
        for f in track.faces
        if f is not None and f.landmarks is not None
    ]
    if len(pts) < 3:
        return [], {}
    raw = np.stack([p for p, _ in pts]).astype(np.float64)
    eye = float(np.median([e for _, e in pts]))
    motion = float(np.sqrt(((raw - np.median(raw, axis=0)) ** 2).sum(-1).mean()) / max(eye, 1e-6))
    canon = [canonical(p) for p, _ in pts]
    shapes = np.stack([s[_SHAPE_POINTS] for s in canon if s is not None])
    dev = np.sqrt(((shapes - np.median(shapes, axis=0)) ** 2).sum(-1).mean(-1))
    shape = float(np.percentile(dev, 90))
    stats = {"motion": motion, "shape_change": shape}
    if motion < c.static_eps:
        return [
            Failure(Reason.STATIC_SEQUENCE, "nothing moves: the same still in every frame", {"motion": round(motion, 5)})
        ], stats
    flat = planarity(observations, track)
    if flat is not None:
        stats["planarity"] = flat
        if flat >= c.planar_cc:
            msg = f"the face moves as a flat picture does (homography fit {flat:.4f}; real heads stay under {c.planar_cc:g})"
            return [Failure(Reason.PLANAR_FACE, msg, {"planarity": round(flat, 5)})], stats
    return [], stats


def match_actions(
    actions: Sequence[Action], events: Sequence[Event], c: LivenessConfig, t0: float
) -> tuple[list[Failure], list[Event | None]]:
    """Credit one event to each action; report missing, out-of-order, late and unexpected ones."""
    out: list[Failure] = []
    matched: list[Event | None] = []
    prev: Event | None = None
    order_ok = True
    for a in actions:
        mine = [e for e in events if e.action == a and not e.truncated]
        if not mine:
            out.append(Failure(Reason.ACTION_MISSING, f"no {a.value} seen", {"action": a.value}))
            matched.append(None)
            continue
        if a == Action.BLINK:
            later = [e for e in mine if prev is None or e.start > prev.start]
            pick = later[0] if later else mine[0]
        else:
            pick = mine[0]
        if prev is not None and pick.start <= prev.start:
            order_ok = False
        matched.append(pick)
        prev = pick
    if not order_ok:
        seen = [e.action.value for e in sorted((e for e in matched if e is not None), key=lambda e: e.start)]
        out.append(Failure(Reason.ACTIONS_OUT_OF_ORDER, f"actions performed as {', '.join(seen)}", {"performed": seen}))
    last = t0
    for a, e in zip(actions, matched, strict=True):  # one match (or None) per action
        if e is None:
            continue
        if e.start - last > c.max_s_per_action + (c.lead_s if last == t0 else 0.0):
            out.append(Failure(Reason.ACTION_TIMEOUT, f"{a.value} began {e.start - last:.1f} s after the previous step",
                               {"action": a.value}))  # fmt: skip
        last = max(last, e.start)
    if c.strict_turns:
        for turn in (Action.TURN_LEFT, Action.TURN_RIGHT):
            extra = [e for e in events if e.action == turn and not e.truncated]
            if extra and turn not in actions:
                out.append(Failure(Reason.UNEXPECTED_ACTION, f"{turn.value} was not asked for",
                                   {"action": turn.value, "at": round(extra[0].start, 3)}))  # fmt: skip
    return out, matched


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything about a sequence that does not depend on the challenge (computed once)."""

    track: FaceTrack
    signals: Signals
    events: tuple[Event, ...]
    failures: tuple[Failure, ...]  # challenge-independent rule failures
    best_frame: int | None
    stats: dict[str, float]


def analyse(observations: list[FrameObservation], config: LivenessConfig = DEFAULT_CONFIG) -> Analysis:
    """Follow one face, apply every rule that does not depend on the challenge, find the events."""
    c = config
    track = follow(observations, c.track)
    failures: list[Failure] = []
    stats: dict[str, float] = {}
    best = best_frame(track)
    for more, st in (_timing(track.times, c), _presence(track, c), _identity(track, best, c), _rigidity(observations, track, c)):
        failures += more
        stats.update(st)
    sig = track_signals(track)
    return Analysis(track, sig, tuple(detect_events(sig, c.events)), tuple(failures), best, stats)


def decide(analysis: Analysis, actions: Sequence[Action], config: LivenessConfig = DEFAULT_CONFIG) -> LivenessResult:
    """The verdict on one challenge: the analysis's failures plus duration and action rules."""
    a = analysis
    failures = list(a.failures) + _duration(a.stats.get("duration_s", 0.0), len(actions), config)
    t0 = float(a.track.times[0]) if len(a.track) else 0.0
    more, matched = match_actions(actions, a.events, config, t0)
    failures += more
    return LivenessResult(not failures, tuple(actions), tuple(failures), a.events, tuple(matched), a.best_frame,
                          a.stats, a.track, a.signals)  # fmt: skip


def verify_observations(observations: list[FrameObservation], actions: Sequence[Action],
                        config: LivenessConfig = DEFAULT_CONFIG) -> LivenessResult:  # fmt: skip
    """Follow one face through the observed frames and apply every rule."""
    return decide(analyse(observations, config), actions, config)


def verify_sequence(engine: FaceEngine, seq: FrameSequence, actions: Sequence[Action],
                    config: LivenessConfig = DEFAULT_CONFIG) -> LivenessResult:  # fmt: skip
    """Observe every frame with ``engine``, then :func:`verify_observations`."""
    return verify_observations(observe(engine, seq), actions, config)
