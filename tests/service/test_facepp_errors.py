"""Error strings as Face++ documents them, endpoint by endpoint, over real HTTP.

The expected string of each case comes from the one table, :mod:`faceprint.service.facepp_errors`
(bare ``CODE``, ``CODE: <argument>`` or ``CODE: <face_token>``); the literal forms clients compare
(``FACESET_EXIST``, ``INVALID_OUTER_ID``, ``INVALID_FACE_TOKEN: <token>``) are pinned as literals too.
"""

from __future__ import annotations

import pytest

from faceprint.service import facepp_errors as table

from .support import Key, Server, make_key

GHOST = "0" * 32  # a face token nobody has


def post(server: Server, key: Key, path: str, files: dict | None = None, **data: str):
    with server.client() as c:
        return c.post(f"/facepp/v3/{path}", data={**key.auth, **data}, files=files)


@pytest.fixture(scope="module")
def world(server, photos) -> dict:
    key = make_key(server.data, "detect,compare,faceset:read,faceset:write")
    upload = {"image_file": ("o.jpg", (photos / "obama.jpg").read_bytes(), "image/jpeg")}
    token = post(server, key, "detect", upload).json()["faces"][0]["face_token"]
    assert post(server, key, "faceset/create", outer_id="full", face_tokens=token).status_code == 200
    assert post(server, key, "faceset/create", outer_id="empty").status_code == 200
    return {"key": key, "token": token}


SIX = ",".join(f"{i:032x}" for i in range(6))
GARBAGE = {"image_file": ("x.jpg", b"GIF89a garbage", "image/jpeg")}
# endpoint, fields, code, the argument to blame (for the ARGUMENT form)
CASES = [
    ("detect", {"image_url": "http://example.com/a.jpg"}, "INVALID_IMAGE_URL", "image_url"),
    ("detect", {"_files": GARBAGE}, "IMAGE_ERROR_UNSUPPORTED_FORMAT", "image_file"),
    ("detect", {"_files": GARBAGE, "return_landmark": "3"}, "BAD_ARGUMENTS", "return_landmark"),
    ("compare", {"image_url1": "http://example.com/a.jpg", "face_token2": GHOST}, "INVALID_IMAGE_URL", "image_url1"),
    ("compare", {"face_token1": GHOST, "face_token2": GHOST}, "INVALID_FACE_TOKEN", ""),
    ("search", {"face_token": GHOST, "outer_id": "nope"}, "INVALID_OUTER_ID", "outer_id"),
    ("search", {"face_token": GHOST, "faceset_token": GHOST}, "INVALID_FACESET_TOKEN", "faceset_token"),
    ("search", {"face_token": GHOST, "outer_id": "empty"}, "EMPTY_FACESET", ""),
    ("search", {"face_token": GHOST, "outer_id": "full"}, "INVALID_FACE_TOKEN", ""),
    ("faceset/create", {"outer_id": "full"}, "FACESET_EXIST", "outer_id"),
    ("faceset/create", {"face_tokens": SIX}, "INVALID_FACE_TOKENS_SIZE", "face_tokens"),
    ("faceset/addface", {"outer_id": "nope", "face_tokens": GHOST}, "INVALID_OUTER_ID", "outer_id"),
    ("faceset/addface", {"outer_id": "full", "face_tokens": SIX}, "INVALID_FACE_TOKENS_SIZE", "face_tokens"),
    ("faceset/addface", {"outer_id": "full"}, "MISSING_ARGUMENTS", "face_tokens"),
    ("faceset/removeface", {"faceset_token": GHOST, "face_tokens": GHOST}, "INVALID_FACESET_TOKEN", "faceset_token"),
    ("faceset/update", {"outer_id": "empty", "new_outer_id": "full"}, "NEW_OUTER_ID_EXIST", "new_outer_id"),
    ("faceset/getdetail", {"outer_id": "nope"}, "INVALID_OUTER_ID", "outer_id"),
    ("faceset/getdetail", {"outer_id": "full", "start": "0"}, "BAD_ARGUMENTS", "start"),
    ("faceset/delete", {"outer_id": "full"}, "FACESET_NOT_EMPTY", ""),
    ("faceset/async/addface", {"outer_id": "full", "face_tokens": SIX}, "INVALID_FACE_TOKENS_SIZE", "face_tokens"),
    ("faceset/async/removeface", {"outer_id": "nope", "face_tokens": GHOST}, "INVALID_OUTER_ID", "outer_id"),
    ("faceset/async/task_status", {"task_id": "tsk_nothing"}, "INVALID_TASK_ID", "task_id"),
    ("face/analyze", {"face_tokens": GHOST, "return_landmark": "1"}, "INVALID_FACE_TOKEN", ""),
    ("face/analyze", {"face_tokens": SIX, "return_landmark": "1"}, "INVALID_FACE_TOKENS_SIZE", "face_tokens"),
    ("face/getdetail", {"face_token": GHOST}, "INVALID_FACE_TOKEN", ""),
    ("face/setuserid", {"face_token": GHOST, "user_id": "x"}, "INVALID_FACE_TOKEN", ""),
]


