"""Is the face a flat picture? Align consecutive frames of the face with a homography and see
how well it fits.

A homography is exactly how any flat thing moves in front of a pinhole camera: a printed photo
shifted, zoomed, rotated, sheared or tilted, or a still animated by software. After the best
homography (found by OpenCV's ECC, which maximises the correlation of the two face regions), a
flat picture matches itself almost perfectly; a real head does not, because turning, blinking
and talking move parts of the face against each other (parallax and deformation).

Measured: the median correlation over consecutive frame pairs is 0.939-0.979 on sub-clips of
the real hamilton footage and 0.9958-0.9996 on LFW stills moved by affine and perspective warps
(bench/liveness.py). A physical print filmed by a real camera adds sensor noise and lighting
change, which lowers the correlation of an attack; we had no such footage to measure.
"""

from __future__ import annotations

import cv2
import numpy as np

from .track import FaceTrack, FrameObservation

_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4)


def pair_correlation(a: np.ndarray, b: np.ndarray, box: np.ndarray, margin: float = 0.15) -> float | None:
    """ECC correlation of ``box`` (in these images' pixels) after the best homography from a to b."""
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    hh, ww = a.shape
    x1, y1 = int(max(0, x1 - margin * w)), int(max(0, y1 - margin * h))
    x2, y2 = int(min(ww, x2 + margin * w)), int(min(hh, y2 + margin * h))
    if x2 - x1 < 16 or y2 - y1 < 16 or a.shape != b.shape:
        return None
    ta, tb = a[y1:y2, x1:x2].astype(np.float32), b[y1:y2, x1:x2].astype(np.float32)
    if float(ta.std()) < 1.0 or float(tb.std()) < 1.0:
        return None
    try:
        mask = np.full(ta.shape, 255, np.uint8)
        cc, _ = cv2.findTransformECC(ta, tb, np.eye(3, dtype=np.float32), cv2.MOTION_HOMOGRAPHY, _CRITERIA, mask, 3)
    except cv2.error:
        return None
    return float(cc)


def planarity(observations: list[FrameObservation], track: FaceTrack) -> float | None:
    """Median homography-fit correlation over consecutive frames where the face is seen."""
    out = []
    for i in range(1, len(observations)):
        prev, cur = observations[i - 1], observations[i]
        face = track.faces[i - 1]
        if face is None or track.faces[i] is None or prev.gray is None or cur.gray is None:
            continue
        cc = pair_correlation(prev.gray, cur.gray, face.bbox * prev.gray_scale)
        if cc is not None:
            out.append(cc)
    return float(np.median(out)) if out else None
