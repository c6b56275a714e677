"""Liveness references are templates: sealed with FACEPRINT_KEY, and erased (WAL included) when spent or expired.

A real ``faceprint serve`` issues biz_tokens against a real photo; the test computes the same
reference template in-process and scans every file of the data directory (``liveness.db`` and its
``-wal``/``-shm`` included) for its float32 bytes or any 16-byte piece of them, as the gallery
erasure test does (tests/test_gallery_erasure.py).
"""

from __future__ import annotations

import time

import httpx
import numpy as np
import pytest

from faceprint import FaceEngine
from faceprint.gallery.crypto import new_key

from .support import Server, make_key

STILL = "video/stills/lin-manuel-miranda.png"


def traces(root, vec: np.ndarray) -> list[str]:
    f32 = vec.astype("<f4").tobytes()
    needles = [f32] + [f32[i : i + 16] for i in range(0, len(f32), 16)]
    return sorted({p.name for p in root.rglob("*") if p.is_file() for n in needles if n in p.read_bytes()})


@pytest.fixture(scope="module", params=["plain", "encrypted"])
def served(request, tmp_path_factory, shared):
    env = {"FACEPRINT_KEY": new_key()} if request.param == "encrypted" else {"FACEPRINT_KEY": "", "FACEPRINT_KEY_FILE": ""}
    srv = Server(tmp_path_factory.mktemp(f"faceid-{request.param}"), env=env)
    pack = httpx.get(srv.url + "/ready", timeout=10).json()["pack"]
    face, _ = FaceEngine(pack).template((shared / STILL).read_bytes(), one_to_one=False)
    yield srv, make_key(srv.data, "compare"), np.asarray(face.embedding, np.float32), request.param == "encrypted"
    srv.stop()


def _issue(srv, key, shared, **extra: str) -> str:
    p = shared / STILL
    with srv.client() as c:
        r = c.post("/faceid/v1/biz_token", data={**key.auth, **extra}, files={"image_file": (p.name, p.read_bytes(), "image/png")})
    assert r.status_code == 200 and r.json()["reference"] == "image", r.text
    return r.json()["biz_token"]


def _gone_within(srv, vec, seconds: float) -> float:
    start = time.monotonic()
    while traces(srv.data, vec):
        assert time.monotonic() - start < seconds, f"template bytes still in {traces(srv.data, vec)}"
        time.sleep(0.1)
    return time.monotonic() - start


def test_a_spent_session_leaves_no_template_bytes_within_2_s(served, shared):
    srv, key, vec, encrypted = served
    token = _issue(srv, key, shared)
    held = traces(srv.data, vec)
    if encrypted:
        assert held == []  # sealed at rest: not even while the session is open
    else:
        assert held and set(held) <= {"liveness.db", "liveness.db-wal"}  # the needle is right: it is there until spent
    with srv.client() as c:  # a bad clip: the session is spent first, whatever the performance
        r = c.post("/faceid/v1/verify", data={**key.auth, "biz_token": token}, files={"video_file": ("x.mp4", b"\0" * 64)})
    assert r.status_code == 400, r.text
    _gone_within(srv, vec, 2.0)
    assert (srv.data / "liveness.db-wal").stat().st_size == 0  # checkpointed and truncated


def test_an_expired_session_is_erased_by_the_service_on_its_own_within_2_s(served, shared):
    srv, key, vec, encrypted = served
    _issue(srv, key, shared, expire_seconds="1")
    expires = time.monotonic() + 1
    assert encrypted or traces(srv.data, vec)
    time.sleep(max(0.0, expires - time.monotonic()))
    _gone_within(srv, vec, 2.0)  # no request touched it: the purger did
    assert (srv.data / "liveness.db-wal").stat().st_size == 0
