"""Similarity -> Face++-style ``confidence`` and calibrated FAR ``thresholds``.

Each pack's cosine similarities at FAR 1e-3, 1e-4 and 1e-5 are measured on all-vs-all
impostor pairs of LFW (``bench/calibrate.py`` rebuilds ``data/thresholds.json``). Confidence
is a piecewise-linear, strictly increasing map of similarity whose knots put those three
similarities at the confidence values Face++ itself publishes (62.327, 69.101, 73.975), so
client code written against Face++'s thresholds keeps its meaning on every pack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from .errors import ModelError

FAR_LEVELS = ("1e-3", "1e-4", "1e-5")
FACEPP_CONFIDENCE = {"1e-3": 62.327, "1e-4": 69.101, "1e-5": 73.975}


@dataclass(frozen=True)
class Calibration:
    pack: str
    similarity_at_far: dict[str, float]  # cosine similarity at each FAR level
    source: str = ""

    def __post_init__(self) -> None:
        sims = [self.similarity_at_far[k] for k in FAR_LEVELS]
        if not all(-1.0 < a < b < 1.0 for a, b in zip(sims, sims[1:])):
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


@lru_cache(maxsize=1)
def _table() -> dict[str, dict]:
    text = resources.files("faceprint").joinpath("data/thresholds.json").read_text()
    return json.loads(text)


def calibration_for(pack: str) -> Calibration:
    try:
        entry = _table()[pack]
    except KeyError:
        raise ModelError(f"no calibrated thresholds for pack {pack!r}; run bench/calibrate.py") from None
    return Calibration(pack=pack, similarity_at_far=entry["similarity_at_far"], source=entry.get("source", ""))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))
