"""Is the face a flat picture? Align consecutive frames of the face with a homography and see
how well it fits.

A homography is exactly how any flat thing moves in front of a pinhole camera: a printed photo
shifted, zoomed, rotated, sheared or tilted, or a still animated by software. After the best
homography (found by OpenCV's ECC, which maximises the correlation of the two face regions), a
flat picture matches itself almost perfectly; a real head does not, because turning, blinking
and talking move parts of the face against each other (parallax and deformation).

Each search starts from the affine map between the two frames' landmarks and looks for frame
one's face region anywhere in frame two, coarse to fine, so fast moves converge too. Measured
(bench/liveness.py): the median correlation over consecutive pairs in which the face moved is
0.938-0.968 on cuts of the real hamilton footage, and 0.9998 or more on LFW stills moved by
affine and perspective warps. A physical print filmed by a real camera adds sensor noise and lighting
change, which lowers the correlation of an attack; we had no such footage to measure.
"""

from __future__ import annotations

import cv2
import numpy as np

from .track import FaceTrack, FrameObservation

_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4)
_SCALES = (0.25, 0.5, 1.0)
MOVING = 0.02  # a pair counts when the landmarks moved this much (RMS, in inter-eye distances)


def pair_correlation(a: np.ndarray, b: np.ndarray, box: np.ndarray, init: np.ndarray | None = None,
                     margin: float = 0.15) -> float | None:  # fmt: skip
    """ECC correlation of ``box`` of ``a`` with ``b`` after the best homography (the face region of
    one frame looked for in the next).

    ``init`` is a 2x3 affine map from a to b (from the landmarks) to start from. The search runs
    coarse to fine (a quarter, a half, then full size), so that the larger frame-to-frame moves of
    a waved or tilted picture still converge.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    hh, ww = a.shape
    x1, y1 = int(max(0, x1 - margin * w)), int(max(0, y1 - margin * h))
    x2, y2 = int(min(ww, x2 + margin * w)), int(min(hh, y2 + margin * h))
    if x2 - x1 < 16 or y2 - y1 < 16 or a.shape != b.shape:
        return None
    template = a[y1:y2, x1:x2].astype(np.float32)
    if float(template.std()) < 1.0:
        return None
    full = b.astype(np.float32)
    warp = np.eye(3, dtype=np.float32)  # template (crop) coordinates -> b's coordinates
    warp[:2, 2] = (x1, y1)
    if init is not None:
        o = np.array([x1, y1], dtype=np.float64)
        warp[:2, :2] = init[:, :2]
        warp[:2, 2] = init[:, :2] @ o + init[:, 2]
    cc = None
    for scale in _SCALES:
        if min(template.shape) * scale < 16:
            continue
        st = np.diag([scale, scale, 1.0]).astype(np.float32)
        w_s = st @ warp @ np.linalg.inv(st)
        ta = cv2.resize(template, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else template
        tb = cv2.resize(full, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else full
        try:
            cc, w_s = cv2.findTransformECC(ta, tb, w_s, cv2.MOTION_HOMOGRAPHY, _CRITERIA, np.full(tb.shape, 255, np.uint8), 3)
        except cv2.error:
            return None
        warp = (np.linalg.inv(st) @ w_s @ st).astype(np.float32)
    return None if cc is None else float(cc)


def planarity(observations: list[FrameObservation], track: FaceTrack) -> float | None:
    """Median homography-fit correlation over consecutive frames where the face moved.

    Pairs where the face barely moved say nothing (a still head and a still photo both match
    themselves), so only pairs whose landmarks moved by ``MOVING`` count, unless fewer than three
    did; then every pair counts.
    """
    moving: list[float] = []
    still: list[float] = []
    for i in range(1, len(observations)):
        prev, cur = observations[i - 1], observations[i]
        fa, fb = track.faces[i - 1], track.faces[i]
        if fa is None or fb is None or prev.gray is None or cur.gray is None:
            continue
        moved, init = 0.0, None
        if fa.landmarks is not None and fb.landmarks is not None:
            eye = max(float(np.linalg.norm(fa.kps[1] - fa.kps[0])), 1e-6)
            moved = float(np.sqrt(((fa.landmarks - fb.landmarks) ** 2).sum(-1).mean())) / eye
            pa, pb = fa.landmarks * prev.gray_scale, fb.landmarks * cur.gray_scale
            init, _ = cv2.estimateAffine2D(pa.astype(np.float32), pb.astype(np.float32))
        cc = pair_correlation(prev.gray, cur.gray, fa.bbox * prev.gray_scale, init)
        if cc is None:
            continue
        (moving if moved >= MOVING else still).append(cc)
    use = moving if len(moving) >= 3 else moving + still
    return float(np.median(use)) if use else None
