"""Passive detectors: the plug-in registry, and what the glare cue does on real samples."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceprint.errors import FaceprintError
from faceprint.liveness.pad import DEFAULT_DETECTOR, PADDetector, available, get_detector, register


def test_registry_lists_builds_and_refuses_unknown_names():
    assert {"glare", "moire"} <= set(available()) and DEFAULT_DETECTOR == "glare"
    assert isinstance(get_detector("glare"), PADDetector)
    with pytest.raises(FaceprintError) as exc:
        get_detector("deep-magic")
    assert exc.value.code == "UNKNOWN_PAD_DETECTOR" and exc.value.http_status == 400


def test_a_plugin_registers_and_scores_clips_by_median(engine, shared):
    class Brightness(PADDetector):
        name, threshold = "test-brightness", 0.5

        def score_crop(self, crop):
            return float(crop.mean() / 255)

    register(Brightness.name, Brightness)
    det = get_detector("test-brightness")
    img = cv2.imread(str(shared / "video" / "stills" / "obama.jpg"))
    face = engine.detect(img)[0]
    white = np.full_like(img, 255)
    res = det.score_frames([img, img, white, img], [face, face, face, None])
    assert res.frames == 3 and res.score == pytest.approx(det.score_frames([img], [face]).score)
    assert res.to_dict()["attack"] == res.attack


@pytest.mark.parametrize(
    "folder, name, attack",
    [
        ("real", "liveness2_10.png", False),
        ("real", "liveness2_140.png", False),
        ("fake", "liveness2_58.png", True),  # a phone replay: the screen's glare saturates the face
        ("fake", "liveness2_102.png", True),
        ("fake", "silentface_image_F1.jpg", False),  # a matte print: glare cannot see it (a documented miss)
    ],
)
def test_glare_on_real_samples(engine, shared, folder, name, attack):
    img = cv2.imread(str(shared / "spoof" / folder / name))
    faces = engine.detect(img)
    det = get_detector("glare")
    result = det.score_frames([img], faces[:1])
    assert 0.0 <= result.score <= 1.0 and result.attack is attack


def test_moire_scores_are_bounded(engine, shared):
    det = get_detector("moire")
    for folder in ("real", "fake"):
        for path in sorted((shared / "spoof" / folder).glob("liveness2_1*.png"))[:3]:
            img = cv2.imread(str(path))
            assert 0.0 <= det.score_crop(img) <= 1.0
