"""The non-face gate: dogs.jpg is no face; the real faces of a crowd and of LFW stay."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from faceprint import EngineConfig, FaceEngine
from faceprint.errors import NoFaceFound
from faceprint.gate import GATES
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def dogs(shared):
    return shared / "detect" / "dlib_faces" / "dogs.jpg"


def test_a_dog_is_not_a_face(engine, dogs, photos):
    assert len(FaceEngine("arcface-s", EngineConfig(face_gate=False)).detect(dogs)) == 1  # the detector alone is fooled
    assert engine.detect(dogs) == []
    with pytest.raises(NoFaceFound):
        engine.compare(dogs, photos / "obama.jpg")
    out = subprocess.run([sys.executable, "-m", "faceprint.cli.main", "compare", str(dogs), str(photos / "obama.jpg")],
                         capture_output=True, text=True, cwd=ROOT, check=False)  # fmt: skip
    assert out.returncode == 2 and "NO_FACE_FOUND" in out.stderr


def test_a_suspect_rejected_on_its_own_norm_is_not_embedded_mirrored(engine, dogs, monkeypatch):
    rows = []
    original = engine.embedder.raw_crops

    def counting(crops):
        rows.append(len(crops))
        return original(crops)

    monkeypatch.setattr(engine.embedder, "raw_crops", counting)
    assert engine.detect(dogs) == []
    assert rows == [1, 1]  # the dog's crop passes on its own norm (18.66): its mirror's (17.15) rejects it
    rows.clear()
    img = engine.load(dogs)
    assert engine.detect(np.ascontiguousarray(img[::2, ::2])) == []
    assert rows == [1]  # at half size its own norm (18.56) is below the threshold, whatever its mirror's


def test_the_tiny_faces_of_a_crowd_and_the_gallery_faces_stay(engine, vectron, shared):
    assert len(engine.detect(vectron / "players.jpg")) == 22
    for photo, n in (("kit_with_rose.jpg", 2), ("obama_and_biden.jpg", 3), ("obama1.jpg", 1)):
        assert len(engine.detect(shared / "gallery" / "test" / photo)) == n


def test_only_low_scores_are_checked_and_the_rule_reads_quality():
    from faceprint.choose import template_keypoints
    from faceprint.types import Face, Quality

    gate = GATES["arcface-s"]
    box = np.array([0, 0, 100, 100], np.float32)
    good, blurry = Quality(80, 1, 1, 1, 1), Quality(10, 0.1, 0.1, 1, 1)
    sure = Face(bbox=box, score=0.9, kps=template_keypoints(box), quality=good)
    weak = sure.with_(score=0.6)
    assert gate.suspects([sure, weak]) == [1]
    assert gate.rejects(weak, gate.min_norm - 0.1) and not gate.rejects(weak, gate.min_norm + 0.1)
    assert not gate.rejects(weak.with_(quality=blurry), gate.min_norm - 0.1)  # blur explains a low norm
    assert gate.rejects(weak.with_(quality=blurry), gate.floor_norm - 0.1)
