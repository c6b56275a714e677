"""The 'sface' pack (YuNet + SFace, commercial use allowed) on real photos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest

from faceprint import FaceEngine
from faceprint.detect.yunet import YuNet
from faceprint.embed.sface import sface_graph
from faceprint.models.onnx import make_session
from faceprint.models.packs import get_pack
from lfw_support import lfw_pairs


@pytest.fixture(scope="module")
def sface() -> FaceEngine:
    return FaceEngine("sface")


def test_pack_is_registered_for_commercial_use():
    pack = get_pack("sface")
    assert pack.commercial and pack.dim == 128
    assert "MIT" in pack.licence and "Apache-2.0" in pack.licence
    for mf in pack.files.values():
        assert mf.path().is_file()  # located with find_spec and sha256-checked


def test_repaired_graph_runs_on_onnxruntime_and_opencv():
    path = get_pack("sface").files["embedder"].path()
    assert len(onnx.load(str(path)).graph.input) > 1  # the shipped file is unchanged
    fixed = sface_graph(path)
    assert [i.name for i in onnx.load_from_string(fixed).graph.input] == ["data"]
    x = np.full((2, 3, 112, 112), 127.0, dtype=np.float32)  # dynamic batch
    assert make_session(fixed, 1).run(None, {"data": x})[0].shape == (2, 128)
    rec = cv2.FaceRecognizerSF.create("onnx", np.frombuffer(fixed, np.uint8), np.zeros(0, np.uint8))
    assert rec.feature(np.zeros((112, 112, 3), np.uint8)).shape == (1, 128)


def test_yaoming_is_found_among_the_players(sface: FaceEngine, vectron: Path):
    (yao,) = sface.embed(vectron / "yaoming.jpg")
    assert yao.embedding is not None and yao.embedding.shape == (128,)
    assert abs(float(np.linalg.norm(yao.embedding)) - 1.0) < 1e-5
    players = sface.embed(vectron / "players.jpg")
    assert len(players) >= 20
    sims = np.sort([float(f.embedding @ yao.embedding) for f in players])[::-1]
    assert 0.65 < sims[0] < 0.78  # MODELS.md: 0.71
    assert sims[1] < 0.4  # next best about 0.30


def test_matches_opencv_reference_pipeline_at_native_size(shared: Path):
    """At scale 1 our YuNet and SFace give what cv2.FaceDetectorYN + alignCrop + feature give."""
    pack = get_pack("sface")
    ours = YuNet(pack.files["detector"].path(), det_size=250)
    ref = cv2.FaceDetectorYN.create(str(pack.files["detector"].path()), "", (250, 250), 0.5, 0.3, 5000)
    fixed = sface_graph(pack.files["embedder"].path())
    rec = cv2.FaceRecognizerSF.create("onnx", np.frombuffer(fixed, np.uint8), np.zeros(0, np.uint8))
    engine = FaceEngine("sface")
    for path in sorted((shared / "lfw" / "images" / "Aaron_Peirsol").glob("*.jpg"))[:3]:
        img = cv2.imread(str(path))
        _, rows = ref.detect(img)
        best = rows[np.argmax(rows[:, 14])]
        face = ours.detect(img)[0]
        np.testing.assert_allclose(face.bbox, [*best[:2], *(best[:2] + best[2:4])], atol=0.05)
        np.testing.assert_allclose(face.kps, best[4:14].reshape(5, 2), atol=0.05)
        assert abs(face.score - best[14]) < 1e-4
        want = rec.feature(rec.alignCrop(img, best)).reshape(-1)
        got = engine.embedder.embed([(img, face)])[0]
        assert float(got @ want / np.linalg.norm(want)) > 0.9999


def test_faces_found_in_lfw_with_sane_keypoints(sface: FaceEngine, shared: Path):
    paths = sorted((shared / "lfw" / "images").glob("B*/*_0001.jpg"))[:48]
    batch = sface.detector.detect_batch([cv2.imread(str(p)) for p in paths])
    assert all(batch), [p.name for p, faces in zip(paths, batch, strict=True) if not faces]
    for faces in batch:
        k = max(faces, key=lambda f: f.area).kps
        assert k[0, 0] < k[1, 0] and k[3, 0] < k[4, 0]  # image-left before image-right
        assert max(k[0, 1], k[1, 1]) < k[2, 1] < min(k[3, 1], k[4, 1])  # eyes, nose, mouth downwards


def test_detect_batch_agrees_with_detect(sface: FaceEngine, vectron: Path, shared: Path):
    imgs = [cv2.imread(str(vectron / "yaoming.jpg")), cv2.imread(str(vectron / "gdp.jpg"))]
    imgs += [cv2.imread(str(p)) for p in sorted((shared / "lfw" / "images" / "Abdullah").glob("*.jpg"))[:3]]
    for single, batched in zip([sface.detector.detect(im) for im in imgs], sface.detector.detect_batch(imgs), strict=True):
        assert len(single) == len(batched)
        for a, b in zip(single, batched, strict=True):
            np.testing.assert_allclose(a.bbox, b.bbox, atol=1e-2)
            np.testing.assert_allclose(a.kps, b.kps, atol=1e-2)


def test_same_person_scores_far_above_different_people(sface: FaceEngine, shared: Path):
    same, diff = lfw_pairs(shared, 6)

    def sim(a: Path, b: Path) -> float:
        ea, eb = sface.embed(a)[0].embedding, sface.embed(b)[0].embedding
        return float(ea @ eb)

    s = [sim(a, b) for a, b in same]
    d = [sim(a, b) for a, b in diff]
    assert min(s) > max(d) + 0.25, (s, d)
    assert np.mean(s) - np.mean(d) > 0.5


def test_no_faces_gives_empty_results(sface: FaceEngine):
    assert sface.detector.detect(np.zeros((240, 320, 3), np.uint8)) == []
    assert sface.embedder.embed([]).shape == (0, 128)


def test_commercial_pack_decides_like_the_default(sface: FaceEngine, photos: Path):
    same = sface.compare(photos / "obama.jpg", photos / "obama2.jpg")
    diff = sface.compare(photos / "obama.jpg", photos / "biden.jpg")
    assert same.match("1e-5")
    assert not diff.match("1e-3")
