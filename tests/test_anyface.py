""""Is this person anywhere in the photo?": every face scored, the FAR held per photo."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from faceprint.compare import FAR_LEVELS
from tests.conftest import ROOT


def test_calibration_far_and_similarity_are_inverse_and_hit_the_knots(engine):
    cal = engine.calibration_of(True)
    for level in FAR_LEVELS:
        assert cal.far_at(cal.similarity_at_far[level]) == pytest.approx(float(level), rel=1e-6)
    for far in (0.3, 1e-2, 3e-4, 2e-6, 1e-9):
        assert cal.far_at(cal.similarity_at(far)) == pytest.approx(far, rel=1e-6)
    sims = np.linspace(-0.5, 0.9, 200)
    fars = [cal.far_at(float(s)) for s in sims]
    assert all(a >= b for a, b in itertools.pairwise(fars)) and fars[0] == 1.0


def test_yao_ming_is_found_in_players_with_his_box_and_a_per_photo_far(engine, vectron):
    v = engine.compare_any(vectron / "yaoming.jpg", vectron / "players.jpg")
    faces = engine.detect(vectron / "players.jpg")
    assert v.faces == 22 and v.best == 3 and np.allclose(v.best_face.face.bbox, faces[3].bbox, atol=1.0)
    assert v.match("1e-5") and v.far_per_photo == pytest.approx(22 * v.best_face.far_per_face)
    # each face is held to FAR/22: the confidence one face needs is above the single-face threshold
    assert all(v.face_thresholds[k] > v.thresholds[k] for k in FAR_LEVELS)
    assert v.confidence < v.best_face.confidence  # the corrected score is lower than the raw one
    d = v.to_dict()
    assert d["best_face"] == 3 and "FAR/22" in d["correction"] and len(d["faces"]) == 22


def test_a_stranger_is_not_found_anywhere(engine, vectron, photos):
    v = engine.compare_any(photos / "obama.jpg", vectron / "players.jpg")
    assert not v.match("1e-3") and v.far_per_photo > 1e-3


def test_make_demo_finds_yao_ming_and_prints_a_per_photo_far(vectron):
    """The demo's own compare line (read from the Makefile) says "found", at face #3's box."""
    line = next(x for x in (ROOT / "Makefile").read_text().splitlines() if "faceprint compare" in x)
    args = line.split("faceprint compare", 1)[1].replace("$(VECTRON)", str(vectron)).split()
    args = [a for a in args if a not in ("||", "true")]
    out = subprocess.run([sys.executable, "-m", "faceprint.cli.main", "compare", *args], capture_output=True, text=True, cwd=ROOT, check=False)
    text = " ".join(out.stdout.split())
    assert out.returncode == 0, out.stdout + out.stderr
    assert "face #3 at 720,142,764,192" in text and re.search(r"per-photo FAR \d", text) and "found" in text
    js = subprocess.run([sys.executable, "-m", "faceprint.cli.main", "compare", *args, "--json"], capture_output=True, text=True, cwd=ROOT, check=False)
    body = json.loads(js.stdout)
    assert body["best_face"] == 3 and body["is_match"] and body["far_per_photo"] < 1e-5
