"""FaceEngine on real photos: detection, landmarks, pose, quality, embeddings and 1:1 decisions."""

import cv2
import numpy as np
import pytest

from faceprint import EngineConfig, FaceEngine
from faceprint.errors import ModelNotFound


def test_detects_every_player(engine, vectron):
    faces = engine.detect(vectron / "players.jpg")
    assert len(faces) == 22
    areas = [f.area for f in faces]
    assert areas == sorted(areas, reverse=True)  # largest first
    for f in faces:
        assert f.bbox.shape == (4,) and f.kps.shape == (5, 2) and 0.5 <= f.score <= 1.0
        x1, _, x2, _ = f.bbox
        assert (x1 <= f.kps[:, 0]).all() and (f.kps[:, 0] <= x2).all()
        assert f.kps[0, 0] < f.kps[1, 0]  # image-left eye first


def test_landmarks_lie_on_the_face(engine, photos):
    face = engine.analyze(photos / "obama.jpg")[0]
    assert face.landmarks.shape == (106, 2)
    x1, y1, x2, y2 = face.bbox
    inside = (face.landmarks[:, 0] > x1 - 10) & (face.landmarks[:, 0] < x2 + 10)
    inside &= (face.landmarks[:, 1] > y1 - 10) & (face.landmarks[:, 1] < y2 + 10)
    assert inside.mean() > 0.95
    assert face.embedding.shape == (512,) and abs(np.linalg.norm(face.embedding) - 1) < 1e-4


def test_pose_flips_sign_with_a_mirror(engine, vectron):
    img = engine.load(vectron / "gdp.jpg")
    turned = max(engine.detect(img), key=lambda f: abs(f.pose.yaw))
    assert abs(turned.pose.yaw) > 15
    mirrored = engine.detect(np.ascontiguousarray(img[:, ::-1]))
    cx = img.shape[1] - (turned.bbox[0] + turned.bbox[2]) / 2
    twin = min(mirrored, key=lambda f: abs((f.bbox[0] + f.bbox[2]) / 2 - cx))
    assert np.sign(twin.pose.yaw) == -np.sign(turned.pose.yaw)
    assert abs(abs(twin.pose.yaw) - abs(turned.pose.yaw)) < 8


def test_quality_drops_with_blur_and_darkness(engine, photos):
    img = engine.load(photos / "obama.jpg")
    sharp = engine.detect(img)[0].quality
    blurred = engine.detect(cv2.GaussianBlur(img, (0, 0), 6))[0].quality
    dark = engine.detect((img * 0.12).astype(np.uint8))[0].quality
    assert sharp.acceptable and sharp.score > 60
    assert blurred.score < sharp.score - 15 and blurred.sharpness < sharp.sharpness
    assert dark.score < sharp.score - 15 and dark.brightness < sharp.brightness


def test_same_and_different_person(engine, photos):
    same = engine.compare(photos / "obama.jpg", photos / "obama2.jpg")
    diff = engine.compare(photos / "obama.jpg", photos / "biden.jpg")
    assert same.match("1e-5") and same.confidence > same.thresholds["1e-5"]
    assert not diff.match("1e-3") and diff.confidence < diff.thresholds["1e-3"]
    assert set(same.thresholds) == {"1e-3", "1e-4", "1e-5"}


def test_confidence_is_monotonic_in_similarity(engine):
    sims = np.linspace(-1, 1, 2001)
    conf = engine.calibration.confidence(sims)
    assert conf[0] == 0 and conf[-1] == 100 and (np.diff(conf) > 0).all()


def test_compare_reports_face_counts_and_uses_the_largest(engine, vectron):
    v = engine.compare(vectron / "yaoming.jpg", vectron / "players.jpg")
    assert (v.faces_a, v.faces_b) == (1, 22)


def test_yaoming_is_found_among_the_players(engine, vectron):
    probe = engine.embed(vectron / "yaoming.jpg")[0].embedding
    sims = sorted((float(f.embedding @ probe) for f in engine.embed(vectron / "players.jpg")), reverse=True)
    assert sims[0] > 0.5 and sims[1] < 0.3


