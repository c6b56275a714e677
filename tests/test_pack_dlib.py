"""The 'dlib' pack (HOG + 5-point shapes + ResNet, commercial use allowed) on real photos."""

from __future__ import annotations

from pathlib import Path

import cv2
import dlib
import numpy as np
import pytest

from faceprint import FaceEngine
from faceprint.detect.dlib_hog import margin_to_score, score_to_margin
from faceprint.detect.dlib_shape import bbox, rect, to_rgb
from faceprint.errors import ModelError
from faceprint.models.packs import get_pack
from lfw_support import lfw_pairs


@pytest.fixture(scope="module")
def dlib_engine() -> FaceEngine:
    return FaceEngine("dlib")


def test_pack_is_registered_for_commercial_use():
    pack = get_pack("dlib")
    assert pack.commercial and pack.dim == 128
    assert "public domain" in pack.licence
    assert not any("68" in mf.name for mf in pack.files.values())
    for mf in pack.files.values():
        assert mf.path().is_file()  # located with find_spec and sha256-checked


def test_score_mapping_puts_dlib_threshold_at_one_half():
    assert margin_to_score(0.0) == 0.5
    assert margin_to_score(-1.0) < margin_to_score(0.5) < margin_to_score(2.0) < 1.0
    for s in (0.1, 0.5, 0.9):
        assert abs(margin_to_score(score_to_margin(s)) - s) < 1e-9


def test_boxes_convert_exactly_both_ways():
    r = dlib.rectangle(67, 92, 175, 199)
    back = rect(dlib, bbox(r))
    assert (back.left(), back.top(), back.right(), back.bottom()) == (67, 92, 175, 199)


def test_yaoming_keypoints_and_embedding(dlib_engine: FaceEngine, vectron: Path):
    (yao,) = dlib_engine.embed(vectron / "yaoming.jpg")
    assert yao.embedding is not None and yao.embedding.shape == (128,)
    assert abs(float(np.linalg.norm(yao.embedding)) - 1.0) < 1e-5
    assert 0.5 < yao.score <= 1.0
    k = yao.kps
    x1, y1, x2, y2 = yao.bbox
    assert np.all((k[:, 0] > x1) & (k[:, 0] < x2) & (k[:, 1] > y1) & (k[:, 1] < y2 + 0.1 * (y2 - y1)))
    assert k[0, 0] < k[2, 0] < k[1, 0] and k[3, 0] < k[4, 0]  # image-left before image-right
    assert max(k[0, 1], k[1, 1]) < k[2, 1] < min(k[3, 1], k[4, 1])  # eyes, nose, mouth downwards
    assert yao.pose is not None and abs(yao.pose.yaw) < 25 and abs(yao.pose.roll) < 15


def test_embedding_is_dlibs_own_descriptor(dlib_engine: FaceEngine, vectron: Path):
    """Same as dlib's compute_face_descriptor on the shape predictor output, then L2-normalised."""
    img = cv2.imread(str(vectron / "yaoming.jpg"))
    face = dlib_engine.detector.detect(img)[0]
    rgb = to_rgb(img)
    pack = get_pack("dlib")
    sp = dlib.shape_predictor(str(pack.files["landmarks5"].path()))
    net = dlib.face_recognition_model_v1(str(pack.files["embedder"].path()))
    want = np.asarray(net.compute_face_descriptor(rgb, sp(rgb, rect(dlib, face.bbox))))
    got = dlib_engine.embedder.embed([(img, face)])[0]
    np.testing.assert_allclose(got, want / np.linalg.norm(want), atol=1e-5)


def test_yaoming_ranks_first_among_the_players(dlib_engine: FaceEngine, vectron: Path):
    yao = dlib_engine.embed(vectron / "yaoming.jpg")[0].embedding
    players = dlib_engine.embed(vectron / "players.jpg")
    assert len(players) >= 12  # HOG finds 16 of the 22 faces
    sims = [float(f.embedding @ yao) for f in players]
    best = players[int(np.argmax(sims))]
    cx, cy = (best.bbox[:2] + best.bbox[2:]) / 2
    assert 721 < cx < 762 and 141 < cy < 192  # where SFace and ArcFace put him


def test_faces_found_in_lfw(dlib_engine: FaceEngine, shared: Path):
    paths = sorted((shared / "lfw" / "images").glob("C*/*_0001.jpg"))[:30]
    found = dlib_engine.detector.detect_batch([cv2.imread(str(p)) for p in paths])
    assert sum(bool(f) for f in found) >= 28  # HOG misses about 1% of LFW
    for faces in found:
        for f in faces:
            assert f.kps[0, 0] < f.kps[1, 0] and f.kps[3, 0] < f.kps[4, 0]


def test_same_person_scores_far_above_different_people(dlib_engine: FaceEngine, shared: Path):
    same, diff = lfw_pairs(shared, 5)

    def sim(a: Path, b: Path) -> float:
        ea, eb = dlib_engine.embed(a)[0].embedding, dlib_engine.embed(b)[0].embedding
        return float(ea @ eb)

    s = [sim(a, b) for a, b in same]
    d = [sim(a, b) for a, b in diff]
    # dlib's descriptors share a large common component: cosines bunch up near 1.
    assert min(s) > max(d) + 0.04, (s, d)
    dist_same = np.sqrt(2 - 2 * np.array(s))
    dist_diff = np.sqrt(2 - 2 * np.array(d))
    assert dist_diff.mean() > 1.4 * dist_same.mean()


def test_embedding_batch_over_several_images(dlib_engine: FaceEngine, vectron: Path, shared: Path):
    imgs = [cv2.imread(str(vectron / "yaoming.jpg")), cv2.imread(str(shared / "lfw/images/Abdullah/Abdullah_0001.jpg"))]
    faces = [dlib_engine.detector.detect(im)[0] for im in imgs]
    together = dlib_engine.embedder.embed(list(zip(imgs, faces, strict=True)))
    alone = np.stack([dlib_engine.embedder.embed([(im, f)])[0] for im, f in zip(imgs, faces, strict=True)])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert dlib_engine.embedder.embed([]).shape == (0, 128)


def test_mmod_detector_is_an_option(monkeypatch: pytest.MonkeyPatch, shared: Path):
    monkeypatch.setenv("FACEPRINT_DLIB_DETECTOR", "mmod")
    monkeypatch.setenv("FACEPRINT_DLIB_UPSAMPLE", "0")  # about 1 s on a 250x250 image here
    detector = get_pack("dlib").build().detector
    assert detector.name == "dlib-mmod"
    (face,) = detector.detect(cv2.imread(str(shared / "lfw/images/Abdullah/Abdullah_0001.jpg")))
    assert face.score > 0.5 and 60 < face.width < 160
    assert face.kps[0, 0] < face.kps[1, 0] and face.kps[3, 0] < face.kps[4, 0]


def test_unknown_detector_option_is_an_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FACEPRINT_DLIB_DETECTOR", "yolo")
    with pytest.raises(ModelError):
        get_pack("dlib").build()
    monkeypatch.setenv("FACEPRINT_DLIB_DETECTOR", "hog")
    monkeypatch.setenv("FACEPRINT_DLIB_UPSAMPLE", "two")
    with pytest.raises(ModelError):
        get_pack("dlib").build()
