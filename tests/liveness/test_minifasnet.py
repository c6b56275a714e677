"""``minifasnet``: the legacy .pth reader, parity with the torch reference, weights checks, clip decisions."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from faceprint.errors import FaceprintError
from faceprint.liveness import Action, FrameSequence, follow
from faceprint.liveness.flow import FaceIDFlow, FlowConfig
from faceprint.liveness.pad import PADOptions, get_detector
from faceprint.liveness.pad.minifasnet import crop
from faceprint.liveness.pad.torchfile import MAGIC, load_state_dict
from faceprint.liveness.pad.weights import MINIFASNET, install
from faceprint.types import Face

from .support import CLIPS, SHOT, cut

GOLDEN = json.loads((Path(__file__).parent / "data" / "minifasnet_golden.json").read_text())


def test_reads_the_published_weights_without_torch(pad_models):
    sd = load_state_dict(pad_models / "2.7_80x80_MiniFASNetV2.pth")
    assert len(sd) == 334 and not any(k.startswith("module.") for k in sd)
    assert sd["prob.weight"].shape == (3, 128) and sd["conv1.conv.weight"].dtype == np.float32
    assert sum(v.size for k, v in sd.items() if "num_batches" not in k) == 444_928
    assert "torch" not in sys.modules


def test_refuses_a_weights_file_that_would_run_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo owned",))

    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps(MAGIC) + pickle.dumps(1001) + pickle.dumps({}) + pickle.dumps({"w": Evil()}))
    with pytest.raises(FaceprintError) as exc:
        load_state_dict(path)
    assert exc.value.code == "MODEL_FORMAT_ERROR" and "refusing" in exc.value.message
    path.write_bytes(b"not a torch file at all")
    with pytest.raises(FaceprintError) as exc:
        load_state_dict(path)
    assert exc.value.code == "MODEL_FORMAT_ERROR"


@pytest.mark.parametrize("slot", [0, 2, 4], ids=["magic", "system-info", "storage-keys"])
def test_refuses_code_in_the_pickles_around_the_state_dict(tmp_path, slot):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    parts: list[object] = [MAGIC, 1001, {"little_endian": True}, {}, []]
    parts[slot] = Evil()
    path = tmp_path / "evil.pth"
    path.write_bytes(b"".join(pickle.dumps(p) for p in parts))
    with pytest.raises(FaceprintError) as exc:
        load_state_dict(path)
    assert exc.value.code == "MODEL_FORMAT_ERROR" and "refusing to load io.open" in exc.value.message
    assert not marker.exists()


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=[c["image"].split("/")[-1] for c in GOLDEN["cases"]])
def test_parity_with_the_torch_reference(minifasnet, shared, case):
    import cv2

    img = cv2.imread(str(shared / case["image"]))
    face = Face(bbox=np.array(case["box"], np.float32), score=1.0, kps=np.zeros((5, 2), np.float32))
    crops = [crop(img, face, net.scale) for net in minifasnet.nets]
    assert [hashlib.sha256(c.tobytes()).hexdigest() for c in crops] == case["crops_sha256"]  # preprocessing as upstream
    probs = minifasnet.network_probs([(img, face)])
    for ours, ref in zip(probs, case["probs"], strict=True):
        assert np.abs(ours[0] - np.array(ref)).max() < 1e-4
    live = float(minifasnet.live_probability([(img, face)])[0])
    assert abs(live - case["live"]) < 1e-4
    assert minifasnet.score_faces([(img, face)])[0] == pytest.approx(1 - live, abs=1e-6)


def test_missing_weights_give_a_stable_code(tmp_path, monkeypatch):
    monkeypatch.delenv("FACEPRINT_PAD_DIR", raising=False)
    with pytest.raises(FaceprintError) as exc:
        get_detector("minifasnet", PADOptions(data_dir=tmp_path))
    assert exc.value.code == "PAD_MODEL_NOT_INSTALLED" and exc.value.http_status == 503
    assert "add-pad" in exc.value.message


def test_tampered_weights_give_a_stable_code(pad_models, tmp_path, monkeypatch):
    monkeypatch.delenv("FACEPRINT_PAD_DIR", raising=False)
    bad = tmp_path / "download"
    shutil.copytree(pad_models, bad)
    target = bad / MINIFASNET.files[1].name
    raw = bytearray(target.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # one bit of one weight
    target.write_bytes(bytes(raw))
    with pytest.raises(FaceprintError) as exc:
        install(bad, tmp_path / "data")
    assert exc.value.code == "PAD_MODEL_INTEGRITY_ERROR"
    assert not (tmp_path / "data" / "models" / "pad").exists()
    monkeypatch.setenv("FACEPRINT_PAD_DIR", str(bad))  # used in place, unchecked by any installer
    with pytest.raises(FaceprintError) as exc:
        get_detector("minifasnet")
    assert exc.value.code == "PAD_MODEL_INTEGRITY_ERROR" and exc.value.http_status == 503


def test_replay_clip_is_rejected_as_a_clip(minifasnet, engine, shared):
    seq = FrameSequence.from_video(shared / "video" / "liveness2_fake_replay.mp4")
    idx = np.linspace(0, len(seq) - 1, 40).round().astype(int)
    images = [seq.images[i] for i in idx]
    faces = [f[0] if f else None for f in engine.detect_batch(images)]
    result = minifasnet.score_frames(images, faces)
    assert result.frames == 30 and result.attack and result.score > 0.9


def test_genuine_hamilton_cuts_pass_the_default_flow(minifasnet, pad_data, engine, shot):
    seq, obs = shot
    flow = FaceIDFlow(engine, config=FlowConfig(pad_options=PADOptions(data_dir=pad_data)))
    assert flow.pad is not None and flow.pad.name == "minifasnet" and flow.pad_enforce  # the default when installed
    scores = {}
    for name, clip in CLIPS.items():
        a, b = clip["frames"]
        part = seq.slice(a - SHOT[0], b - SHOT[0] + 1)
        result = flow.judge(tuple(Action(x) for x in clip["challenge"]), part, observations=cut(obs, a, b))
        assert result.decision, (name, result.reasons)
        assert result.pad is not None and not result.pad.attack and result.to_dict()["pad"]["enforced"]
        scores[name] = result.pad.score
        track = follow(cut(obs, a, b))
        assert minifasnet.score_frames(list(part.images), list(track.faces)).score == pytest.approx(result.pad.score)
    assert max(scores.values()) < minifasnet.threshold / 2, scores


def test_auto_falls_back_to_glare_only_when_the_weights_are_absent(engine, tmp_path, monkeypatch):
    monkeypatch.delenv("FACEPRINT_PAD_DIR", raising=False)
    flow = FaceIDFlow(engine, config=FlowConfig(pad_options=PADOptions(data_dir=tmp_path)))
    assert flow.pad is not None and flow.pad.name == "glare" and not flow.pad_enforce
