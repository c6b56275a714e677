"""Per-frame liveness signals from the 106 landmarks of InsightFace ``2d106det``.

Every signal is measured in a *face frame* built from the landmarks themselves: the origin
is the midpoint of the two eye centres, the x unit vector runs from the image-left eye centre
to the image-right eye centre, and the y unit vector runs from the eye midpoint to the top of
the upper lip (point 71). The upper lip barely moves when the jaw drops or the mouth widens,
so opening the mouth does not rescale the eyes; the mouth corners, tried first, did (a wide
open mouth read as a 10% eye closure). Coordinates in that frame are unchanged by any affine map of
the image (shift, zoom, rotation, shear, anisotropic stretch), so a still photo that is moved,
zoomed or sheared in front of the camera yields the same signals in every frame. Real heads
change them: closing the eyes shrinks the lid gap, turning the head moves the nose tip (which
sticks out of the eye-mouth plane) sideways, nodding moves it along the midline.

106-point indices used (InsightFace 2d106det mark-up; "image-left" is the subject's right):

============================  =================================================
image-left eye                corners 35, 39; upper lid 41, 40, 42; lower lid 36, 33, 37
image-right eye               corners 89, 93; upper lid 95, 94, 96; lower lid 90, 87, 91
mouth corners                 52 (image-left), 61 (image-right)
upper lip, outer top centre   71 (the face frame's y anchor)
inner lips                    upper 66, 62, 70; lower 54, 60, 57
nose tip                      86
============================  =================================================

Signals (:class:`Signals`, one row per frame):

- ``ear``: eye openness, mean of both eyes: lid gap (face-frame y) over eye width (face-frame x);
- ``mar``: mouth opening: inner-lip gap in face-frame y units (eye-to-lip distance = 1);
- ``smile``: mouth width (corner to corner) in face-frame x units (eye-centre distance = 1);
- ``yaw``: nose-tip x in the face frame; > 0 when the subject turns to *their* left (the nose
  moves towards image right), matching :class:`faceprint.types.Pose`;
- ``pitch``: nose-tip y in the face frame; grows when the head pitches down (the nose tip drops
  towards the mouth) and shrinks when it pitches up.
- ``yaw_deg``, ``pitch_deg``: head pose from PnP on the 5 keypoints, in degrees, for reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .track import FaceTrack

LEFT_EYE = {"corners": (35, 39), "upper": (41, 40, 42), "lower": (36, 33, 37)}
RIGHT_EYE = {"corners": (89, 93), "upper": (95, 94, 96), "lower": (90, 87, 91)}
MOUTH_CORNERS = (52, 61)
INNER_UPPER_LIP = (66, 62, 70)
INNER_LOWER_LIP = (54, 60, 57)
NOSE_TIP = 86
UPPER_LIP_TOP = 71

FIELDS = ("ear", "mar", "smile", "yaw", "pitch", "yaw_deg", "pitch_deg")


@dataclass(frozen=True)
class Signals:
    """Columnar per-frame signals of one face track; NaN where a frame had no landmarks."""

    t: np.ndarray  # (N,) seconds
    ear: np.ndarray
    mar: np.ndarray
    smile: np.ndarray
    yaw: np.ndarray
    pitch: np.ndarray
    yaw_deg: np.ndarray
    pitch_deg: np.ndarray

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def column(self, name: str) -> np.ndarray:
        return getattr(self, name)  # type: ignore[no-any-return]


def face_frame(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(origin, 2x2 basis) of the face frame; ``canonical(p) = inv(basis) @ (p - origin)``."""
    le = lm[list(LEFT_EYE["corners"])].mean(axis=0)
    re = lm[list(RIGHT_EYE["corners"])].mean(axis=0)
    origin = (le + re) / 2.0
    basis = np.stack([re - le, lm[UPPER_LIP_TOP] - origin], axis=1)  # columns: x axis, y axis
    return origin, basis


def canonical(lm: np.ndarray) -> np.ndarray | None:
    """The 106 landmarks in face-frame coordinates, or None when the frame is degenerate."""
    lm = np.asarray(lm, dtype=np.float64)
    origin, basis = face_frame(lm)
    if abs(np.linalg.det(basis)) < 1e-6 * max(float(np.abs(basis).max()) ** 2, 1e-12):
        return None
    return np.linalg.solve(basis, (lm - origin).T).T


def _eye_openness(c: np.ndarray, eye: dict[str, tuple[int, ...]]) -> float:
    a, b = eye["corners"]
    width = abs(float(c[b, 0] - c[a, 0]))
    gap = float(np.mean(c[list(eye["lower"]), 1] - c[list(eye["upper"]), 1]))
    return gap / max(width, 1e-6)


def frame_signals(lm: np.ndarray) -> tuple[float, float, float, float, float]:
    """(ear, mar, smile, yaw, pitch) of one face's 106 landmarks; NaNs when degenerate."""
    c = canonical(lm)
    if c is None:
        return (np.nan,) * 5
    ear = (_eye_openness(c, LEFT_EYE) + _eye_openness(c, RIGHT_EYE)) / 2.0
    mar = float(np.mean(c[list(INNER_LOWER_LIP), 1]) - np.mean(c[list(INNER_UPPER_LIP), 1]))
    smile = float(abs(c[MOUTH_CORNERS[1], 0] - c[MOUTH_CORNERS[0], 0]))
    yaw, pitch = float(c[NOSE_TIP, 0]), float(c[NOSE_TIP, 1])
    return float(ear), mar, smile, yaw, pitch


def track_signals(track: FaceTrack) -> Signals:
    """Signals for a track; NaN rows where the face was not seen or had no landmarks."""
    rows = np.full((len(track), len(FIELDS)), np.nan)
    for i, f in enumerate(track.faces):
        if f is None or f.landmarks is None:
            continue
        rows[i, :5] = frame_signals(f.landmarks)
        if f.pose is not None:
            rows[i, 5:] = (f.pose.yaw, f.pose.pitch)
    cols = {name: rows[:, k] for k, name in enumerate(FIELDS)}
    return Signals(t=np.asarray(track.times, dtype=np.float64), **cols)
