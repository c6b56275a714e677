"""Presentation attacks built from real pictures, for tests and benchmarks (bench/liveness.py).

Each returns a :class:`~.sequence.FrameSequence` the verifier must refuse:

- :func:`static_photo`: one still shown as every frame of a clip;
- :func:`synthetic_motion`: one still with smooth random shift, rotation, zoom and shear (an
  affine warp per frame), optionally a perspective tilt too, as a printed photo waved and
  tilted in front of a camera, or an app animating a still;
- :func:`splice`: the frames of one sequence followed by those of another (two people);

A replay of a clip that performs a different challenge needs no synthesis: verify the real
clip against the other challenge.
"""

from __future__ import annotations

import cv2
import numpy as np

from .sequence import FrameSequence


def static_photo(image: np.ndarray, frames: int = 45, fps: float = 15.0) -> FrameSequence:
    return FrameSequence(tuple(image for _ in range(frames)), np.arange(frames) / fps)


def _smooth_walk(rng: np.random.Generator, n: int, amplitude: float) -> np.ndarray:
    """A random curve in [-amplitude, amplitude]: a few sine components with random phase."""
    t = np.linspace(0.0, 1.0, n)
    out = np.zeros(n)
    for k in (1, 2, 3):
        out += rng.uniform(-1, 1) * np.sin(2 * np.pi * k * t + rng.uniform(0, 2 * np.pi)) / k
    return amplitude * out / max(float(np.abs(out).max()), 1e-9)


def synthetic_motion(image: np.ndarray, frames: int = 45, fps: float = 15.0, *, seed: int = 0,
                     perspective: bool = False) -> FrameSequence:  # fmt: skip
    """Shift up to 8% of the size, rotate up to 10 deg, zoom 1 -> 1.3, shear up to 0.1 (and tilt up to 25 deg)."""
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    dx, dy = _smooth_walk(rng, frames, 0.08 * w), _smooth_walk(rng, frames, 0.08 * h)
    rot = _smooth_walk(rng, frames, 10.0)
    zoom = np.linspace(1.0, 1.3, frames) * (1 + _smooth_walk(rng, frames, 0.05))
    shear = _smooth_walk(rng, frames, 0.1)
    tilt = _smooth_walk(rng, frames, np.radians(25.0)) if perspective else np.zeros(frames)
    edge = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    fill = tuple(float(v) for v in np.median(edge, axis=0))  # what is around the picture stays put
    out = []
    for i in range(frames):
        a = cv2.getRotationMatrix2D((w / 2, h / 2), float(rot[i]), float(zoom[i]))
        m = np.vstack([a, [0.0, 0.0, 1.0]])
        m = np.array([[1.0, shear[i], -shear[i] * h / 2], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]) @ m
        m[0, 2] += dx[i]
        m[1, 2] += dy[i]
        if perspective:
            m = _tilt(w, h, float(tilt[i])) @ m
        out.append(cv2.warpPerspective(image, m, (w, h), borderMode=cv2.BORDER_CONSTANT, borderValue=fill))
    return FrameSequence(tuple(out), np.arange(frames) / fps)


def _tilt(w: int, h: int, angle: float) -> np.ndarray:
    """The homography of a flat picture turned by ``angle`` about its vertical axis, seen by a pinhole camera."""
    f = float(max(w, h))
    k = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]])
    c, s = np.cos(angle), np.sin(angle)
    r = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    d = 2.0 * f  # picture plane distance, in pixels
    n = np.array([0.0, 0.0, 1.0])
    t = np.array([0.0, 0.0, 0.0])
    hom = k @ (r - np.outer(t, n) / d) @ np.linalg.inv(k)
    return np.asarray(hom / float(hom[2, 2]))


def splice(a: FrameSequence, b: FrameSequence) -> FrameSequence:
    """``a``'s frames then ``b``'s, timed as one clip at ``a``'s frame interval."""
    step = float(np.median(np.diff(a.times))) if len(a) > 1 else 1 / 15
    times = np.r_[a.times - a.times[0], a.times[-1] - a.times[0] + step + (b.times - b.times[0])]
    return FrameSequence(a.images + b.images, times)
