"""The FaceID zip bomb: refused from the zip directory (and, with a made-up biz_token, before unpacking)."""

from __future__ import annotations

import io
import zipfile

import pytest

from .conftest import alive
from .corpus import zip_bomb
from .support import percentile, watched


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return zip_bomb()  # 240 entries x 10 MiB of zeros, ~2.5 MB


def verify(server, key, token: str, archive: bytes):
    with server.client() as c:
        return c.post("/faceid/v1/verify", data={**key.auth, "biz_token": token},
                      files={"frames_file": ("frames.zip", archive, "application/zip")})  # fmt: skip


@pytest.mark.serial  # a wall-clock bound: run alone (Makefile, docs/development.md)
def test_zip_bomb_with_a_made_up_token_is_refused_before_unpacking(hostile, bomb):
    server, key = hostile
    with watched(server.proc.pid, server.url + "/health") as w:
        answers = [verify(server, key, "made-up-token-123456", bomb) for _ in range(3)]
    assert {r.status_code for r in answers} == {400}
    assert {r.json()["error_message"].split(":")[0] for r in answers} == {
        "NONCE_UNKNOWN"
    }
    assert w.peak_increase_mb < 100
    assert percentile(w.health_ms, 99) < 200
    assert alive(server)


def test_zip_bomb_with_a_real_session_is_refused_from_its_directory(
    hostile, bomb, photos
):
    server, key = hostile
    with server.client() as c:
        r = c.post(
            "/faceid/v1/biz_token",
            data=key.auth,
            files={"image_file": ("obama.jpg", (photos / "obama.jpg").read_bytes())},
        )
    assert r.status_code == 200, r.text
    with watched(server.proc.pid) as w:
        r = verify(server, key, r.json()["biz_token"], bomb)
    assert (
        r.status_code == 400
        and r.json()["error_message"] == "BAD_ARGUMENTS: frames_file"
    ), r.text
    assert w.peak_increase_mb < 100
    assert alive(server)


def test_every_zip_limit_has_its_own_refusal():
    from faceprint.errors import BadInput
    from faceprint.service.faceid import frames_from_zip

    def made(n: int, size: int, level: int = zipfile.ZIP_DEFLATED) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", level) as zf:
            for i in range(n):
                zf.writestr(f"{i:04d}.jpg", b"\x00" * size)
        return buf.getvalue()

    cases = {"too many files": made(241, 10), "one entry too big": made(1, 11 << 20, zipfile.ZIP_STORED),
             "inflates too far": made(1, 2 << 20), "too big in all": made(8, 9 << 20, zipfile.ZIP_STORED)}  # fmt: skip
    for why, data in cases.items():
        with pytest.raises(BadInput) as err:
            frames_from_zip(data)
        assert err.value.details.get("param") == "frames_file", why
    assert (
        len(frames_from_zip(made(5, 1000))) == 5
    )  # small frames that compress well are fine
