"""``moire``: periodic high-frequency peaks in the face's spectrum, as a screen's pixel grid
beating against the camera's sensor (moire) leaves them.

Score: the 99.9th percentile of the amplitude spectrum of the grey 128x128 face crop, in the
band 20-60 cycles per crop, over that band's median, mapped to 0..1 by ``(ratio - 15) / 30``.
A smooth face has a falling spectrum with no isolated peaks. This cue is weak here: the
recaptures we have are small and blurred, which wipes out most moire, and compression adds
peaks of its own (figures in bench/liveness.py). It ships for comparison and is never enforced.
"""

from __future__ import annotations

import cv2
import numpy as np

from .base import PADDetector

_SIZE = 128
_yy, _xx = np.mgrid[-_SIZE // 2 : _SIZE // 2, -_SIZE // 2 : _SIZE // 2]
_BAND = (np.hypot(_xx, _yy) > 20) & (np.hypot(_xx, _yy) < 60)


class MoireDetector(PADDetector):
    name = "moire"
    threshold = 0.5
    summary = "isolated peaks in the face's high-frequency spectrum (screen moire)"

    def score_crop(self, crop: np.ndarray) -> float:
        g = cv2.cvtColor(cv2.resize(crop, (_SIZE, _SIZE), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
        g = g.astype(np.float32)
        amp = np.abs(np.fft.fftshift(np.fft.fft2(g - g.mean())))[_BAND]
        ratio = float(np.percentile(amp, 99.9) / max(float(np.median(amp)), 1e-6))
        return float(np.clip((ratio - 15.0) / 30.0, 0.0, 1.0))
