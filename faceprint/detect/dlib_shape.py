"""dlib's 5-point shape predictor, shared by the dlib detector and the dlib embedder.

The predictor marks both corners of each eye and the base of the nose (subnasale):
points 0-1 are the image-right eye (outer, inner), 2-3 the image-left eye, 4 the nose base.
Our :class:`~faceprint.types.Face` wants eye centres, the nose tip and the mouth corners, so
:meth:`FivePoint.kps` derives them:

- eye centres: the mean of each eye's two corners;
- nose tip and mouth corners: fixed coefficients in the face's own frame, with origin ``e``
  (the midpoint of the eyes), ``u`` (left eye centre to right eye centre), ``v`` (``e`` to
  the nose base) and ``p`` (``u`` turned 90 degrees, pointing down the face):
  point = e + a*u + b*v + c*p. The coefficients were fitted by least squares to YuNet's
  keypoints on 300 LFW images; the mean error is about 4.6 px for the nose tip and 4.8 px
  for the mouth corners at a 41 px inter-ocular distance (about 12%). ``v`` carries yaw and
  pitch, so the estimates follow the head partly; they are good enough for pose, quality and
  alignment, not for expression.

The full detection (box plus the five raw points) is what dlib's embedder needs. It is not
stored on the Face (dlib types never leave these modules): the embedder re-runs the
predictor on the face's box, which takes about 0.2 ms and, the box being the same, gives
exactly the same points. :func:`rect` and :func:`bbox` convert boxes exactly both ways.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelNotFound

# (a, b, c) for the nose tip and the image-left and image-right mouth corners.
_NOSE = (0.0, 1.17, -0.30)
_MOUTH_LEFT = (-0.45, 0.36, 0.81)
_MOUTH_RIGHT = (0.45, 0.36, 0.81)


def import_dlib() -> Any:
    try:
        import dlib
    except ImportError:
        raise ModelNotFound("dlib is not installed: `pip install dlib-bin==20.0.1.post1`", package="dlib-bin") from None
    return dlib


def to_rgb(img: np.ndarray) -> np.ndarray:
    """dlib wants contiguous RGB uint8; our images are BGR."""
    return np.ascontiguousarray(img[:, :, ::-1])


def rect(dlib: Any, box: np.ndarray) -> Any:
    """xyxy (exclusive right/bottom) -> dlib.rectangle (inclusive right/bottom)."""
    x1, y1, x2, y2 = (round(float(v)) for v in box)
    return dlib.rectangle(x1, y1, max(x1, x2 - 1), max(y1, y2 - 1))


def bbox(r: Any, scale: float = 1.0) -> np.ndarray:
    """dlib.rectangle found on an image resized by ``scale`` -> xyxy in source pixels."""
    return np.array([r.left(), r.top(), r.right() + 1, r.bottom() + 1], dtype=np.float32) / scale


class FivePoint:
    def __init__(self, path: Path) -> None:
        self._dlib = import_dlib()
        self._predictor = self._dlib.shape_predictor(str(path))
        self._lock = threading.Lock()

    def shape(self, rgb: np.ndarray, box: np.ndarray) -> Any:
        """The dlib full_object_detection for the face in ``box`` (xyxy) of an RGB image."""
        with self._lock:
            return self._predictor(rgb, rect(self._dlib, box))

    def shapes(self, rgb: np.ndarray, boxes: list[np.ndarray]) -> Any:
        out = self._dlib.full_object_detections()
        for box in boxes:
            out.append(self.shape(rgb, box))
        return out

    @staticmethod
    def kps(shape: Any) -> np.ndarray:
        """(5, 2) float32 in our order: image-left eye, image-right eye, nose tip, mouth left, mouth right."""
        pts = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
        left_eye, right_eye = pts[2:4].mean(axis=0), pts[0:2].mean(axis=0)
        e = (left_eye + right_eye) / 2.0
        u = right_eye - left_eye
        v = pts[4] - e
        p = np.array([-u[1], u[0]])

        coef = np.array([_NOSE, _MOUTH_LEFT, _MOUTH_RIGHT])  # (3, 3): a, b, c per derived point
        derived = e + coef @ np.stack([u, v, p])
        return np.vstack([left_eye, right_eye, derived]).astype(np.float32)
