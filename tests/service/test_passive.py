"""POST /v1/liveness/passive and the FaceID flow with minifasnet, over real HTTP; missing and tampered weights."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from fractions import Fraction

import av
import pytest

from faceprint.liveness import FrameSequence

from .support import ROOT, Key, Server, cli, make_key

PAD_MODELS = ROOT.parent / "shared" / "models" / "silent-face"
CUT = next(c for c in json.loads((ROOT / "bench" / "liveness_labels.json").read_text())["genuine_clips"]["clips"]
           if c["name"] == "right-mouth")  # fmt: skip


@pytest.fixture(scope="module")
def pad_server(tmp_path_factory) -> Iterator[Server]:
    """A server whose operator installed the weights with `faceprint models add-pad`."""
    data = tmp_path_factory.mktemp("serve-pad")
    cli("models", "add-pad", str(PAD_MODELS), "--data", str(data))
    srv = Server(data, env={"FACEPRINT_PAD_DIR": ""})
    yield srv
    srv.stop()


def _photo(shared, kind: str) -> dict:
    p = min((shared / "spoof" / "nuaa" / kind / "0006").glob("*.jpg"))
    return {"image_file": (p.name, p.read_bytes(), "image/jpeg")}


def post(server: Server, key: Key, path: str, files: dict | None = None, **data: object):
    with server.client() as c:
        return c.post(path, data={**key.auth, **{k: str(v) for k, v in data.items()}}, files=files)


def _audit(server: Server) -> list[dict]:
    return [json.loads(line) for line in (server.data / "audit.log").read_text().splitlines() if line.strip()]


def test_passive_check_of_live_and_printed_photos(pad_server, shared):
    key = make_key(pad_server.data, "detect")
    live = post(pad_server, key, "/v1/liveness/passive", _photo(shared, "live"))
    assert live.status_code == 200, live.text
    body = live.json()
    assert body["result"] == "BONA_FIDE" and body["detector"] == "minifasnet" and body["live_probability"] > 0.5
    assert set(body) >= {"request_id", "time_used", "score", "threshold", "bbox", "faces"}
    printed = post(pad_server, key, "/v1/liveness/passive", _photo(shared, "attack")).json()
    assert printed["result"] == "ATTACK" and printed["live_probability"] < 0.05
    glare = post(pad_server, key, "/v1/liveness/passive", _photo(shared, "live"), detector="glare").json()
    assert glare["detector"] == "glare" and glare["live_probability"] is None
    lines = [x for x in _audit(pad_server) if x["endpoint"] == "liveness/passive" and x["key"] == key.api_key]
    assert [x["outcome"] for x in lines] == ["BONA_FIDE", "ATTACK", "BONA_FIDE"]


def test_scope_and_bad_input_are_refused_with_codes(pad_server):
    key = make_key(pad_server.data, "compare")
    r = post(pad_server, key, "/v1/liveness/passive", {"image_file": ("x.jpg", b"not an image", "image/jpeg")})
    assert r.status_code == 403 and r.json()["error_message"].startswith("AUTHORIZATION_ERROR")
    ok = make_key(pad_server.data, "detect")
    r = post(pad_server, ok, "/v1/liveness/passive", {"image_file": ("x.jpg", b"not an image", "image/jpeg")})
    assert r.status_code == 400
    r = post(pad_server, ok, "/v1/liveness/passive", {"image_file": ("x.jpg", b"x", "image/jpeg")}, detector="magic")
    assert r.status_code == 400 and "UNKNOWN_PAD_DETECTOR" in r.text
    assert _audit(pad_server)[-1]["outcome"] == "UNKNOWN_PAD_DETECTOR"


def test_faceid_verify_reports_and_enforces_minifasnet(pad_server, shared, tmp_path):
    key = make_key(pad_server.data, "compare")
    seq = FrameSequence.from_video(shared / "video" / "short_hamilton_clip.mp4")
    a, b = CUT["frames"]
    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("h264", rate=Fraction(30000, 1001))
        stream.width, stream.height, stream.pix_fmt = seq.images[0].shape[1], seq.images[0].shape[0], "yuv420p"
        for im in seq.images[a : b + 1]:
            for packet in stream.encode(av.VideoFrame.from_ndarray(im, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    lin = shared / "video" / "stills" / "lin-manuel-miranda.png"
    token = post(pad_server, key, "/faceid/v1/biz_token", {"image_file": (lin.name, lin.read_bytes(), "image/png")},
                 actions=",".join(CUT["challenge"])).json()["biz_token"]  # fmt: skip
    v = post(pad_server, key, "/faceid/v1/verify", {"video_file": ("clip.mp4", path.read_bytes(), "video/mp4")}, biz_token=token)
    assert v.status_code == 200, v.text
    out = v.json()
    assert out["result"] == "ACCEPT" and out["liveness"]["passed"]
    assert out["pad"]["detector"] == "minifasnet" and out["pad"]["enforced"] and not out["pad"]["attack"]
    assert out["pad"]["live_probability"] > 0.5


def test_missing_then_tampered_weights_answer_503_with_stable_codes(server, shared):
    key = make_key(server.data, "detect")
    r = post(server, key, "/v1/liveness/passive", _photo(shared, "live"))
    assert r.status_code == 503 and r.json()["error_message"].startswith("PAD_MODEL_NOT_INSTALLED")
    folder = server.data / "models" / "pad"
    try:
        shutil.copytree(PAD_MODELS, folder)
        weights = folder / "4_0_0_80x80_MiniFASNetV1SE.pth"
        raw = bytearray(weights.read_bytes())
        raw[-64] ^= 0xFF
        weights.write_bytes(bytes(raw))
        r = post(server, key, "/v1/liveness/passive", _photo(shared, "live"))
        assert r.status_code == 503 and r.json()["error_message"].startswith("PAD_MODEL_INTEGRITY_ERROR")
        assert _audit(server)[-1]["outcome"] == "PAD_MODEL_INTEGRITY_ERROR"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
