"""Drawn images: each face labelled with its number (as in the detect table), labels never on top of each other."""

import itertools

import cv2
import numpy as np

from faceprint.draw import _box, _text_size, draw_faces, place_labels
from test_cli import run


def test_cli_draw_labels_faces_by_their_table_number(tmp_path, vectron, engine):
    out = tmp_path / "players.png"
    r = run("detect", vectron / "players.jpg", "--draw", out)
    assert r.returncode == 0, r.stderr
    drawn = cv2.imread(str(out))
    img = engine.load(vectron / "players.jpg")
    faces = engine.detect(img)
    numbered = draw_faces(img, faces, labels=[str(i) for i in range(len(faces))])
    scored = draw_faces(img, faces, labels=[f"{f.score:.2f}" for f in faces])
    assert np.array_equal(drawn, numbered)
    assert not np.array_equal(drawn, scored)
    assert "│ 21 │" in r.stdout  # the table numbers the same 22 faces 0-21


def test_labels_do_not_overlap_in_a_crowd(vectron, engine):
    img = engine.load(vectron / "players.jpg")
    faces = engine.detect(img)
    assert len(faces) == 22
    thick = max(1, round(max(img.shape[:2]) / 500))
    boxes = [_box(f) for f in faces]
    for texts in ([str(i) for i in range(22)], [f"{i} alex_lacamoire 91" for i in range(22)]):  # numbers, and names as identify draws
        sizes = [_text_size(t, 0.4 * thick) for t in texts]
        naive = [(x1, y1 - h, x1 + w, y1) for (x1, y1, _, _), (w, h) in zip(boxes, sizes, strict=True)]  # each label at its box's corner
        rects = place_labels(boxes, sizes, (img.shape[1], img.shape[0]))
        assert not [(a, b) for a, b in itertools.combinations(rects, 2) if _meet(a, b)]
        for (x1, y1, x2, y2), (w, h) in zip(rects, sizes, strict=True):
            assert x1 >= 0 and x2 <= img.shape[1] and y1 >= 0 and y2 <= img.shape[0] and (x2 - x1, y2 - y1) == (w, h)
    assert sum(_meet(a, b) for a, b in itertools.combinations(naive, 2)) > 5  # names at the corners would collide


def _meet(a, b):
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])
