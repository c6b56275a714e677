"""The CLI as a user runs it: a real subprocess, real photos, exit codes and JSON."""

import json
import os
import subprocess
import sys

BIN = [sys.executable, "-m", "faceprint.cli.main"]


def run(*args, env=None):
    return subprocess.run([*BIN, *map(str, args)], capture_output=True, text=True, env={**os.environ, **(env or {})})


def test_compare_exit_codes_and_json(photos):
    same = run("compare", photos / "obama.jpg", photos / "obama2.jpg", "--json")
    assert same.returncode == 0, same.stderr
    body = json.loads(same.stdout)
    assert body["match"]["1e-5"] is True and body["confidence"] > body["thresholds"]["1e-5"]
    diff = run("compare", photos / "obama.jpg", photos / "biden.jpg")
    assert diff.returncode == 1
    assert "not the same person" in diff.stdout


def test_errors_are_codes_not_tracebacks(tmp_path, photos):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    r = run("compare", bad, photos / "obama.jpg")
    assert r.returncode == 2
    assert "IMAGE_ERROR_UNSUPPORTED_FORMAT" in r.stderr and "Traceback" not in r.stderr
    r = run("compare", photos / "obama.jpg", bad, "--json")
    assert r.returncode == 2 and json.loads(r.stdout)["error_code"] == "IMAGE_ERROR_UNSUPPORTED_FORMAT"


def test_detect_draws_and_reports(tmp_path, vectron):
    out = tmp_path / "players.png"
    r = run("detect", vectron / "players.jpg", "--json", "--landmarks", "--draw", out)
    assert r.returncode == 0, r.stderr
    faces = json.loads(r.stdout)[0]["faces"]
    assert len(faces) == 22 and len(faces[0]["landmarks"]) == 106
    assert out.stat().st_size > 100_000


def test_models_states_licences():
    r = run("models", "--json")
    packs = {p["name"]: p for p in json.loads(r.stdout)}
    assert packs["arcface-s"]["default"] and not packs["arcface-s"]["commercial_use"]
    assert "non-commercial" in packs["arcface-s"]["licence"]
    for f in packs["arcface-s"]["files"]:
        assert len(f["sha256"]) == 64 and f["bytes"] > 0
    text = run("models").stdout
    assert "non-commercial research only" in text


def test_pack_switch_by_one_setting():
    r = run("models", "--json", env={"FACEPRINT_PACK": "sface"})
    packs = {p["name"]: p for p in json.loads(r.stdout)}
    assert packs["sface"]["default"] and packs["sface"]["commercial_use"] and not packs["arcface-s"]["default"]
    assert packs["dlib"]["commercial_use"]
