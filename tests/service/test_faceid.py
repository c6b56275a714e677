"""FaceID over real HTTP: biz_token -> verify on a real clip, reused and expired sessions, audit lines."""

from __future__ import annotations

import io
import json
import time
import zipfile
from fractions import Fraction

import av
import cv2
import pytest

from faceprint.liveness import FrameSequence

from .support import ROOT, Key, Server, make_key

CLIPS = {c["name"]: c for c in json.loads((ROOT / "bench" / "liveness_labels.json").read_text())["genuine_clips"]["clips"]}


def write_clip(path, images):
    with av.open(str(path), "w") as out:
        stream = out.add_stream("h264", rate=Fraction(30000, 1001))
        stream.width, stream.height, stream.pix_fmt = images[0].shape[1], images[0].shape[0], "yuv420p"
        for im in images:
            for packet in stream.encode(av.VideoFrame.from_ndarray(im, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def post(server: Server, key: Key, path: str, files: dict | None = None, **data: object):
    with server.client() as c:
        return c.post(path, data={**key.auth, **{k: str(v) for k, v in data.items()}}, files=files)


@pytest.fixture(scope="module")
def fkey(server: Server) -> Key:
    return make_key(server.data, "detect,compare,faceset:read,faceset:write")


@pytest.fixture(scope="module")
def clip(tmp_path_factory, shared):
    """The 'right-mouth' cut of the labelled shot (frames 100-130), encoded as H.264."""
    c = CLIPS["right-mouth"]
    seq = FrameSequence.from_video(shared / "video" / "short_hamilton_clip.mp4")
    a, b = c["frames"]
    frames = list(seq.images[a : b + 1])
    path = write_clip(tmp_path_factory.mktemp("faceid") / "clip.mp4", frames)
    return {"path": path, "frames": frames, "times": seq.times[a : b + 1] - seq.times[a], "challenge": ",".join(c["challenge"])}


def _lin(shared) -> dict:
    p = shared / "video" / "stills" / "lin-manuel-miranda.png"
    return {"image_file": (p.name, p.read_bytes(), "image/png")}


def _video(clip) -> dict:
    return {"video_file": ("clip.mp4", clip["path"].read_bytes(), "video/mp4")}


def _audit(server: Server) -> list[dict]:
    return [json.loads(line) for line in (server.data / "audit.log").read_text().splitlines() if line.strip()]


def test_biz_token_then_verify_accepts_the_live_reference_person(server, fkey, clip, shared):
    r = post(server, fkey, "/faceid/v1/biz_token", _lin(shared), actions=clip["challenge"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["actions"] == clip["challenge"].split(",") and body["reference"] == "image" and len(body["biz_token"]) >= 32
    v = post(server, fkey, "/faceid/v1/verify", _video(clip), biz_token=body["biz_token"])
    assert v.status_code == 200, v.text
    out = v.json()
    assert out["result"] == "ACCEPT" and out["reasons"] == [] and out["liveness"]["passed"]
    assert out["confidence"] > out["thresholds"]["1e-4"] and out["compare"]["match"]
    assert out["pad"]["detector"] == "glare" and set(out) >= {"request_id", "time_used"}
    again = post(server, fkey, "/faceid/v1/verify", _video(clip), biz_token=body["biz_token"])
    assert again.status_code == 400 and again.json()["error_message"] == "NONCE_REUSED: biz_token"
    lines = [x for x in _audit(server) if x["endpoint"] == "faceid/verify" and x["key"] == fkey.api_key]
    assert [x["outcome"] for x in lines[-2:]] == ["ACCEPT", "NONCE_REUSED"]
    assert lines[-2]["results"] == 1 and lines[-2]["faces"] == len(clip["frames"])


def test_an_expired_session_is_refused(server, fkey, clip, shared):
    r = post(server, fkey, "/faceid/v1/biz_token", _lin(shared), actions=clip["challenge"], expire_seconds=1)
    assert r.status_code == 200, r.text
    time.sleep(1.3)
    v = post(server, fkey, "/faceid/v1/verify", _video(clip), biz_token=r.json()["biz_token"])
    assert v.status_code == 400 and v.json()["error_message"] == "SESSION_EXPIRED: biz_token"
    assert _audit(server)[-1]["outcome"] == "SESSION_EXPIRED"


def test_frames_with_timestamps_and_a_wrong_challenge_are_rejected_with_reasons(server, fkey, clip, shared):
    token = post(server, fkey, "/facepp/v3/detect", _lin(shared)).json()["faces"][0]["face_token"]
    r = post(server, fkey, "/faceid/v1/biz_token", face_token=token, actions="blink,turn_left")
    assert r.status_code == 200 and r.json()["reference"] == "face_token", r.text
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, im in enumerate(clip["frames"]):
            zf.writestr(f"{i:04d}.jpg", cv2.imencode(".jpg", im, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
    times = ",".join(f"{t:.4f}" for t in clip["times"])
    v = post(server, fkey, "/faceid/v1/verify", {"frames_file": ("frames.zip", buf.getvalue(), "application/zip")},
             biz_token=r.json()["biz_token"], timestamps=times)  # fmt: skip
    assert v.status_code == 200, v.text
    out = v.json()
    codes = [x["code"] for x in out["liveness"]["reasons"]]
    assert out["result"] == "REJECT" and "ACTION_MISSING" in codes and "UNEXPECTED_ACTION" in codes
    assert out["compare"]["match"]  # the right person, but not live for this challenge
    assert _audit(server)[-1]["outcome"].startswith("REJECT:ACTION_MISSING")


def test_a_gallery_subject_is_a_reference(server, fkey, shared):
    token = post(server, fkey, "/facepp/v3/detect", _lin(shared)).json()["faces"][0]["face_token"]
    assert post(server, fkey, "/facepp/v3/face/setuserid", face_token=token, user_id="lin").status_code == 200
    assert post(server, fkey, "/facepp/v3/faceset/create", outer_id="faceid-ref", face_tokens=token).status_code == 200
    r = post(server, fkey, "/faceid/v1/biz_token", outer_id="faceid-ref", subject="lin")
    assert r.status_code == 200, r.text
    assert r.json()["reference"] == "subject" and 2 <= len(r.json()["actions"]) <= 4
    r = post(server, fkey, "/faceid/v1/biz_token", outer_id="faceid-ref", subject="nobody")
    assert r.status_code == 400 and r.json()["error_message"].startswith("BAD_ARGUMENTS")


@pytest.mark.parametrize(
    "path, data, message",
    [
        ("/faceid/v1/biz_token", {}, "MISSING_ARGUMENTS"),
        ("/faceid/v1/biz_token", {"face_token": "f" * 32}, "INVALID_FACE_TOKEN"),
        ("/faceid/v1/biz_token", {"face_token": "f" * 32, "image_base64": "xx"}, "COEXISTENCE_ARGUMENTS"),
        ("/faceid/v1/verify", {}, "MISSING_ARGUMENTS: biz_token"),
        ("/faceid/v1/verify", {"biz_token": "x" * 32}, "MISSING_ARGUMENTS"),
    ],
)
def test_errors_are_codes(server, fkey, path, data, message):
    r = post(server, fkey, path, **data)
    assert r.status_code == 400 and r.json()["error_message"].startswith(message), r.text


def test_unknown_token_bad_upload_and_scope(server, fkey, shared):
    r = post(server, fkey, "/faceid/v1/verify", {"video_file": ("a.mp4", b"not a video", "video/mp4")}, biz_token="x" * 32)
    assert r.status_code == 400 and r.json()["error_message"] == "NONCE_UNKNOWN: biz_token"
    ok = post(server, fkey, "/faceid/v1/biz_token", _lin(shared), actions="blink,smile").json()["biz_token"]
    r = post(server, fkey, "/faceid/v1/verify", {"video_file": ("a.mp4", b"not a video", "video/mp4")}, biz_token=ok)
    assert r.status_code == 400 and r.json()["error_message"].startswith("VIDEO_ERROR")
    detect_only = make_key(server.data, "detect")
    r = post(server, detect_only, "/faceid/v1/biz_token", _lin(shared))
    assert r.status_code == 403
