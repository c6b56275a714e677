"""Columnar detections: validated on creation, filtered with masks, built from the engine's faces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faceprint.engine import FaceEngine
from faceprint.errors import BadInput
from faceprint.video import Detections
from faceprint.video.detections import NO_TRACK


def test_from_engine_faces_and_mask_filtering(engine: FaceEngine, video_dir: Path) -> None:
    faces = engine.detect(video_dir / "stills" / "obama.jpg")
    dets = Detections.from_faces(faces)
    assert len(dets) == len(faces) >= 1
    quality = faces[0].quality
    assert quality is not None  # the engine grades every face it detects
    assert np.allclose(dets.xyxy[0], faces[0].bbox) and dets.quality[0] == pytest.approx(quality.score)
    assert dets.tracker_id.tolist() == [NO_TRACK] * len(faces) and dets.detected.all()
    big = dets[dets.width >= faces[0].width]
    assert len(big) == 1 and np.allclose(big.kps[0], faces[0].kps)
    assert len(dets[np.zeros(len(dets), bool)]) == 0
    one = dets[0]
    assert len(one) == 1 and one.face(0).bbox.tolist() == faces[0].bbox.tolist()


def test_validation_names_the_column() -> None:
    with pytest.raises(BadInput, match="confidence"):
        Detections.build(np.zeros((2, 4)), confidence=np.ones(3))
    with pytest.raises(BadInput, match="xyxy"):
        Detections(np.zeros((2, 5), np.float32), np.ones(2, np.float32), np.zeros((2, 5, 2), np.float32),
                   np.zeros(2, np.float32), np.zeros(2, np.int64), np.ones(2, bool))  # fmt: skip


def test_empty_merge_and_dict_rows() -> None:
    empty = Detections.empty()
    assert len(empty) == 0 and empty.to_list() == []
    a = Detections.build(np.array([[0, 0, 10, 10]]), np.array([0.9]), quality=np.array([50.0]))
    b = Detections.build(np.array([[5, 5, 15, 15]]), detected=np.array([False])).with_tracker_id(np.array([7]))
    both = Detections.merge([a, b])
    rows = both.to_list()
    assert len(both) == 2 and rows[0]["quality"] == 50.0 and "quality" not in rows[1]
    assert rows[1] == {"bbox": [5.0, 5.0, 15.0, 15.0], "score": 1.0, "track_id": 7, "detected": False}
