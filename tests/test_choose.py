"""Choosing the face: the primary-face rule, and a caller's index or box (the box is the face)."""

from __future__ import annotations

import numpy as np
import pytest

from faceprint.choose import (
    FaceChoice,
    primary_index,
    primary_weights,
    template_keypoints,
)
from faceprint.errors import BadInput, NoFaceFound
from faceprint.types import Face


def face(x1: float, y1: float, x2: float, y2: float, score: float = 0.8) -> Face:
    box = np.array([x1, y1, x2, y2], np.float32)
    return Face(bbox=box, score=score, kps=template_keypoints(box))


def test_a_centred_face_beats_a_somewhat_larger_one_at_the_edge():
    # 250x250, like LFW: the labelled person in the middle, a bigger bystander cut by the border
    centre, edge = face(95, 80, 155, 160), face(180, 60, 250, 150)
    assert edge.area > centre.area
    assert primary_index([edge, centre], 250, 250) == 1


def test_a_much_larger_face_still_wins_off_centre():
    # a portrait framed left of centre with a small face in the background at the middle
    big, small = face(20, 40, 200, 260), face(300, 130, 330, 165)
    assert primary_index([big, small], 640, 400) == 0


def test_a_weak_detection_loses_to_a_confident_one_of_the_same_size():
    a, b = face(90, 90, 150, 150, score=0.45), face(100, 100, 160, 160, score=0.85)
    assert primary_index([a, b], 250, 250) == 1
    assert primary_weights([], 10, 10).shape == (0,)
    with pytest.raises(NoFaceFound):
        primary_index([], 250, 250)


def test_face_choice_parses_an_index_or_a_box():
    assert FaceChoice.parse(None) == FaceChoice() == FaceChoice.parse(" ")
    assert FaceChoice.parse("3") == FaceChoice(index=3)
    assert FaceChoice.parse("10,20,110,140").box == (10.0, 20.0, 110.0, 140.0)
    for bad in ("x", "1,2,3", "5,5,1,1", "-1"):
        with pytest.raises(BadInput):
            FaceChoice.parse(bad)


def test_engine_chooses_by_index_by_box_and_by_rule(engine, vectron):
    img = engine.load(vectron / "players.jpg")
    faces = engine.detect(img)
    assert engine.choose(img, faces, FaceChoice(index=3)) is faces[3]
    with pytest.raises(NoFaceFound, match="22"):
        engine.choose(img, faces, FaceChoice(index=22))
    boxed = engine.choose(img, faces, FaceChoice(box=tuple(float(v) for v in faces[3].bbox)))
    assert np.allclose(boxed.bbox, faces[3].bbox) and np.abs(boxed.kps - faces[3].kps).max() < 3.0
    assert engine.choose(img, faces) is faces[primary_index(faces, img.shape[1], img.shape[0])]


def test_compare_with_a_box_is_the_face_in_the_box(engine, vectron):
    """Yao Ming is face #3 of players.jpg; naming his box (or index) compares him, the default does not."""
    faces = engine.detect(vectron / "players.jpg")
    box = FaceChoice(box=tuple(float(v) for v in faces[3].bbox))
    by_box = engine.compare(vectron / "yaoming.jpg", vectron / "players.jpg", face_b=box)
    by_index = engine.compare(vectron / "yaoming.jpg", vectron / "players.jpg", face_b=FaceChoice(index=3))
    assert by_box.match("1e-5") and by_index.match("1e-5") and abs(by_box.confidence - by_index.confidence) < 1.0
    assert not engine.compare(vectron / "yaoming.jpg", vectron / "players.jpg").match("1e-3")
