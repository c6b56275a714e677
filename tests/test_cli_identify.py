"""``faceprint identify``: every face of every photo named against a gallery, drawn with names."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import pytest

from tests.conftest import ROOT


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "faceprint.cli.main", *args], capture_output=True, text=True, cwd=ROOT, check=False)


@pytest.fixture(scope="module")
def data(tmp_path_factory, shared):
    d = tmp_path_factory.mktemp("identify")
    assert run("gallery", "create", "demo", "--data", str(d)).returncode == 0
    assert run("enroll", "demo", str(shared / "gallery" / "train"), "--data", str(d)).returncode == 0
    return d


def test_every_face_of_each_probe_is_named_and_drawn(data, shared, tmp_path):
    test = shared / "gallery" / "test"
    photos = [test / "kit_with_rose.jpg", test / "obama_and_biden.jpg", test / "obama1.jpg"]
    out = run("identify", *map(str, photos), "--gallery", "demo", "--data", str(data), "--json", "--top", "2")
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    known = [sorted(f["subject"] for f in r["faces"] if f["subject"] != "unknown") for r in body]
    assert known == [["kit_harington", "rose_leslie"], ["biden", "obama"], ["obama"]]
    assert all(len(f["results"]) <= 2 for r in body for f in r["faces"])
    drawn = tmp_path / "drawn"
    text = run("identify", *map(str, photos), "--gallery", "demo", "--data", str(data), "--draw", str(drawn))
    assert text.returncode == 0 and "rose_leslie" in text.stdout and "unknown" in text.stdout  # the girl at the edge
    img = cv2.imread(str(drawn / "kit_with_rose.png"))
    assert img is not None and img.shape == cv2.imread(str(photos[0])).shape


def test_an_unknown_face_exits_1_and_errors_exit_2(data, photos, vectron):
    stranger = run("identify", str(vectron / "yaoming.jpg"), "--gallery", "demo", "--data", str(data), "--json")
    assert stranger.returncode == 1 and [f["subject"] for f in json.loads(stranger.stdout)[0]["faces"]] == ["unknown"]
    out = run("identify", str(photos / "biden.jpg"), "--gallery", "nobody", "--data", str(data))
    assert out.returncode == 2 and "INVALID_FACESET_TOKEN" in out.stderr
