"""Head pose (yaw, pitch, roll in degrees) from the five keypoints, by PnP against a mean 3D face."""

from __future__ import annotations

import cv2
import numpy as np

from .types import Pose

# A generic adult face in millimetres, x to the image right, y up, z towards the camera:
# image-left eye, image-right eye, nose tip, image-left and image-right mouth corners.
_MODEL = np.array(
    [
        [-32.0, 35.0, -28.0],
        [32.0, 35.0, -28.0],
        [0.0, 0.0, 0.0],
        [-26.0, -32.0, -25.0],
        [26.0, -32.0, -25.0],
    ],
    dtype=np.float64,
)


def estimate_pose(kps: np.ndarray, image_size: tuple[int, int]) -> Pose:
    """``image_size`` is (width, height). Yaw > 0: the subject turns to their left (towards image right)."""
    w, h = image_size
    f = float(max(w, h))
    cam = np.array([[f, 0, w / 2.0], [0, f, h / 2.0], [0, 0, 1]], dtype=np.float64)
    pts = np.asarray(kps, dtype=np.float64).reshape(5, 2)
    # The model's y is up; the image's y is down: flip the model so the solver works in image axes.
    model = _MODEL * np.array([1.0, -1.0, -1.0])
    # EPnP alone, on five near-planar points, lands between mirror solutions (a face and its mirror
    # image differed by up to 50 degrees of yaw); a Levenberg-Marquardt refinement settles it.
    # (SQPnP agrees, but asserts on faces only a few pixels wide.)
    ok, rvec, tvec = cv2.solvePnP(model, pts, cam, None, flags=cv2.SOLVEPNP_EPNP)
    if not ok:
        return Pose(0.0, 0.0, _roll(pts))
    rvec, _ = cv2.solvePnPRefineLM(model, pts, cam, None, rvec, tvec)
    rot, _ = cv2.Rodrigues(rvec)
    pitch, yaw, _ = cv2.RQDecomp3x3(rot)[0]
    pitch = (pitch + 180.0) % 360.0 - 180.0
    return Pose(yaw=float(-yaw), pitch=float(-pitch), roll=float(_roll(pts)))


def _roll(pts: np.ndarray) -> float:
    dx, dy = pts[1] - pts[0]
    return float(np.degrees(np.arctan2(dy, dx)))
