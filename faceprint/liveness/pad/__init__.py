"""Passive presentation-attack detectors behind one plug-in interface (see base.py).

No credible passive anti-spoofing model ships in a registry package, so the detectors here are
hand-built from image statistics, measured on the little labelled spoof data we have, and *not
enforced* by default: the FaceID flow always reports their score, and only decides on it when
asked to (``pad_enforce``). Figures and limits: docs/liveness.md.
"""

from __future__ import annotations

from .base import PADDetector, PADResult, UnknownDetector, available, face_crop, get_detector, register
from .glare import GlareDetector
from .minifasnet import MiniFASNetDetector
from .moire import MoireDetector
from .weights import PADModelMissing, PADModelTampered

register(GlareDetector.name, GlareDetector)
register(MoireDetector.name, MoireDetector)
register(MiniFASNetDetector.name, MiniFASNetDetector)  # raises PADModelMissing until its weights are installed

DEFAULT_DETECTOR = GlareDetector.name

__all__ = [
    "DEFAULT_DETECTOR", "GlareDetector", "MiniFASNetDetector", "MoireDetector", "PADDetector", "PADModelMissing",
    "PADModelTampered", "PADResult", "UnknownDetector",
    "available", "face_crop", "get_detector", "register",
]  # fmt: skip
