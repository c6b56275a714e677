"""Actions as timed events, from the per-frame signals of one track.

Each detector turns a signal into a *deviation* from the person's own baseline, then finds
episodes with hysteresis: an episode starts when the deviation reaches ``on`` and ends when it
falls below ``off``, so jitter around one threshold cannot make a burst of events.

=============  =============================================  ==========================================
action         deviation                                      baseline
=============  =============================================  ==========================================
blink          1 - ear / open-eye level                       the lower of the eye openness (90th
                                                              percentile) in the ``blink_window_s``
                                                              before and the one after: a blink is a
                                                              valley, and a slow drift (pitch changes
                                                              the eye's projected height) is not
turn_left      ``yaw`` (nose tip right of the eye-lip line)   0: the face frame is built from the
turn_right     ``-yaw``                                       person's own eyes and lip
nod            ``abs(pitch - median pitch)``                  median over the track
open_mouth     ``mar - 10th percentile of mar``               the closed mouth (10th percentile)
smile          ``smile / median smile - 1``                   median mouth width over the track
=============  =============================================  ==========================================

A blink and a nod must end inside the sequence (eyes reopened, head back), a blink within
``blink_max_s``; other actions count from their onset. An event whose deviation was never
below ``off`` before its onset is marked ``truncated``: it was already under way when the
sequence began, so it was seen but not performed, and the verifier does not credit it.

The thresholds below were set on the hamilton clip, the only labelled footage we have (see
``bench/liveness_labels.json``): at this resolution (a 37 px inter-eye distance) 2d106det sees
a blink as a 25% drop in eye openness, against at most 11% for every other eye movement there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .actions import Action
from .signals import Signals


@dataclass(frozen=True)
class EventConfig:
    blink_on: float = 0.18
    blink_off: float = 0.10
    blink_window_s: float = 0.4
    blink_max_s: float = 0.5
    turn_on: float = 0.09  # face-frame units; 0.10 read as 17-19 deg by PnP on the hamilton clip
    turn_off: float = 0.05
    nod_on: float = 0.10
    nod_off: float = 0.05
    nod_max_s: float = 2.0
    mouth_on: float = 0.08  # inner-lip gap, in eye-to-lip distances
    mouth_off: float = 0.05
    smile_on: float = 0.10  # mouth 10% wider than usual
    smile_off: float = 0.05
    min_frames: int = 2  # frames an episode must last (a blink: 1)


@dataclass(frozen=True)
class Event:
    action: Action
    start: float  # seconds: onset (deviation reached ``on``)
    end: float  # seconds: last frame of the episode
    peak: float  # seconds: largest deviation
    strength: float  # the largest deviation, in the detector's units
    first: int  # frame indices, inclusive
    last: int
    truncated: bool = False  # already under way when the sequence began: seen, but not performed

    def to_dict(self) -> dict[str, object]:
        return {
            "action": self.action.value,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "peak": round(self.peak, 3),
            "strength": round(self.strength, 4),
            "frames": [self.first, self.last],
            "truncated": self.truncated,
        }


def episodes(dev: np.ndarray, on: float, off: float) -> list[tuple[int, int, bool]]:
    """(first, last, ended) index runs with hysteresis; NaN frames neither start nor end a run."""
    out: list[tuple[int, int, bool]] = []
    active, first, last = False, 0, 0
    for i, v in enumerate(dev):
        if not np.isfinite(v):
            continue
        if not active and v >= on:
            active, first = True, i
        elif active and v < off:
            out.append((first, last, True))
            active = False
        if active:
            last = i
    if active:
        out.append((first, last, False))
    return out


def _span(t: np.ndarray) -> float:
    return float(t.max() - t.min()) if t.size else 0.0


def valley_reference(t: np.ndarray, x: np.ndarray, window: float, q: float = 90.0) -> np.ndarray:
    """min(level before, level after): each the ``q`` percentile of ``x`` within ``window`` s.

    A side that spans under half the window (the ends of the sequence) does not count.
    """
    ref = np.full_like(x, np.nan)
    ok = np.isfinite(x)
    for i in range(len(x)):
        before = ok & (t >= t[i] - window) & (t <= t[i])
        after = ok & (t >= t[i]) & (t <= t[i] + window)
        levels = [np.percentile(x[sel], q) for sel in (before, after) if _span(t[sel]) >= window / 2]
        if levels:
            ref[i] = min(levels)
    return ref


def _events(action: Action, sig: Signals, dev: np.ndarray, on: float, off: float, min_frames: int,
            *, must_end: bool = False, max_s: float | None = None) -> list[Event]:  # fmt: skip
    valid = np.flatnonzero(np.isfinite(dev))
    if valid.size == 0:
        return []
    out = []
    for first, last, ended in episodes(dev, on, off):
        n = int(np.isfinite(dev[first : last + 1]).sum())
        if n < min_frames or (must_end and not ended):
            continue
        if max_s is not None and sig.t[last] - sig.t[first] > max_s:
            continue
        seg = dev[first : last + 1]
        k = first + int(np.nanargmax(seg))
        before = dev[:first]
        performed = bool(np.any(before[np.isfinite(before)] < off))  # neutral at some point before the onset
        out.append(Event(action, float(sig.t[first]), float(sig.t[last]), float(sig.t[k]), float(dev[k]), first, last,
                         truncated=not performed))  # fmt: skip
    return out


def detect_events(sig: Signals, config: EventConfig | None = None) -> list[Event]:
    """Every event of every action in the track, ordered by onset."""
    c = config or EventConfig()
    if len(sig) == 0 or not np.isfinite(sig.ear).any():
        return []
    with np.errstate(invalid="ignore", divide="ignore"):
        open_level = valley_reference(sig.t, sig.ear, c.blink_window_s)
        blink = 1.0 - sig.ear / open_level
        nod = np.abs(sig.pitch - np.nanmedian(sig.pitch))
        mouth = sig.mar - np.nanpercentile(sig.mar, 10.0)
        smile = sig.smile / np.nanmedian(sig.smile) - 1.0
    found = (
        _events(Action.BLINK, sig, blink, c.blink_on, c.blink_off, 1, must_end=True, max_s=c.blink_max_s)
        + _events(Action.TURN_LEFT, sig, sig.yaw, c.turn_on, c.turn_off, c.min_frames)
        + _events(Action.TURN_RIGHT, sig, -sig.yaw, c.turn_on, c.turn_off, c.min_frames)
        + _events(Action.NOD, sig, nod, c.nod_on, c.nod_off, c.min_frames, must_end=True, max_s=c.nod_max_s)
        + _events(Action.OPEN_MOUTH, sig, mouth, c.mouth_on, c.mouth_off, c.min_frames)
        + _events(Action.SMILE, sig, smile, c.smile_on, c.smile_off, c.min_frames + 1)
    )
    return sorted(found, key=lambda e: (e.start, e.action.value))
