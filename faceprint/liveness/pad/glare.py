"""``glare``: clipped highlights on the face, the glare of a screen or glossy print.

A phone or monitor replaying a face is a light source: filmed by a camera that exposes for the
room, much of the face saturates to white, and a glossy print held under a lamp does the same.
Skin lit normally rarely clips. The score is the fraction of the face box (resized to 128x128)
whose brightest channel is 245 or more; ``threshold`` 0.12 was picked on half of the spoof
set (frames numbered under 65) and then measured on the other half and on footage it never saw
(bench/liveness.py writes the figures; docs/liveness.md quotes them).

It is blind to everything that does not glare: a matte print, a dim screen, a mask. It also
flags bona fide faces lit hard enough to clip (flash photos): measured on LFW in the bench.
"""

from __future__ import annotations

import cv2
import numpy as np

from .base import PADDetector


class GlareDetector(PADDetector):
    name = "glare"
    threshold = 0.12
    summary = "fraction of clipped (>= 245) pixels on the face: screen or print glare"

    def score_crop(self, crop: np.ndarray) -> float:
        c = cv2.resize(crop, (128, 128), interpolation=cv2.INTER_AREA)
        return float((c.max(axis=2) >= 245).mean())
