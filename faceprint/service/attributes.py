"""Face++ ``return_attributes`` that our models can honestly compute, from one analysed Face.

- ``headpose``: yaw/pitch/roll from the 5 keypoints (PnP against a mean face; ``faceprint.pose``).
- ``facequality``: our 0-100 quality score; ``threshold`` is its documented enrolment gate (40).
- ``blur``: ``100 * (1 - sharpness)`` from the Laplacian variance of the aligned crop; Face++'s
  ``motionblur`` and ``gaussianblur`` carry the same number (we do not tell the kinds apart).
- ``eyestatus``: open/closed from the eye aspect ratio of the 106 landmarks. We detect no
  glasses and no occlusion: those fields are always 0 and the split is reported as
  ``no_glass_eye_open`` / ``no_glass_eye_close``.
- ``mouthstatus``: open/closed from the gap between the inner lip points over mouth width; mask
  and occlusion fields are always 0.
- ``smiling`` (returned under ``smile``, as Face++ names it): a geometric score from the 106
  landmarks (mouth width over eye distance, and how far the mouth corners rise above the lip
  midline). It is a heuristic, not a trained classifier.

Gender, age, emotion, beauty, skin status and eye gaze need models we do not ship. Asking for any
of them is ``BAD_ARGUMENTS: return_attributes``, unless the server runs with
``--lenient-attributes``: then the reply holds what we compute and names the rest in
``omitted_attributes``. ``ethnicity`` is refused in every mode. :func:`choose` is that policy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import BadInput
from ..types import Face, Quality
from .landmarks import POINTS_106 as P

NEEDS_LANDMARKS = ("eyestatus", "mouthstatus", "smiling")
SUPPORTED = ("headpose", "facequality", "blur", "eyestatus", "mouthstatus", "smiling")
NOT_COMPUTED = ("gender", "age", "emotion", "beauty", "skinstatus", "eyegaze")  # Face++ names; no model we ship
NEVER = ("ethnicity",)  # refused whatever the mode
KEY = {"smiling": "smile"}  # request name -> reply key, where Face++ spells them differently


@dataclass(frozen=True)
class Wanted:
    """What to compute, and the Face++ attributes asked for that we leave out (lenient mode)."""

    names: tuple[str, ...] = ()
    omitted: tuple[str, ...] = ()


def choose(requested: Sequence[str], *, lenient: bool) -> Wanted:
    """``return_attributes`` (lower-cased names) -> :class:`Wanted`, or BAD_ARGUMENTS: return_attributes."""
    wanted = list(dict.fromkeys(requested))
    if not wanted or wanted == ["none"]:
        return Wanted()
    supported = ",".join(SUPPORTED)
    refused = [w for w in wanted if w not in SUPPORTED and (not lenient or w not in NOT_COMPUTED)]
    if refused:
        raise BadInput(f"cannot compute {', '.join(refused)}; supported: {supported}", param="return_attributes")
    return Wanted(tuple(w for w in wanted if w in SUPPORTED), tuple(w for w in wanted if w in NOT_COMPUTED))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _d(pts: np.ndarray, a: str, b: str) -> float:
    return float(np.linalg.norm(pts[P[a]] - pts[P[b]]))


def eye_openness(pts: np.ndarray, side: str) -> float:
    """Eye height over eye width (eye aspect ratio): ~0.3 open, below ~0.12 closed."""
    e = f"{side}_eye_"
    height = (
        _d(pts, e + "top", e + "bottom")
        + _d(pts, e + "upper_left_quarter", e + "lower_left_quarter")
        + _d(pts, e + "upper_right_quarter", e + "lower_right_quarter")
    ) / 3.0
    return height / max(_d(pts, e + "left_corner", e + "right_corner"), 1e-6)


def mouth_openness(pts: np.ndarray) -> float:
    """Inner-lip gap over mouth width: 0 closed, ~0.1+ clearly open."""
    return _d(pts, "mouth_upper_lip_bottom", "mouth_lower_lip_top") / max(_d(pts, "mouth_left_corner", "mouth_right_corner"), 1e-6)


def smile_score(pts: np.ndarray) -> float:
    """0-100. Mouth width against eye distance (wide when smiling) and corner lift above the lips' midline."""
    eyes = float(np.linalg.norm(pts[P["left_eye_center"]] - pts[P["right_eye_center"]]))
    width = _d(pts, "mouth_left_corner", "mouth_right_corner") / max(eyes, 1e-6)
    mid = (pts[P["mouth_upper_lip_top"]] + pts[P["mouth_lower_lip_bottom"]]) / 2.0
    axis = pts[P["mouth_right_corner"]] - pts[P["mouth_left_corner"]]
    up = np.array([axis[1], -axis[0]]) / max(float(np.linalg.norm(axis)), 1e-6)  # perpendicular, towards the nose
    corners = (pts[P["mouth_left_corner"]] + pts[P["mouth_right_corner"]]) / 2.0
    lift = float(np.dot(corners - mid, up)) / max(eyes, 1e-6)
    return 100.0 * _sigmoid(9.0 * (width - 0.9) + 25.0 * (lift - 0.03))


def _eye_status(ratio: float) -> dict[str, float]:
    p_open = 100.0 * _sigmoid((ratio - 0.15) / 0.02)
    return {
        "occlusion": 0.0, "no_glass_eye_open": round(p_open, 3), "normal_glass_eye_close": 0.0,
        "normal_glass_eye_open": 0.0, "dark_glasses": 0.0, "no_glass_eye_close": round(100.0 - p_open, 3),
    }  # fmt: skip


def compute(face: Face, wanted: tuple[str, ...]) -> dict[str, object]:
    """The Face++ ``attributes`` object for ``wanted`` (all in :data:`SUPPORTED`), under Face++'s keys."""
    out: dict[str, object] = {}
    pts = face.landmarks
    for name in wanted:
        key = KEY.get(name, name)
        if name == "headpose" and face.pose is not None:
            p = face.pose
            out[key] = {"pitch_angle": round(p.pitch, 3), "roll_angle": round(p.roll, 3), "yaw_angle": round(p.yaw, 3)}
        elif name == "facequality" and face.quality is not None:
            out[key] = {"value": round(face.quality.score, 3), "threshold": Quality.THRESHOLD}
        elif name == "blur" and face.quality is not None:
            v = {"value": round(100.0 * (1.0 - face.quality.sharpness), 3), "threshold": 50.0}
            out[key] = {"blurness": v, "motionblur": dict(v), "gaussianblur": dict(v)}
        elif pts is None:
            continue  # landmark-based attributes need the 106 points; packs without a landmarker omit them
        elif name == "eyestatus":
            out[key] = {"left_eye_status": _eye_status(eye_openness(pts, "left")), "right_eye_status": _eye_status(eye_openness(pts, "right"))}
        elif name == "mouthstatus":
            p_open = 100.0 * _sigmoid((mouth_openness(pts) - 0.06) / 0.015)
            out[key] = {"surgical_mask_or_respirator": 0.0, "other_occlusion": 0.0, "close": round(100.0 - p_open, 3), "open": round(p_open, 3)}
        elif name == "smiling":
            out[key] = {"value": round(smile_score(pts), 3), "threshold": 50.0}
    return out
