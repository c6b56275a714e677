import cv2
import numpy as np

from faceprint.align import ARCFACE_TEMPLATE, align_crop, align_mirrored, estimate_similarity, mirror


def test_similarity_recovers_known_transform():
    # template scaled by 2, rotated 30 degrees and shifted: M must undo exactly that
    theta = np.radians(30.0)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    src = (ARCFACE_TEMPLATE @ rot.T) * 2.0 + np.array([40.0, -15.0])
    m = estimate_similarity(src, ARCFACE_TEMPLATE)
    mapped = src @ m[:, :2].T + m[:, 2]
    np.testing.assert_allclose(mapped, ARCFACE_TEMPLATE, atol=1e-4)
    assert abs(np.hypot(m[0, 0], m[1, 0]) - 0.5) < 1e-6  # uniform scale 1/2


def test_golden_matrix_for_scaled_template():
    src = ARCFACE_TEMPLATE * 2.0 + np.array([10.0, 20.0])
    m = estimate_similarity(src, ARCFACE_TEMPLATE)
    np.testing.assert_allclose(m, [[0.5, 0.0, -5.0], [0.0, 0.5, -10.0]], atol=1e-5)


def test_no_reflection_even_for_mirrored_points():
    src = ARCFACE_TEMPLATE.copy()
    src[:, 0] = 112 - src[:, 0]
    m = estimate_similarity(src, ARCFACE_TEMPLATE)
    assert np.linalg.det(m[:, :2]) > 0


def test_aligned_crop_puts_the_eyes_on_the_template(engine, photos):
    img = cv2.imread(str(photos / "obama.jpg"))
    face = engine.detect(img)[0]
    crop = align_crop(img, face.kps)
    assert crop.shape == (112, 112, 3)
    # detect again on the crop padded into a larger canvas: the keypoints land on the template
    canvas = np.zeros((224, 224, 3), np.uint8)
    canvas[56:168, 56:168] = crop
    again = engine.detector.detect(canvas)[0]
    np.testing.assert_allclose(again.kps[:3] - 56.0, ARCFACE_TEMPLATE[:3], atol=4.0)  # eyes and nose
    np.testing.assert_allclose(again.kps[3:] - 56.0, ARCFACE_TEMPLATE[3:], atol=7.0)  # mouth corners move with expression


def test_the_mirrored_crop_is_warped_from_the_image_itself(engine, vectron):
    img = cv2.imread(str(vectron / "players.jpg"))
    faces = engine.detect(img)
    assert len(faces) == 22
    for f in faces:
        m_img, m_kps, _ = mirror(img, f.kps, f.bbox)
        diff = np.abs(align_mirrored(img, f.kps).astype(int) - align_crop(m_img, m_kps).astype(int))
        assert diff.max() <= 1 and (diff > 0).mean() < 0.01  # the same source points; rounding alone differs
