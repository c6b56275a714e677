"""``faceprint models add-pad``, ``faceprint models``, ``faceprint pad IMG...`` and ``liveness --pad minifasnet``, as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from .support import CLIPS, write_clip

BIN = [sys.executable, "-m", "faceprint.cli.main"]


def run(*args, env=None):
    e = {k: v for k, v in os.environ.items() if k != "FACEPRINT_PAD_DIR"}
    return subprocess.run([*BIN, *map(str, args)], capture_output=True, text=True, env={**e, **(env or {})}, check=False)


def test_add_pad_checks_digests_installs_and_models_lists_it(pad_models, tmp_path):
    data = tmp_path / "data"
    listed = {r["name"]: r for r in json.loads(run("models", "--json", "--data", data).stdout)}
    pad = listed["minifasnet"]
    assert pad["user_supplied"] and pad["state"] == "missing" and pad["error"] == "PAD_MODEL_NOT_INSTALLED"
    assert "Apache-2.0" in pad["licence"] and "Silent-Face-Anti-Spoofing" in pad["source"]
    assert "arcface-s" in listed  # the packs are still listed
    text = run("models", "--data", data).stdout
    assert "USER-SUPPLIED" in text and "minifasnet" in text

    bad = tmp_path / "tampered"
    shutil.copytree(pad_models, bad)
    with open(bad / "2.7_80x80_MiniFASNetV2.pth", "r+b") as fh:
        fh.seek(-100, 2)
        fh.write(b"\x00" * 8)
    r = run("models", "add-pad", bad, "--data", data, "--json")
    assert r.returncode == 2 and json.loads(r.stdout)["error_code"] == "PAD_MODEL_INTEGRITY_ERROR"
    r = run("models", "add-pad", tmp_path / "nowhere", "--data", data)
    assert r.returncode == 2 and "PAD_MODEL_NOT_INSTALLED" in r.stderr

    r = run("models", "add-pad", pad_models, "--data", data, "--json")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["installed"]) == 2
    listed = {r["name"]: r for r in json.loads(run("models", "--json", "--data", data).stdout)}
    assert listed["minifasnet"]["state"] == "installed"
    assert all(f["path"].startswith(str(data)) for f in listed["minifasnet"]["files"])


def test_pad_command_on_live_and_printed_photos(pad_data, shared, tmp_path):
    live = min((shared / "spoof" / "nuaa" / "live" / "0007").glob("*.jpg"))
    printed = min((shared / "spoof" / "nuaa" / "attack" / "0007").glob("*.jpg"))
    ok = run("pad", live, "--data", pad_data, "--json")
    assert ok.returncode == 0, ok.stderr
    row = json.loads(ok.stdout)[0]
    assert row["detector"] == "minifasnet" and not row["attack"] and row["live_probability"] > 0.5
    both = run("pad", live, printed, "--data", pad_data, "--json")
    rows = json.loads(both.stdout)
    assert both.returncode == 1 and [r["attack"] for r in rows] == [False, True]
    assert rows[1]["live_probability"] < 0.05
    missing = run("pad", live, "--data", tmp_path / "empty", "--json")
    assert missing.returncode == 2 and json.loads(missing.stdout)["error_code"] == "PAD_MODEL_NOT_INSTALLED"


def test_liveness_cli_reports_minifasnet_beside_the_challenge(pad_data, hamilton_seq, tmp_path):
    clip = CLIPS["right-mouth"]
    a, b = clip["frames"]
    path = write_clip(tmp_path / "clip.mp4", list(hamilton_seq.images[a : b + 1]))
    r = run("liveness", path, "--challenge", ",".join(clip["challenge"]), "--data", pad_data, "--json")  # --pad auto
    assert r.returncode == 0, r.stderr + r.stdout
    body = json.loads(r.stdout)
    assert body["liveness"]["passed"] and body["decision"] == "ACCEPT"
    pad = body["pad"]
    assert pad["detector"] == "minifasnet" and pad["enforced"] and not pad["attack"] and pad["live_probability"] > 0.5
