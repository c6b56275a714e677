"""Similarity -> Face++-style ``confidence`` and calibrated FAR ``thresholds``.

Each pack's cosine similarities at FAR 1e-3, 1e-4 and 1e-5 are measured on all-vs-all
impostor pairs of LFW (``bench/calibrate.py`` rebuilds ``data/thresholds.json``). Confidence
is a piecewise-linear, strictly increasing map of similarity whose knots put those three
similarities at the confidence values Face++ itself publishes (62.327, 69.101, 73.975), so
client code written against Face++'s thresholds keeps its meaning on every pack.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from .errors import ModelError
from .types import Verdict

FAR_LEVELS = ("1e-3", "1e-4", "1e-5")
FACEPP_CONFIDENCE = {"1e-3": 62.327, "1e-4": 69.101, "1e-5": 73.975}


@dataclass(frozen=True)
class Calibration:
    pack: str
    similarity_at_far: dict[str, float]  # cosine similarity at each FAR level
    source: str = ""

    def __post_init__(self) -> None:
        sims = [self.similarity_at_far[k] for k in FAR_LEVELS]
        if not all(-1.0 < a < b < 1.0 for a, b in itertools.pairwise(sims)):
            raise ModelError(f"calibration for {self.pack} is not increasing: {sims}")

    @property
    def _knots(self) -> tuple[np.ndarray, np.ndarray]:
        sims = [-1.0] + [self.similarity_at_far[k] for k in FAR_LEVELS] + [1.0]
        confs = [0.0] + [FACEPP_CONFIDENCE[k] for k in FAR_LEVELS] + [100.0]
        return np.array(sims), np.array(confs)

    def confidence(self, similarity: float | np.ndarray) -> np.ndarray | float:
        xs, ys = self._knots
        out = np.interp(np.clip(similarity, -1.0, 1.0), xs, ys)
        return float(out) if np.ndim(out) == 0 else out

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(FACEPP_CONFIDENCE)

    def verdict(self, a: np.ndarray | float, b: np.ndarray | None = None) -> Verdict:
        """The 1:1 verdict on a cosine similarity, or on two templates: confidence, thresholds, ``match(far)``.

        The one place a 1:1 decision is made: ``FaceEngine.compare``, HTTP compare and liveness use it."""
        sim = float(a) if b is None else cosine(np.asarray(a), b)
        return Verdict(similarity=sim, confidence=float(self.confidence(sim)), thresholds=self.thresholds)

    @property
    def _far_knots(self) -> tuple[np.ndarray, np.ndarray]:
        """log10 FAR against similarity at the calibrated levels (increasing similarity)."""
        sims = np.array([self.similarity_at_far[k] for k in FAR_LEVELS])
        return sims, np.log10([float(k) for k in FAR_LEVELS])

    def far_at(self, similarity: float) -> float:
        """The false-accept rate one face at this similarity has: log-linear between the
        calibrated levels, and along the nearest segment's slope beyond them (capped at 1)."""
        xs, ys = self._far_knots
        seg = 0 if similarity < xs[1] else len(xs) - 2
        if xs[0] <= similarity <= xs[-1]:
            return float(10 ** np.interp(similarity, xs, ys))
        slope = (ys[seg + 1] - ys[seg]) / (xs[seg + 1] - xs[seg])
        return float(min(1.0, 10 ** (ys[seg] + slope * (similarity - xs[seg]))))

    def similarity_at(self, far: float) -> float:
        """The inverse of ``far_at``: the similarity one face needs for a false-accept rate ``far``."""
        xs, ys = self._far_knots
        lf = float(np.log10(min(max(far, 1e-300), 1.0)))
        if ys[-1] <= lf <= ys[0]:
            return float(np.interp(lf, ys[::-1], xs[::-1]))
        seg = 0 if lf > ys[0] else len(xs) - 2
        slope = (xs[seg + 1] - xs[seg]) / (ys[seg + 1] - ys[seg])
        return float(np.clip(xs[seg] + slope * (lf - ys[seg]), -1.0, 1.0))


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, Any]]:
    text = resources.files("faceprint").joinpath("data/thresholds.json").read_text()
    table: dict[str, dict[str, Any]] = json.loads(text)
    return table


def calibration_for(pack: str) -> Calibration:
    try:
        entry = _table()[pack]
    except KeyError:
        raise ModelError(f"no calibrated thresholds for pack {pack!r}; run bench/calibrate.py") from None
    return Calibration(pack=pack, similarity_at_far=entry["similarity_at_far"], source=entry.get("source", ""))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))
