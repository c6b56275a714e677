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
    # A removed face is erased (one home: its token went with it, see docs/facepp-compat.md), so re-add a fresh detection.
    again = c.detect(photos / "biden.jpg").faces[0].face_token
    task = c.ok(m.AsyncResponse, "faceset/async/addface", faceset_token=made.faceset_token, face_tokens=again).task_id
    assert c.finished(task).face_added == 1

    tokens = "RemoveAllFaceTokens" if sdk.remove_all else f"{obama},{again}"
    assert c.ok(m.FaceSetRemoveResponse, "faceset/removeface", outer_id=outer, face_tokens=tokens).face_count == 0
    assert c.ok(m.FaceSetNames, "faceset/delete", outer_id=outer, **sdk.delete).outer_id == outer
    assert c.error("faceset/getdetail", outer_id=outer) == "INVALID_OUTER_ID"  # `!= 'INVALID_OUTER_ID'` in client code
    assert c.called == facepp_paths(server), "every /facepp/v3/ endpoint is exercised"


# -- the differences clients tripped over, one test each --------------------------------------------
def upload(photo: Path) -> dict:
    return {"image_file": (photo.name, photo.read_bytes(), "image/jpeg")}


@pytest.fixture(scope="module")
def full(server) -> Client:
    return Client(server, make_key(server.data, "detect,compare,faceset:read,faceset:write"), SDKS[-1])


def test_face_rectangle_is_the_face_and_no_detection_runs(full, photos):
    body = full.ok(m.DetectResponse, "detect", upload(photos / "obama.jpg"), face_rectangle="70,80,100,100", return_landmark="2")
    (face,) = body.faces  # the detector sees no face there; Face++ takes the box as the face all the same
    assert face.face_rectangle == m.Rectangle(top=70, left=80, width=100, height=100) and face.landmark is not None
    real = full.detect(photos / "obama.jpg").faces[0]
    r = real.face_rectangle
    boxed = full.ok(m.DetectResponse, "detect", upload(photos / "obama.jpg"), face_rectangle=f"{r.top},{r.left},{r.width},{r.height}")
    assert boxed.faces[0].face_rectangle == r
    same = full.ok(m.CompareResponse, "compare", face_token1=real.face_token, face_token2=boxed.faces[0].face_token)
    assert same.confidence is not None and same.thresholds is not None and same.confidence > same.thresholds["1e-5"]
    outside = full.post("detect", upload(photos / "obama.jpg"), face_rectangle="1000,800,200,200")
    assert outside.status_code == 400 and outside.json()["error_message"] == "BAD_ARGUMENTS: face_rectangle"


def test_face_getdetail_carries_the_image_id_of_its_detect(full, photos):
    shot = full.detect(photos / "biden.jpg")
    detail = full.ok(m.FaceDetailResponse, "face/getdetail", face_token=shot.faces[0].face_token)  # FaceppSwift reads imageId
    assert detail.image_id == shot.image_id and len(detail.image_id) == 24  # base64 of an MD5


def test_next_is_a_string_once_a_faceset_has_more_than_one_page(full, shared):
    crowd = shared / "detect" / "dlib_faces" / "bald_guys.jpg"  # 24 faces: 5 detects give 120 face tokens
    tokens = [f.face_token for _ in range(5) for f in full.detect(crowd).faces]
    made = full.ok(m.FaceSetAddResponse, "faceset/create", outer_id="crowd")
    for i in range(0, 101, 5):  # at most 5 per addface, as Face++
        full.ok(m.FaceSetAddResponse, "faceset/addface", faceset_token=made.faceset_token, face_tokens=",".join(tokens[i : min(i + 5, 101)]))
    first = full.ok(m.FaceSetDetailResponse, "faceset/getdetail", outer_id="crowd", start="1")  # FaceppSwift decodes next: String?
    assert first.face_count == 101 and len(first.face_tokens) == 100 and first.next == "101"
    last = full.ok(m.FaceSetDetailResponse, "faceset/getdetail", outer_id="crowd", start=first.next)
    assert last.face_tokens == tokens[100:101] and last.next is None


def test_getfacesets_returns_pages_of_1000(server):
    c = Client(server, make_key(server.data, "faceset:read,faceset:write"), SDKS[-1])
    for i in range(105):
        c.ok(m.FaceSetAddResponse, "faceset/create", outer_id=f"set-{i}")
    listed = c.ok(m.FaceSetsResponse, "faceset/getfacesets", start="1")
    assert len(listed.facesets) == 105 and listed.next is None  # one page, as Face++ (ours held 100 and sent next=101)


def test_beauty_score_bounds_are_accepted_and_change_nothing(full, photos):
    plain = full.detect(photos / "obama.jpg", return_attributes="headpose").faces[0]
    ranged = full.detect(photos / "obama.jpg", return_attributes="headpose", beauty_score_min="20", beauty_score_max="80").faces[0]
    assert ranged.face_rectangle == plain.face_rectangle and ranged.attributes == plain.attributes


# The attribute sets of the SDKs' own examples, most of which ask for what we cannot compute.
DEMO_SETS = {
    "python-sdk call.py": "gender,age,smiling,headpose,facequality,blur,eyestatus,emotion,ethnicity,beauty,mouthstatus,skinstatus",
    "php-sdk testDetectFace": "age,headpose",
    "php-sdk testAnalyzeFace": "gender,age,emotion",
    "faceppswift ReturnAttributes.all minus ethnicity": "gender,age,smiling,headpose,facequality,blur,eyestatus,emotion,beauty,mouthstatus,eyegaze,skinstatus",
}


@pytest.mark.parametrize("attributes", list(DEMO_SETS.values()), ids=list(DEMO_SETS))
def test_attributes_we_do_not_compute_are_refused_by_default(full, photos, attributes):
    r = full.post("detect", upload(photos / "obama.jpg"), return_attributes=attributes)
    assert r.status_code == 400 and m.decode(m.Error, r.json()).error_message == "BAD_ARGUMENTS: return_attributes"


@pytest.fixture(scope="module")
def lenient(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("lenient"), "--lenient-attributes")
    yield srv
    srv.stop()


@pytest.mark.parametrize("attributes", list(DEMO_SETS.values()), ids=list(DEMO_SETS))
def test_lenient_mode_returns_what_we_compute_and_names_the_rest(lenient, photos, attributes):
    c = Client(lenient, make_key(lenient.data, "detect"), SDKS[-1])
    r = c.post("detect", upload(photos / "obama.jpg"), return_attributes=attributes)
    wanted = attributes.split(",")
    if "ethnicity" in wanted:  # refused in every mode
        assert r.status_code == 400 and r.json()["error_message"] == "BAD_ARGUMENTS: return_attributes"
        return
    body = m.decode(m.DetectResponse, r.json())
    computed = {"smiling": "smile"}
    keys = {computed.get(w, w) for w in wanted if w in ("smiling", "headpose", "facequality", "blur", "eyestatus", "mouthstatus")}
    assert set(r.json()["faces"][0].get("attributes") or {}) == keys and body.faces[0].face_token
    assert r.json()["omitted_attributes"] == [w for w in wanted if w in ("gender", "age", "emotion", "beauty", "skinstatus", "eyegaze")]