def expected(endpoint: str, code: str, argument: str) -> str:
    form = table.form_of(endpoint, code)
    if form is table.Form.BARE:
        return code
    return f"{code}: {GHOST if form is table.Form.TOKEN else argument}"


@pytest.mark.parametrize("endpoint, fields, code, argument", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_error_message_is_the_documented_form(server, world, endpoint, fields, code, argument):
    data = dict(fields)
    files = data.pop("_files", None)
    r = post(server, world["key"], endpoint, files, **data)  # type: ignore[arg-type]
    assert r.status_code == 400, r.text
    assert r.json()["error_message"] == expected(endpoint, code, argument)


def test_the_forms_clients_compare_exactly(server, world):
    key = world["key"]
    assert post(server, key, "faceset/create", outer_id="full").json()["error_message"] == "FACESET_EXIST"
    assert post(server, key, "faceset/getdetail", outer_id="nope").json()["error_message"] == "INVALID_OUTER_ID"
    assert post(server, key, "faceset/getdetail", faceset_token=GHOST).json()["error_message"] == "INVALID_FACESET_TOKEN"
    assert post(server, key, "face/getdetail", face_token=GHOST).json()["error_message"] == f"INVALID_FACE_TOKEN: {GHOST}"
    assert post(server, key, "detect", image_url="http://example.com/a.jpg").json()["error_message"] == "INVALID_IMAGE_URL"
    assert post(server, key, "compare", image_url1="http://x.example/a.jpg", face_token2=GHOST).json()["error_message"] == (
        "INVALID_IMAGE_URL: image_url1"  # two images: Face++ names which one
    )


def test_the_table_covers_every_endpoint(server):
    with server.client() as c:
        paths = {p.removeprefix(table.PREFIX) for p in c.get("/openapi.json").json()["paths"] if p.startswith(table.PREFIX)}
    assert set(table.ENDPOINTS) == paths


def test_message_forms_without_a_server():
    from faceprint.errors import (
        FacesetExist,
        InvalidFaceToken,
        InvalidOuterId,
        PackMismatch,
    )

    assert table.message(FacesetExist("taken", param="outer_id"), "/facepp/v3/faceset/create") == "FACESET_EXIST"
    assert table.message(InvalidOuterId("no", param="outer_id"), "faceset/getdetail") == "INVALID_OUTER_ID"
    assert table.message(InvalidFaceToken("no", face_token="ab12"), "/facepp/v3/face/getdetail") == "INVALID_FACE_TOKEN: ab12"
    assert table.message(PackMismatch("other pack", param="face_token"), "/facepp/v3/search") == "PACK_MISMATCH: face_token"  # ours
    assert table.message(InvalidOuterId("no", param="outer_id"), "/v1/video/jobs") == "INVALID_OUTER_ID: outer_id"  # not Face++
