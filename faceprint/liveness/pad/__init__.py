"""Passive presentation-attack detectors behind one plug-in interface (see base.py).

- ``glare`` and ``moire``: hand-built image statistics, weak, reported but never enforced by default;
- ``minifasnet``: MiniVision's two trained networks (user-supplied weights, installed with
  ``faceprint models add-pad DIR``), run on onnxruntime from the published ``.pth`` files.
  When installed, the FaceID flow uses it by default and lets it decide.

Figures and limits: bench/pad.py, docs/liveness.md.
"""

from __future__ import annotations

from .base import (
    PADDetector,
    PADOptions,
    PADResult,
    UnknownDetector,
    available,
    face_crop,
    get_detector,
    register,
)
from .glare import GlareDetector
from .minifasnet import MiniFASNetDetector
from .moire import MoireDetector
from .weights import PADModelMissing, PADModelTampered

register(GlareDetector.name, GlareDetector)
register(MoireDetector.name, MoireDetector)
register(MiniFASNetDetector.name, MiniFASNetDetector)  # raises PADModelMissing until its weights are installed

DEFAULT_DETECTOR = GlareDetector.name

__all__ = [
    "DEFAULT_DETECTOR",
    "GlareDetector",
    "MiniFASNetDetector",
    "MoireDetector",
    "PADDetector",
    "PADModelMissing",
    "PADModelTampered",
    "PADOptions",
    "PADResult",
    "UnknownDetector",
    "available",
    "face_crop",
    "get_detector",
    "register",
]  # fmt: skip
