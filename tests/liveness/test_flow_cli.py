"""The FaceID flow in process, and ``faceprint liveness CLIP --challenge ...`` as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from faceprint.liveness import Action, SessionStore
from faceprint.liveness.errors import NonceReused
from faceprint.liveness.flow import FaceIDFlow, FlowConfig

from .support import CLIPS, SHOT, cut, write_clip

BIN = [sys.executable, "-m", "faceprint.cli.main", "liveness"]


def run(*args):
    return subprocess.run([*BIN, *map(str, args)], capture_output=True, text=True, env=dict(os.environ), check=False)


@pytest.fixture(scope="module")
def flow(engine):
    return FaceIDFlow(engine, SessionStore())


def test_flow_accepts_the_live_performer_and_compares_with_the_reference(flow, shot, shared):
    seq, obs = shot
    clip = CLIPS["right-mouth"]
    a, b = clip["frames"]
    part = seq.slice(a - SHOT[0], b - SHOT[0] + 1)
    actions = tuple(Action(x) for x in clip["challenge"])
    lin = flow.reference_from_image(shared / "video" / "stills" / "lin-manuel-miranda.png")
    issued = flow.start(lin, actions=actions)
    result = flow.verify(issued.nonce, part)
    assert result.decision and result.reasons == ()
    assert result.compare["match"] and result.compare["confidence"] > result.compare["thresholds"]["1e-4"]
    assert result.pad is not None and result.pad.detector == "glare" and not result.pad.attack
    with pytest.raises(NonceReused):
        flow.verify(issued.nonce, part)
    obama = flow.reference_from_image(shared / "video" / "stills" / "obama.jpg")
    other = flow.judge(actions, part, obama.embedding, observations=cut(obs, a, b))
    assert not other.decision and other.reasons == ("FACE_MISMATCH",) and other.liveness.passed


def test_enforced_pad_can_reject(engine, shot):
    seq, obs = shot
    clip = CLIPS["right-mouth"]
    a, b = clip["frames"]
    part = seq.slice(a - SHOT[0], b - SHOT[0] + 1)
    strict = FaceIDFlow(engine, config=FlowConfig(pad_detector="moire", pad_enforce=True))
    result = strict.judge(tuple(Action(x) for x in clip["challenge"]), part, observations=cut(obs, a, b))
    assert result.liveness.passed
    assert ("PAD_ATTACK" in result.reasons) is result.pad.attack


def test_cli_on_a_real_clip(tmp_path, hamilton_seq, shared):
    clip = CLIPS["right-mouth"]
    a, b = clip["frames"]
    path = write_clip(tmp_path / "clip.mp4", list(hamilton_seq.images[a : b + 1]))
    ok = run(
        path,
        "--challenge",
        ",".join(clip["challenge"]),
        "--reference",
        shared / "video" / "stills" / "lin-manuel-miranda.png",
        "--json",
    )
    assert ok.returncode == 0, ok.stderr
    body = json.loads(ok.stdout)
    assert body["decision"] == "ACCEPT" and body["compare"]["match"] and body["liveness"]["passed"]
    wrong = run(path, "--challenge", "mouth,right")
    assert wrong.returncode == 1 and "ACTIONS_OUT_OF_ORDER" in wrong.stdout and "REJECTED" in wrong.stdout


def test_cli_errors_are_codes(tmp_path, shared):
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"\x00" * 100)
    r = run(bad, "--challenge", "blink,left", "--json")
    assert r.returncode == 2 and json.loads(r.stdout)["error_code"].startswith("VIDEO_ERROR")
    r = run(bad, "--challenge", "blink,wink")
    assert r.returncode == 2 and "INVALID_CHALLENGE" in r.stderr and "Traceback" not in r.stderr
