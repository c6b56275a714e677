"""ISO/IEC 30107-3 error rates from PAD scores (score >= threshold: classified as an attack).

APCER: the share of attack presentations classified bona fide (per attack type).
BPCER: the share of bona fide presentations classified as attacks.
ACER: their mean, for one attack type against one bona fide set.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def finite(scores: Sequence[float]) -> np.ndarray:
    s = np.asarray(scores, np.float64)
    return s[np.isfinite(s)]


def rate(scores: Sequence[float], attack: bool, thr: float) -> dict[str, float | int]:
    s = finite(scores)
    wrong = int((s < thr).sum()) if attack else int((s >= thr).sum())
    key = "apcer" if attack else "bpcer"
    return {"n": int(s.size), "errors": wrong, key: round(wrong / max(s.size, 1), 4)}


def threshold_for_bpcer(bona: Sequence[float], target: float) -> float:
    """The lowest threshold whose BPCER on ``bona`` is at most ``target`` (3 decimals, rounded up)."""
    s = np.sort(finite(bona))
    allowed = int(np.floor(target * s.size))  # bona fide scores that may sit at or above the threshold
    t = s[s.size - allowed - 1] if allowed < s.size else 0.0  # must be above this one
    return float(np.ceil((t + 1e-9) * 1000) / 1000)


def det_curve(bona: Sequence[float], attack: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, APCER, BPCER) over every distinct score."""
    b, a = finite(bona), finite(attack)
    t = np.unique(np.r_[b, a, 1.0 + 1e-6])
    apcer = np.array([(a < x).mean() for x in t]) if a.size else np.zeros_like(t)
    bpcer = np.array([(b >= x).mean() for x in t]) if b.size else np.zeros_like(t)
    return t, apcer, bpcer


def apcer_at_bpcer(bona: Sequence[float], attack: Sequence[float], bpcer: float) -> float:
    _, ap, bp = det_curve(bona, attack)
    ok = bp <= bpcer
    return float(ap[ok].min()) if ok.any() else 1.0


def eer(bona: Sequence[float], attack: Sequence[float]) -> float:
    _, ap, bp = det_curve(bona, attack)
    k = int(np.argmin(np.abs(ap - bp)))
    return float((ap[k] + bp[k]) / 2)


def clip_score(scores: Sequence[float], max_frames: int) -> float:
    """As :meth:`PADDetector.score_frames`: the median over up to ``max_frames`` evenly spaced frames."""
    s = list(scores)
    if len(s) > max_frames:
        idx = np.linspace(0, len(s) - 1, max_frames).round().astype(int)
        s = [s[i] for i in idx]
    return float(np.median(s)) if s else float("nan")
