"""Face++ landmark names over the 2d106det points: 106 named points, and the 83 derived from them.

2d106det orders its points by an internal name list, not by position; the tables below were
read off the model's output on frontal faces (``tests/service/test_landmarks.py`` checks the
geometry on real photos). As in Face++, ``left``/``right`` mean the image's left and right.
The 83-point set keeps Face++'s 83 names: 19 contour points sampled from the 33, all 20 eye
points, eyebrows whose inner/outer corner is the midpoint of the 106-set's upper and lower
corner, 18 mouth points and 10 nose points. ``docs/facepp-compat.md`` lists the mapping.
"""

from __future__ import annotations

import numpy as np

_LEFT_CONTOUR = [1, 9, 10, 11, 12, 13, 14, 15, 16, 2, 3, 4, 5, 6, 7, 8]  # top (temple) to chin
_RIGHT_CONTOUR = [17, 25, 26, 27, 28, 29, 30, 31, 32, 18, 19, 20, 21, 22, 23, 24]


def _eye(side: str, base: int) -> dict[str, int]:
    # The right eye's points are the left eye's plus 54, in the same image-left-to-right roles.
    roles = {
        "bottom": 33, "center": 34, "left_corner": 35, "lower_left_quarter": 36, "lower_right_quarter": 37,
        "pupil": 38, "right_corner": 39, "top": 40, "upper_left_quarter": 41, "upper_right_quarter": 42,
    }  # fmt: skip
    return {f"{side}_eye_{k}": v + base for k, v in roles.items()}


POINTS_106: dict[str, int] = {
    "contour_chin": 0,
    **{f"contour_left{i + 1}": p for i, p in enumerate(_LEFT_CONTOUR)},
    **{f"contour_right{i + 1}": p for i, p in enumerate(_RIGHT_CONTOUR)},
    **_eye("left", 0),
    **_eye("right", 54),
    "left_eyebrow_left_corner": 43,
    "left_eyebrow_lower_left_quarter": 44,
    "left_eyebrow_lower_middle": 45,
    "left_eyebrow_lower_right_corner": 46,
    "left_eyebrow_lower_right_quarter": 47,
    "left_eyebrow_upper_left_quarter": 48,
    "left_eyebrow_upper_middle": 49,
    "left_eyebrow_upper_right_corner": 50,
    "left_eyebrow_upper_right_quarter": 51,
    "right_eyebrow_lower_left_corner": 97,
    "right_eyebrow_lower_left_quarter": 98,
    "right_eyebrow_lower_middle": 99,
    "right_eyebrow_lower_right_quarter": 100,
    "right_eyebrow_right_corner": 101,
    "right_eyebrow_upper_left_corner": 102,
    "right_eyebrow_upper_left_quarter": 103,
    "right_eyebrow_upper_middle": 104,
    "right_eyebrow_upper_right_quarter": 105,
    "mouth_left_corner": 52,
    "mouth_lower_lip_bottom": 53,
    "mouth_lower_lip_left_contour1": 54,
    "mouth_lower_lip_left_contour2": 55,
    "mouth_lower_lip_left_contour3": 56,
    "mouth_lower_lip_right_contour1": 57,
    "mouth_lower_lip_right_contour2": 58,
    "mouth_lower_lip_right_contour3": 59,
    "mouth_lower_lip_top": 60,
    "mouth_right_corner": 61,
    "mouth_upper_lip_bottom": 62,
    "mouth_upper_lip_left_contour1": 63,
    "mouth_upper_lip_left_contour2": 64,
    "mouth_upper_lip_left_contour3": 65,
    "mouth_upper_lip_left_contour4": 66,
    "mouth_upper_lip_right_contour1": 67,
    "mouth_upper_lip_right_contour2": 68,
    "mouth_upper_lip_right_contour3": 69,
    "mouth_upper_lip_right_contour4": 70,
    "mouth_upper_lip_top": 71,
    "nose_bridge1": 72,
    "nose_bridge2": 73,
    "nose_bridge3": 74,
    "nose_left_contour1": 75,
    "nose_left_contour2": 76,
    "nose_left_contour3": 77,
    "nose_left_contour4": 78,
    "nose_left_contour5": 79,
    "nose_middle_contour": 80,
    "nose_right_contour1": 81,
    "nose_right_contour2": 82,
    "nose_right_contour3": 83,
    "nose_right_contour4": 84,
    "nose_right_contour5": 85,
    "nose_tip": 86,
}

