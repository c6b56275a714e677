"""The Face++ clients people run, replayed against a real ``faceprint serve``: every /facepp/v3/ endpoint.

Each :class:`Sdk` is the request pattern of one client, read from its source: the parameters it
sends (FaceppSwift sends ``beauty_score_min=0&beauty_score_max=100`` on every detect and
face/analyze, ``start=1`` on the paged calls, ``RemoveAllFaceTokens`` to empty a faceset), how it
sends images (Java ``byte[]`` uploads, the JavaScript SDK's ``FormData`` with base64, PHP's
``image_file1`` + ``image_base64_2``), and the attribute sets of its examples that we compute.
Every reply is decoded with the strict mirrors of the SDKs' response models
(:mod:`.facepp_sdk_models`): a reply that would make FaceppSwift's ``JSONDecoder`` or a Java bean
fail fails here. The exact-string checks are the ones client code makes (``== "FACESET_EXIST"``
to create a faceset if missing, ``!= "INVALID_OUTER_ID"``).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from . import facepp_sdk_models as m
from .support import Key, Server, make_key


@dataclass(frozen=True)
class Sdk:
    name: str
    image: str  # "file": multipart upload; "base64": image_base64 text
    detect: dict[str, str]  # extra detect fields the client sends
    analyze: dict[str, str]  # face/analyze fields
    paged: dict[str, str] = field(default_factory=dict)  # sent on getdetail / getfacesets
    delete: dict[str, str] = field(default_factory=dict)
    remove_all: bool = False  # empties the faceset with RemoveAllFaceTokens
    compare_mixed: bool = False  # image_file1 + image_base64_2 (the PHP SDK's own test)


SDKS = [
    # FacePlusPlus/facepp-java-sdk: FacePPApi.detect(params, byte[]) etc., params from the caller's Map.
    Sdk("java", "file", {"return_landmark": "1", "return_attributes": "smiling,headpose"}, {"return_landmark": "2", "return_attributes": "headpose"}),
    # FacePlusPlus/facepp-javascript-sdk: FACEPP.request builds a FormData; the demos send image_base64.
    Sdk("javascript", "base64", {"return_landmark": "1", "return_attributes": "smiling,headpose,eyestatus,mouthstatus"}, {"return_landmark": "1"}),
    # FacePlusPlus/facepp-php-sdk tests/test_client.php: detectFace, compareFace (file1 + base64_2), check_empty '0'.
    Sdk("php", "file", {"return_attributes": "headpose"}, {"return_attributes": "headpose"}, delete={"check_empty": "0"}, compare_mixed=True),
    # FacePlusPlus/facepp-python-sdk: api.detect(image_file=File(...), return_attributes=...), faceset.create/addface, search.
    Sdk("python", "file", {"return_attributes": "smiling,headpose,facequality,blur,eyestatus,mouthstatus"}, {"return_attributes": "blur,facequality"}),
    # AmatsuZero/FaceppSwift: FaceDetectOption / FaceAnalyzeOption / FacesetGetDetailOption / FaceSetRemoveOption.
    Sdk(
        "swift", "file",
        {"return_landmark": "2", "return_attributes": "smiling,headpose,blur,facequality", "beauty_score_min": "0", "beauty_score_max": "100", "calculate_all": "0"},
        {"return_landmark": "0", "return_attributes": "smiling", "beauty_score_min": "0", "beauty_score_max": "100"},
        paged={"start": "1"}, delete={"check_empty": "1"}, remove_all=True,
    ),
]  # fmt: skip


class Client:
    """One SDK's calls: form fields as it sends them, replies decoded with the SDK's models."""

    def __init__(self, server: Server, key: Key, sdk: Sdk) -> None:
        self.http, self.key, self.sdk = server.client(), key, sdk
        self.called: set[str] = set()

    def post(self, path: str, files: dict | None = None, **data: str) -> httpx.Response:
        self.called.add(path)
        return self.http.post(f"/facepp/v3/{path}", data={**self.key.auth, **data}, files=files)

    def ok(self, model: type[m.M], path: str, files: dict | None = None, **data: str) -> m.M:
        r = self.post(path, files, **data)
        assert r.status_code == 200, f"{self.sdk.name} {path}: {r.text}"
        return m.decode(model, r.json())

    def error(self, path: str, **data: str) -> str:
        r = self.post(path, **data)
        assert r.status_code == 400, r.text
        return m.decode(m.Error, r.json()).error_message

    def image(self, photo: Path, n: str = "") -> tuple[dict | None, dict[str, str]]:
        if self.sdk.image == "base64":
            return None, {f"image_base64_{n}" if n else "image_base64": base64.b64encode(photo.read_bytes()).decode()}
        return {f"image_file{n}": (photo.name, photo.read_bytes(), "image/jpeg")}, {}

    def detect(self, photo: Path, **extra: str) -> m.DetectResponse:
        files, data = self.image(photo)
        return self.ok(m.DetectResponse, "detect", files, **data, **extra)

    def finished(self, task_id: str) -> m.TaskStatusResponse:
        for _ in range(200):
            status = self.ok(m.TaskStatusResponse, "faceset/async/task_status", task_id=task_id)
            if status.status == 1:
                return status
            time.sleep(0.05)
        raise AssertionError("task did not finish")


def facepp_paths(server: Server) -> set[str]:
    with server.client() as c:
        return {p.removeprefix("/facepp/v3/") for p in c.get("/openapi.json").json()["paths"] if p.startswith("/facepp/v3/")}


@pytest.mark.parametrize("sdk", SDKS, ids=[s.name for s in SDKS])
def test_sdk_session_over_every_endpoint(server, photos, sdk):
    c = Client(server, make_key(server.data, "detect,compare,faceset:read,faceset:write"), sdk)
    shot = c.detect(photos / "obama.jpg", **sdk.detect)
    (face,) = shot.faces
    if "smiling" in sdk.detect.get("return_attributes", ""):
        assert face.attributes is not None and face.attributes.smile is not None  # attributes.smile.value, as clients read it
        assert face.attributes.smile.value > face.attributes.smile.threshold  # the official portrait smiles
    if sdk.detect.get("return_landmark", "0") != "0":
        assert face.landmark is not None
    obama = face.face_token
    biden = c.detect(photos / "biden.jpg").faces[0].face_token

    files, data = c.image(photos / "obama2.jpg", "1")
    files2, data2 = c.image(photos / "obama.jpg", "2")
    if sdk.compare_mixed:
        data2 = {"image_base64_2": base64.b64encode((photos / "obama.jpg").read_bytes()).decode()}
        files2 = None
    same = c.ok(m.CompareResponse, "compare", {**(files or {}), **(files2 or {})} or None, **data, **data2)
    assert same.confidence is not None and same.thresholds is not None and same.confidence > same.thresholds["1e-4"]

    outer = f"{sdk.name}-staff"
    made = c.ok(m.FaceSetAddResponse, "faceset/create", outer_id=outer, display_name=sdk.name, tags="a,b", face_tokens=obama)
    assert made.face_added == 1 and made.outer_id == outer
    assert c.error("faceset/create", outer_id=outer) == "FACESET_EXIST"  # the create-if-missing pattern compares exactly
    added = c.ok(m.FaceSetAddResponse, "faceset/addface", outer_id=outer, face_tokens=biden)
    assert added.face_count == 2 and added.failure_detail == []

    assert c.ok(m.SetUserIdResponse, "face/setuserid", face_token=obama, user_id="barack").user_id == "barack"
    detail = c.ok(m.FaceDetailResponse, "face/getdetail", face_token=obama)
    assert detail.image_id == shot.image_id and [fs.outer_id for fs in detail.facesets] == [outer]
    analysed = c.ok(m.AnalyzeResponse, "face/analyze", face_tokens=obama, **sdk.analyze)
    assert [f.face_token for f in analysed.faces] == [obama]

    files, data = c.image(photos / "obama2.jpg")
    found = c.ok(m.SearchResponse, "search", files, **data, outer_id=outer)
    assert found.results and found.results[0].face_token == obama and found.results[0].user_id == "barack"

    assert c.ok(m.FaceSetNames, "faceset/update", outer_id=outer, display_name="renamed").faceset_token == made.faceset_token
    fs = c.ok(m.FaceSetDetailResponse, "faceset/getdetail", outer_id=outer, **sdk.paged)
    assert fs.display_name == "renamed" and fs.tags == "a,b" and sorted(fs.face_tokens) == sorted([obama, biden]) and fs.next is None
    listed = c.ok(m.FaceSetsResponse, "faceset/getfacesets", **sdk.paged)
    assert [x.tags.split(",") for x in listed.facesets if x.outer_id == outer] == [["a", "b"]]  # FaceppSwift splits tags

    task = c.ok(m.AsyncResponse, "faceset/async/removeface", faceset_token=made.faceset_token, face_tokens=biden).task_id
    assert c.finished(task).face_removed == 1
    task = c.ok(m.AsyncResponse, "faceset/async/addface", faceset_token=made.faceset_token, face_tokens=biden).task_id
    assert c.finished(task).face_added == 1

    tokens = "RemoveAllFaceTokens" if sdk.remove_all else f"{obama},{biden}"
    assert c.ok(m.FaceSetRemoveResponse, "faceset/removeface", outer_id=outer, face_tokens=tokens).face_count == 0
    assert c.ok(m.FaceSetNames, "faceset/delete", outer_id=outer, **sdk.delete).outer_id == outer
    assert c.error("faceset/getdetail", outer_id=outer) == "INVALID_OUTER_ID"  # `!= 'INVALID_OUTER_ID'` in client code
    assert c.called == facepp_paths(server), "every /facepp/v3/ endpoint is exercised"
