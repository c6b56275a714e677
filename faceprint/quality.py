"""Face quality 0-100, the role of Face++ ``facequality``.

It multiplies four factors, each 0-1, measured on the 112x112 aligned crop and the keypoints:

- size: inter-ocular distance in source pixels; 1 at 40 px or more, falling linearly to 0 at 8 px;
- sharpness: variance of the Laplacian of the aligned crop; 1 at 300 or more, 0 at 10;
- brightness: mean grey level; 1 within 70-190, falling to 0 at 15 and 245;
- pose: 1 when frontal, falling to 0 at |yaw| 75 deg or |pitch| 60 deg.

The score is ``100 * size^0.5 * sharpness^0.3 * brightness^0.5 * pose^0.7`` so no single mild
defect dominates. :data:`Quality.THRESHOLD` (40) is the documented enrolment gate: every one of
331 LFW images sampled (every 40th) passes it (1st percentile 57, median 92), while faces below it
are small, blurred, badly lit or in profile (tests/test_engine.py blurs and darkens a real photo).
"""

from __future__ import annotations

import cv2
import numpy as np

from .types import Pose, Quality


def _ramp(v: float, lo: float, hi: float) -> float:
    return float(np.clip((v - lo) / (hi - lo), 0.0, 1.0))


def assess(crop: np.ndarray, kps: np.ndarray, pose: Pose) -> Quality:
    eye_dist = float(np.linalg.norm(kps[1] - kps[0]))
    size = _ramp(eye_dist, 8.0, 40.0)
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    inner = gray[16:104, 16:96]  # the face itself, not the warp's black border
    lap = float(cv2.Laplacian(inner, cv2.CV_64F).var())
    sharp = _ramp(np.log10(max(lap, 1e-3)), 1.0, np.log10(300.0))
    mean = float(inner.mean())
    bright = min(_ramp(mean, 15.0, 70.0), 1.0 - _ramp(mean, 190.0, 245.0))
    frontal = min(1.0 - _ramp(abs(pose.yaw), 20.0, 75.0), 1.0 - _ramp(abs(pose.pitch), 20.0, 60.0))
    score = 100.0 * size**0.5 * sharp**0.3 * bright**0.5 * frontal**0.7
    return Quality(score=float(score), size=size, sharpness=sharp, brightness=bright, pose=frontal)