# 83 Face++ names -> one 106 index, or a pair whose midpoint is taken.
_CONTOUR_PICK = [0, 2, 4, 6, 8, 9, 11, 13, 15]  # 9 of the 16 side points, evenly from temple to chin
POINTS_83: dict[str, int | tuple[int, int]] = {
    "contour_chin": 0,
    **{f"contour_left{i + 1}": _LEFT_CONTOUR[j] for i, j in enumerate(_CONTOUR_PICK)},
    **{f"contour_right{i + 1}": _RIGHT_CONTOUR[j] for i, j in enumerate(_CONTOUR_PICK)},
    **_eye("left", 0),
    **_eye("right", 54),
    "left_eyebrow_left_corner": 43,
    "left_eyebrow_upper_left_quarter": 48,
    "left_eyebrow_upper_middle": 49,
    "left_eyebrow_upper_right_quarter": 51,
    "left_eyebrow_right_corner": (46, 50),
    "left_eyebrow_lower_left_quarter": 44,
    "left_eyebrow_lower_middle": 45,
    "left_eyebrow_lower_right_quarter": 47,
    "right_eyebrow_left_corner": (97, 102),
    "right_eyebrow_upper_left_quarter": 103,
    "right_eyebrow_upper_middle": 104,
    "right_eyebrow_upper_right_quarter": 105,
    "right_eyebrow_right_corner": 101,
    "right_eyebrow_lower_left_quarter": 98,
    "right_eyebrow_lower_middle": 99,
    "right_eyebrow_lower_right_quarter": 100,
    "mouth_left_corner": 52,
    "mouth_right_corner": 61,
    "mouth_upper_lip_top": 71,
    "mouth_upper_lip_bottom": 62,
    "mouth_lower_lip_top": 60,
    "mouth_lower_lip_bottom": 53,
    "mouth_upper_lip_left_contour1": 63,
    "mouth_upper_lip_left_contour2": 64,
    "mouth_upper_lip_left_contour3": 66,
    "mouth_upper_lip_right_contour1": 67,
    "mouth_upper_lip_right_contour2": 68,
    "mouth_upper_lip_right_contour3": 70,
    "mouth_lower_lip_left_contour1": 54,
    "mouth_lower_lip_left_contour2": 55,
    "mouth_lower_lip_left_contour3": 56,
    "mouth_lower_lip_right_contour1": 57,
    "mouth_lower_lip_right_contour2": 58,
    "mouth_lower_lip_right_contour3": 59,
    "nose_contour_left1": 75,
    "nose_contour_left2": 76,
    "nose_left": 77,
    "nose_contour_left3": 79,
    "nose_contour_lower_middle": 80,
    "nose_contour_right1": 81,
    "nose_contour_right2": 82,
    "nose_right": 83,
    "nose_contour_right3": 85,
    "nose_tip": 86,
}


def named(points: np.ndarray, scheme: int) -> dict[str, tuple[float, float]]:
    """``scheme`` 2: the 106 points by name; 1: the 83 derived points by name."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    table: dict[str, int | tuple[int, int]] = dict(POINTS_106) if scheme == 2 else POINTS_83
    out = {}
    for name, ref in table.items():
        p = pts[list(ref)].mean(axis=0) if isinstance(ref, tuple) else pts[ref]
        out[name] = (float(p[0]), float(p[1]))
    return out
