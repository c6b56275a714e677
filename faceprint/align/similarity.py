"""Pure functions: a least-squares similarity transform (Umeyama, 1991) and the aligned crop."""

from __future__ import annotations

import cv2
import numpy as np

# Where the two eyes, the nose tip and the two mouth corners land in a 112x112 ArcFace crop.
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def estimate_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 matrix M of rotation, uniform scale and translation minimising |M @ src - dst|^2."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    n = src.shape[0]
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / n
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[1] = -1.0
    rot = u @ np.diag(d) @ vt
    var_src = (src_c**2).sum() / n
    scale = (s * d).sum() / var_src if var_src > 0 else 1.0
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = dst_mean - scale * rot @ src_mean
    return m


def align_crop(img: np.ndarray, kps: np.ndarray, size: int = 112) -> np.ndarray:
    """Warp ``img`` so that the five keypoints land on the ArcFace template scaled to ``size``."""
    template = ARCFACE_TEMPLATE * (size / 112.0)
    m = estimate_similarity(kps, template)
    return cv2.warpAffine(img, m, (size, size), borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)


def align_mirrored(img: np.ndarray, kps: np.ndarray, size: int = 112) -> np.ndarray:
    """``align_crop`` of the mirrored image (see :func:`mirror`), warped from ``img`` itself.

    The mirror's transform is composed with the flip x -> w-1-x, so the same source points are
    sampled without copying the whole image once per face (a group photo has dozens)."""
    w = img.shape[1]
    m_kps = kps.copy()
    m_kps[:, 0] = w - 1 - m_kps[:, 0]
    m = estimate_similarity(m_kps[_MIRROR_ORDER], ARCFACE_TEMPLATE * (size / 112.0))
    m[:, 2] += m[:, 0] * (w - 1)  # M @ flip, with flip = [[-1, 0, w-1], [0, 1, 0]]
    m[:, 0] = -m[:, 0]
    return cv2.warpAffine(img, m, (size, size), borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)


_MIRROR_ORDER = [1, 0, 2, 4, 3]  # left/right keypoints swap places in a mirror


def mirror(img: np.ndarray, kps: np.ndarray, bbox: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The horizontally mirrored image with its face's keypoints (re-ordered) and box."""
    w = img.shape[1]
    m_kps = kps.copy()
    m_kps[:, 0] = w - 1 - m_kps[:, 0]
    x1, y1, x2, y2 = bbox
    m_box = np.array([w - 1 - x2, y1, w - 1 - x1, y2], np.float32)
    return np.ascontiguousarray(img[:, ::-1]), m_kps[_MIRROR_ORDER], m_box