def test_batch_equals_single(engine, photos):
    paths = [photos / "obama.jpg", photos / "biden.jpg", photos / "obama2.jpg"]
    batch = engine.embed_batch(paths)
    for path, faces in zip(paths, batch, strict=True):
        single = engine.embed(path)
        assert len(single) == len(faces)
        np.testing.assert_allclose(single[0].embedding, faces[0].embedding, atol=1e-4)


def test_min_face_filter(vectron):
    small = FaceEngine("arcface-s", EngineConfig(min_face=45))
    assert 0 < len(small.detect(vectron / "players.jpg")) < 22


def test_unknown_pack_is_a_clear_error():
    with pytest.raises(ModelNotFound) as e:
        FaceEngine("no-such-pack")
    assert "arcface-s" in e.value.message


def test_flip_fusion_uses_its_own_calibration(photos):
    flip = FaceEngine("arcface-s", EngineConfig(flip=True))
    assert flip.calibration_key() == flip.calibration_key(True) == "arcface-s+flip"
    plain = FaceEngine("arcface-s", EngineConfig(flip=False))
    assert plain.calibration_key(True) == "arcface-s"
    assert flip.calibration.similarity_at_far != plain.calibration.similarity_at_far
    same = flip.compare(photos / "obama.jpg", photos / "obama2.jpg")
    diff = flip.compare(photos / "obama.jpg", photos / "biden.jpg")
    assert same.match("1e-5") and not diff.match("1e-3")


def test_one_to_one_templates_are_flip_fused_by_default_and_gallery_ones_are_not(photos):
    engine = FaceEngine("arcface-s")
    assert engine.calibration_key(True) == "arcface-s+flip" and engine.calibration_key() == "arcface-s"
    fused, _ = engine.template(photos / "obama.jpg")
    plain, _ = engine.template(photos / "obama.jpg", one_to_one=False)
    (batch,) = engine.embed(photos / "obama.jpg")
    np.testing.assert_allclose(plain.embedding, batch.embedding, atol=1e-5)
    assert 0.9 < float(fused.embedding @ plain.embedding) < 0.9999  # the mirror image really went in
    v = engine.compare(photos / "obama.jpg", photos / "obama2.jpg")
    assert v.similarity > 0.5 and v.confidence == engine.calibration_of(True).confidence(v.similarity)
    assert engine.calibration_of(True).similarity_at_far != engine.calibration.similarity_at_far
    # a ready-made (gallery-style) Face on one side: the other side is embedded the same way
    mixed = engine.compare(batch, photos / "obama2.jpg")
    assert mixed.confidence == engine.calibration.confidence(mixed.similarity)
    assert FaceEngine("dlib").calibration_key(True) == "dlib"


def test_face_at_takes_the_box_as_the_face(engine, photos):
    """Face++ ``face_rectangle``: no detection; keypoints, pose, quality and template come from the box."""
    img = engine.load(photos / "obama.jpg")
    detected = engine.analyze(img)[0]
    boxed = engine.face_at(img, detected.bbox)
    assert np.allclose(boxed.bbox, detected.bbox) and boxed.score == 1.0
    assert np.abs(boxed.kps - detected.kps).max() < 0.05 * detected.width  # the landmarker's eyes, nose, mouth
    assert boxed.landmarks.shape == (106, 2) and boxed.pose is not None and boxed.quality is not None
    assert float(boxed.embedding @ detected.embedding) > 0.9
    # a box where the detector finds nothing is still the face the caller named
    corner = engine.face_at(img, (80, 70, 180, 170))
    assert corner.embedding.shape == detected.embedding.shape and float(corner.embedding @ detected.embedding) < 0.5
    from faceprint.errors import BadInput

    with pytest.raises(BadInput):
        engine.face_at(img, (800, 1000, 1000, 1200))  # past the right edge of the 910-pixel-wide photo
