"""Is this a face? A detector fires on some animals and objects; the recogniser can tell.

The embedder's feature norm before normalisation tracks how face-like and how good a crop is
(MagFace, Meng et al. 2021). Only detections scoring below ``max_score`` are checked (a confident
detection is a face, at no extra cost). With ``norm`` the smaller of the feature norms of the crop
and of its mirror image, such a detection is dropped when

- its crop looks good (quality >= ``min_quality``) and still ``norm < min_norm``: a low norm that
  blur, size or pose cannot explain; or
- ``norm < floor_norm`` whatever the quality: lower than the tiny, blurry real faces of a crowd reach.

Thresholds are kept per pack, as data, and measured by bench/nonface.py: the non-face rejection
rate on animal and object photos, and the share of LFW's faces lost (at most 0.1%).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .embed.base import Embedder
from .types import Face


@dataclass(frozen=True)
class FaceGate:
    max_score: float  # detections at or above this are faces without the check
    min_quality: float  # crops below this quality are not judged (blur and size lower the norm too)
    min_norm: float  # feature norm (min of the crop's and its mirror's) a good-looking face reaches
    floor_norm: float  # feature norm every real face reaches, however small or blurry

    def suspects(self, faces: list[Face]) -> list[int]:
        return [i for i, f in enumerate(faces) if f.score < self.max_score]

    def rejects(self, face: Face, norm: float) -> bool:
        good = face.quality is not None and face.quality.score >= self.min_quality
        return norm < self.floor_norm or (good and norm < self.min_norm)


# Measured on arcface-s (w600k_mbf), bench/nonface.py: dogs.jpg's "face" scores 0.643 at quality 81
# with norm 17.15 (0.572 and 18.47 at half size); the tiny faces of players.jpg (13-22 px, quality
# 0-16) reach 14.7; the false faces in motorcycle crops 11.3-14.2. With max_score 0.7, four real
# LFW faces (scores 0.653-0.695, quality 75-98, norms 17.4-18.5) were lost too: 0.65 keeps them.
GATES: dict[str, FaceGate] = {"arcface-s": FaceGate(max_score=0.65, min_quality=40.0, min_norm=18.6, floor_norm=14.5)}


def screen(
    gate: FaceGate | None, embedder: Embedder, img: np.ndarray, faces: Sequence[Face], crops: Sequence[np.ndarray | None]
) -> tuple[list[int], dict[int, np.ndarray]]:
    """The indices of ``faces`` the gate keeps (in order), and the templates it computed for the
    suspects it kept (their crops were embedded to read the norm; embedding them again would
    cost as much once more)."""
    everyone = list(range(len(faces)))
    gate_features, mirror_norms = getattr(embedder, "gate_features", None), getattr(embedder, "mirror_norms", None)
    if gate is None or gate_features is None or mirror_norms is None:
        return everyone, {}
    idx = gate.suspects(list(faces))
    if not idx:
        return everyone, {}
    items = [(img, faces[i]) for i in idx]
    norms, templates = gate_features(items, [crops[i] for i in idx])
    # The rule reads the smaller of the crop's and its mirror's norm, and rejects below a threshold:
    # a crop already rejected on its own norm is rejected whatever its mirror's, so only the others'
    # mirrors are embedded (in crowd video, most suspects; measured on LFW, half of them).
    open_ = [k for k, i in enumerate(idx) if not gate.rejects(faces[i], float(norms[k]))]
    if open_:
        norms[open_] = np.minimum(norms[open_], mirror_norms([items[k] for k in open_]))
    dropped = {i for i, n in zip(idx, norms, strict=True) if gate.rejects(faces[i], float(n))}
    kept = {i: t for i, t in zip(idx, templates, strict=True) if i not in dropped}
    return [i for i in everyone if i not in dropped], kept
