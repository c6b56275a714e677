"""faceprint/boxes.py: the one IoU, read by NMS, the video tracker and the liveness face track."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faceprint.boxes import box_iou, inclusive
from faceprint.detect.base import nms
from faceprint.engine import FaceEngine


def test_box_iou() -> None:
    a = np.array([[0, 0, 10, 10], [0, 0, 0, 0]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    iou = box_iou(a, b)
    assert iou.shape == (2, 3) and iou.dtype == np.float32
    assert iou[0].tolist() == pytest.approx([1.0, 50 / 150, 0.0]) and iou[1].tolist() == [0.0, 0.0, 0.0]
    assert box_iou(a[:0], b).shape == (0, 3) and box_iou(a, b[:0]).shape == (2, 0)


def test_box_iou_is_every_pair_of_the_pairwise_formula() -> None:
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 200, (40, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(1, 80, (40, 2))], axis=1).astype(np.float32)
    a, b = boxes[:15], boxes[15:]
    matrix = box_iou(a, b)
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            w = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            h = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - w * h
            assert matrix[i, j] == pytest.approx(w * h / union, abs=1e-6)
    assert np.allclose(box_iou(b, a), matrix.T)  # symmetric
    assert np.all((matrix >= 0) & (matrix <= 1))


def test_inclusive_boxes_count_their_last_pixel() -> None:
    a = np.array([[0, 0, 9, 9]], np.float32)  # pixels 0..9: 10 wide
    b = np.array([[5, 0, 14, 9]], np.float32)
    assert box_iou(inclusive(a), inclusive(b))[0, 0] == pytest.approx(50 / 150)
    assert box_iou(a, b)[0, 0] == pytest.approx(36 / 126)


def test_nms_on_a_real_photo_keeps_one_box_per_face(photos: Path) -> None:
    face = FaceEngine("arcface-s").detect(photos / "obama.jpg")[0]
    shifted = face.bbox + np.array([3, 2, 3, 2], np.float32)  # the same face, found again a few pixels off
    far = face.bbox + np.array([400, 0, 400, 0], np.float32)
    boxes = np.stack([face.bbox, shifted, far])
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    assert box_iou(boxes[:1], boxes)[0, 0] == pytest.approx(1.0)
    assert box_iou(boxes[:1], boxes)[0, 1] > 0.8 and box_iou(boxes[:1], boxes)[0, 2] == 0.0
    assert nms(boxes, scores, 0.4).tolist() == [0, 2]
    assert nms(boxes, scores[::-1].copy(), 0.4).tolist() == [2, 1]  # the better-scored copy of the face wins
    assert nms(boxes[:0], scores[:0], 0.4).tolist() == []
