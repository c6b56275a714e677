"""Every Face++ endpoint over real HTTP against a real ``faceprint serve`` process, error paths included."""

from __future__ import annotations

import base64
import time

import pytest

from faceprint.service.landmarks import POINTS_83, POINTS_106

from .support import Key, Server, make_key

FULL = "detect,compare,faceset:read,faceset:write,admin"


def post(server: Server, key: Key, path: str, files: dict | None = None, **data: object):
    with server.client() as c:
        return c.post(path, data={**key.auth, **{k: str(v) for k, v in data.items()}}, files=files)


def upload(path) -> dict:
    return {"image_file": (path.name, path.read_bytes(), "image/jpeg")}


def detect_token(server: Server, key: Key, path) -> str:
    r = post(server, key, "/facepp/v3/detect", upload(path))
    assert r.status_code == 200, r.text
    return r.json()["faces"][0]["face_token"]


def error(r) -> str:
    return r.json()["error_message"]


def no_face(photos) -> bytes:
    """A real photo without a face: the lower part of obama.jpg (suit and flag)."""
    import cv2

    img = cv2.imread(str(photos / "obama.jpg"))
    _, jpg = cv2.imencode(".jpg", img[650:, :])
    return jpg.tobytes()


# -- detect ------------------------------------------------------------------------------------------
def test_detect_returns_tokens_rectangles_and_request_fields(server, key, photos):
    r = post(server, key, "/facepp/v3/detect", upload(photos / "obama.jpg"))
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"request_id", "time_used", "faces", "image_id", "face_num"}
    assert body["face_num"] == len(body["faces"]) == 1
    face = body["faces"][0]
    assert len(face["face_token"]) == 32
    rect = face["face_rectangle"]
    assert set(rect) == {"top", "left", "width", "height"}
    # Obama's face in obama.jpg (910x1137) sits left of centre in the upper half.
    assert 300 < rect["left"] < 450 and 50 < rect["top"] < 150 and 180 < rect["width"] < 300
    assert "landmark" not in face and "attributes" not in face


@pytest.mark.parametrize("scheme, names", [(1, POINTS_83), (2, POINTS_106)])
def test_detect_landmarks_83_and_106_named_points(server, key, photos, scheme, names):
    face = post(server, key, "/facepp/v3/detect", upload(photos / "obama.jpg"), return_landmark=scheme).json()["faces"][0]
    lm = face["landmark"]
    assert set(lm) == set(names)
    rect = face["face_rectangle"]
    for p in lm.values():  # every point lies on the face (with a margin for the contour)
        assert rect["left"] - 20 <= p["x"] <= rect["left"] + rect["width"] + 20
        assert rect["top"] - 20 <= p["y"] <= rect["top"] + rect["height"] + 20
    assert lm["left_eye_center"]["x"] < lm["right_eye_center"]["x"]
    assert lm["contour_chin"]["y"] > lm["mouth_lower_lip_bottom"]["y"] > lm["nose_tip"]["y"] > lm["left_eye_center"]["y"]


def test_detect_attributes(server, key, photos):
    wanted = "headpose,facequality,blur,eyestatus,mouthstatus,smiling"
    face = post(server, key, "/facepp/v3/detect", upload(photos / "obama.jpg"), return_attributes=wanted).json()["faces"][0]
    a = face["attributes"]
    assert set(a) == {"headpose", "facequality", "blur", "eyestatus", "mouthstatus", "smile"}  # Face++ answers smiling as smile
    assert set(a["headpose"]) == {"pitch_angle", "roll_angle", "yaw_angle"} and abs(a["headpose"]["yaw_angle"]) < 20
    assert a["facequality"]["value"] > a["facequality"]["threshold"]
    assert a["blur"]["blurness"]["value"] < 50
    eye = a["eyestatus"]["left_eye_status"]
    assert eye["no_glass_eye_open"] > 50 and eye["dark_glasses"] == 0
    assert abs(sum(eye.values()) - 100) < 0.01
    assert a["smile"]["value"] > a["smile"]["threshold"]  # the official portrait smiles


def test_detect_base64_and_several_faces(server, key, shared):
    path = shared / "detect" / "misc" / "face_recognition_two_people.jpg"
    text = base64.b64encode(path.read_bytes()).decode()
    body = post(server, key, "/facepp/v3/detect", image_base64=text).json()
    assert body["face_num"] == 2
    widths = [f["face_rectangle"]["width"] for f in body["faces"]]
    assert widths == sorted(widths, reverse=True)  # largest first
    assert len({f["face_token"] for f in body["faces"]}) == 2


def test_detect_no_face(server, key, photos):
    body = post(server, key, "/facepp/v3/detect", {"image_file": ("s.jpg", no_face(photos))}).json()
    assert body["faces"] == [] and body["face_num"] == 0


@pytest.mark.parametrize(
    "data, files, status, message",
    [
        ({}, None, 400, "MISSING_ARGUMENTS: image_url, image_file, image_base64"),
        ({"image_base64": "not base64 at all!"}, None, 400, "IMAGE_ERROR_UNSUPPORTED_FORMAT: image_base64"),
        ({}, {"image_file": ("x.jpg", b"GIF89a garbage", "image/jpeg")}, 400, "IMAGE_ERROR_UNSUPPORTED_FORMAT: image_file"),
        ({"return_landmark": "3"}, "photo", 400, "BAD_ARGUMENTS: return_landmark"),
        ({"return_landmark": "x"}, "photo", 400, "BAD_ARGUMENTS: return_landmark"),
        ({"image_url": "http://example.com/a.jpg"}, None, 400, "INVALID_IMAGE_URL"),  # bare on detect, as Face++
        ({"beauty_score_min": "101"}, "photo", 400, "BAD_ARGUMENTS: beauty_score_min"),
        ({"beauty_score_min": "60", "beauty_score_max": "40"}, "photo", 400, "BAD_ARGUMENTS: beauty_score_min"),
    ],
)
def test_detect_errors(server, key, photos, data, files, status, message):
    if files == "photo":
        files = upload(photos / "obama.jpg")
    r = post(server, key, "/facepp/v3/detect", files, **data)
    assert r.status_code == status
    assert error(r) == message
    assert set(r.json()) >= {"request_id", "time_used", "error_message"}


@pytest.mark.parametrize("attribute", ["ethnicity", "gender", "age", "beauty", "emotion"])
def test_unsupported_attributes_name_the_supported_ones(server, key, photos, attribute):
    r = post(server, key, "/facepp/v3/detect", upload(photos / "obama.jpg"), return_attributes=f"headpose,{attribute}")
    assert r.status_code == 400
    assert error(r) == "BAD_ARGUMENTS: return_attributes"
    detail = r.json()["error_detail"]
    assert "headpose,facequality,blur,eyestatus,mouthstatus,smiling" in detail and "ethnicity" not in detail.split("supported")[1]


def test_tiny_image_is_invalid_size(server, key):
    import cv2
    import numpy as np

    _, png = cv2.imencode(".png", np.zeros((20, 20, 3), np.uint8))
    r = post(server, key, "/facepp/v3/detect", {"image_file": ("t.png", png.tobytes(), "image/png")})
    assert r.status_code == 400 and error(r) == "INVALID_IMAGE_SIZE: image_file"


# -- compare -----------------------------------------------------------------------------------------
def test_compare_same_and_different_people(server, key, photos):
    same = post(server, key, "/facepp/v3/compare", {
        "image_file1": ("a.jpg", (photos / "obama.jpg").read_bytes()), "image_file2": ("b.jpg", (photos / "obama2.jpg").read_bytes()),
    }).json()  # fmt: skip
    assert set(same) >= {"confidence", "thresholds", "faces1", "faces2", "image_id1", "image_id2", "request_id", "time_used"}
    assert set(same["thresholds"]) == {"1e-3", "1e-4", "1e-5"}
    assert same["confidence"] > same["thresholds"]["1e-5"]
    token = same["faces1"][0]["face_token"]
    other = post(server, key, "/facepp/v3/compare", {"image_file2": ("b.jpg", (photos / "biden.jpg").read_bytes())}, face_token1=token).json()
    assert other["confidence"] < other["thresholds"]["1e-3"]
    assert "image_id1" not in other and other["faces1"][0]["face_token"] == token


def test_compare_of_two_images_is_the_library_1to1_verdict(server, key, photos):
    """Two images: 1:1 templates and thresholds, exactly as FaceEngine.compare (flip-fused on arcface-s)."""
    from faceprint import FaceEngine

    r = post(server, key, "/facepp/v3/compare", {
        "image_file1": ("a.jpg", (photos / "obama.jpg").read_bytes()), "image_file2": ("b.jpg", (photos / "obama3.jpg").read_bytes()),
    }).json()  # fmt: skip
    engine = FaceEngine()
    verdict = engine.compare(photos / "obama.jpg", photos / "obama3.jpg")
    plain = engine.calibration.confidence(verdict.similarity)
    assert abs(r["confidence"] - verdict.confidence) < 0.01 and abs(verdict.confidence - plain) > 0.01


def test_compare_base64_numbered_field(server, key, photos):
    b64 = base64.b64encode((photos / "obama2.jpg").read_bytes()).decode()
    r = post(server, key, "/facepp/v3/compare", upload(photos / "obama.jpg") | {}, image_base64_1=b64, image_base64_2=b64)
    assert r.status_code == 200 and r.json()["confidence"] > 95


def test_compare_without_a_face_omits_confidence(server, key, photos):
    r = post(server, key, "/facepp/v3/compare", {
        "image_file1": ("a.jpg", (photos / "obama.jpg").read_bytes()), "image_file2": ("d.jpg", no_face(photos)),
    })  # fmt: skip
    body = r.json()
    assert r.status_code == 200 and "confidence" not in body and body["faces2"] == []


def test_compare_errors(server, key, photos):
    r = post(server, key, "/facepp/v3/compare", upload(photos / "obama.jpg"))
    assert r.status_code == 400 and error(r).startswith("MISSING_ARGUMENTS: face_token1")
    r = post(server, key, "/facepp/v3/compare", face_token1="0" * 32, face_token2="1" * 32)
    assert r.status_code == 400 and error(r) == f"INVALID_FACE_TOKEN: {'0' * 32}"  # Face++ names the token


# -- facesets and search -----------------------------------------------------------------------------
def test_faceset_lifecycle_and_search(server, key, photos):
    obama, biden = detect_token(server, key, photos / "obama.jpg"), detect_token(server, key, photos / "biden.jpg")
    r = post(server, key, "/facepp/v3/faceset/create", outer_id="life", display_name="Life", tags="a,b", user_data="ud", face_tokens=obama)
    body = r.json()
    assert r.status_code == 200 and body["face_added"] == 1 and body["face_count"] == 1 and body["outer_id"] == "life"
    fst = body["faceset_token"]
    # outer_id taken; force_merge adds to it instead
    r = post(server, key, "/facepp/v3/faceset/create", outer_id="life")
    assert r.status_code == 400 and error(r) == "FACESET_EXIST"  # bare, as Face++ (clients compare it exactly)
    r = post(server, key, "/facepp/v3/faceset/create", outer_id="life", force_merge=1, face_tokens=biden)
    assert r.json()["faceset_token"] == fst and r.json()["face_added"] == 1 and r.json()["face_count"] == 2
    # re-adding is a no-op; unknown tokens are reported, not fatal
    r = post(server, key, "/facepp/v3/faceset/addface", faceset_token=fst, face_tokens=f"{obama},{'f' * 32}")
    assert r.json()["face_added"] == 0 and r.json()["failure_detail"] == [{"reason": "INVALID_FACE_TOKEN", "face_token": "f" * 32}]
    # user ids
    r = post(server, key, "/facepp/v3/face/setuserid", face_token=obama, user_id="barack")
    assert r.json()["user_id"] == "barack"
    # search by image, by face token, with several results
    with server.client() as c:
        s = c.post("/facepp/v3/search", data={**key.auth, "outer_id": "life", "return_result_count": "2"},
                   files=upload(photos / "obama2.jpg")).json()  # fmt: skip
    assert [h["user_id"] for h in s["results"]] == ["barack", ""]
    assert s["results"][0]["face_token"] == obama and s["results"][0]["confidence"] > s["thresholds"]["1e-5"]
    assert len(s["faces"]) == 1 and "image_id" in s
    s = post(server, key, "/facepp/v3/search", faceset_token=fst, face_token=biden).json()
    assert s["results"][0]["face_token"] == biden and s["results"][0]["confidence"] > 99
    # details
    d = post(server, key, "/facepp/v3/faceset/getdetail", outer_id="life").json()
    assert d["face_count"] == 2 and sorted(d["face_tokens"]) == sorted([obama, biden])
    assert d["tags"] == "a,b" and d["user_data"] == "ud" and d["display_name"] == "Life" and "next" not in d
    g = post(server, key, "/facepp/v3/face/getdetail", face_token=obama).json()
    assert g["user_id"] == "barack" and [f["faceset_token"] for f in g["facesets"]] == [fst]
    # update
    r = post(server, key, "/facepp/v3/faceset/update", faceset_token=fst, new_outer_id="life2", display_name="L2", tags="c")
    assert r.json()["outer_id"] == "life2"
    assert post(server, key, "/facepp/v3/faceset/getdetail", outer_id="life2").json()["tags"] == "c"
    r = post(server, key, "/facepp/v3/faceset/update", faceset_token=fst)
    assert r.status_code == 400 and error(r).startswith("MISSING_ARGUMENTS")
    # listing with tags
    lst = post(server, key, "/facepp/v3/faceset/getfacesets", tags="c").json()
    assert [f["faceset_token"] for f in lst["facesets"]] == [fst]
    # remove one, then delete refuses while not empty
    r = post(server, key, "/facepp/v3/faceset/removeface", faceset_token=fst, face_tokens=biden)
    assert r.json()["face_removed"] == 1 and r.json()["face_count"] == 1
    r = post(server, key, "/facepp/v3/faceset/delete", faceset_token=fst)
    assert r.status_code == 400 and error(r) == "FACESET_NOT_EMPTY"
    r = post(server, key, "/facepp/v3/faceset/removeface", faceset_token=fst, face_tokens="RemoveAllFaceTokens")
    assert r.json()["face_removed"] == 1 and r.json()["face_count"] == 0
    r = post(server, key, "/facepp/v3/search", faceset_token=fst, face_token=obama)
    assert r.status_code == 400 and error(r) == "EMPTY_FACESET"
    r = post(server, key, "/facepp/v3/faceset/delete", faceset_token=fst)
    assert r.status_code == 200 and r.json()["faceset_token"] == fst
    r = post(server, key, "/facepp/v3/faceset/getdetail", faceset_token=fst)
    assert r.status_code == 400 and error(r) == "INVALID_FACESET_TOKEN"
    r = post(server, key, "/facepp/v3/faceset/getdetail", outer_id="life2")
    assert r.status_code == 400 and error(r) == "INVALID_OUTER_ID"


def test_delete_with_check_empty_zero_and_getdetail_paging(server, key, photos):
    tokens = []
    with server.client() as c:
        for _ in range(3):
            for p in ("obama.jpg", "biden.jpg", "obama2.jpg"):
                tokens.append(c.post("/facepp/v3/detect", data=key.auth, files=upload(photos / p)).json()["faces"][0]["face_token"])
    fst = post(server, key, "/facepp/v3/faceset/create", outer_id="paged").json()["faceset_token"]
    for i in range(0, 9, 5):  # at most 5 per addface, as Face++
        r = post(server, key, "/facepp/v3/faceset/addface", faceset_token=fst, face_tokens=",".join(tokens[i : i + 5]))
    assert r.json()["face_count"] == 9
    d = post(server, key, "/facepp/v3/faceset/getdetail", faceset_token=fst, start=5).json()
    assert d["face_tokens"] == tokens[4:]
    r = post(server, key, "/facepp/v3/faceset/getdetail", faceset_token=fst, start=0)
    assert r.status_code == 400 and error(r) == "BAD_ARGUMENTS: start"
    assert post(server, key, "/facepp/v3/faceset/delete", faceset_token=fst, check_empty=0).status_code == 200


def test_too_many_face_tokens(server, key):
    fst = post(server, key, "/facepp/v3/faceset/create").json()["faceset_token"]
    r = post(server, key, "/facepp/v3/faceset/addface", faceset_token=fst, face_tokens=",".join(f"{i:032x}" for i in range(6)))
    assert r.status_code == 400 and error(r) == "INVALID_FACE_TOKENS_SIZE"
    r = post(server, key, "/facepp/v3/faceset/addface", faceset_token=fst)
    assert r.status_code == 400 and error(r) == "MISSING_ARGUMENTS: face_tokens"


def test_async_addface_removeface_and_task_status(server, key, photos):
    token = detect_token(server, key, photos / "obama.jpg")
    fst = post(server, key, "/facepp/v3/faceset/create", outer_id="async").json()["faceset_token"]
    task = post(server, key, "/facepp/v3/faceset/async/addface", faceset_token=fst, face_tokens=token).json()["task_id"]
    status = _finished(server, key, task)
    assert status["face_added"] == 1 and status["face_count"] == 1 and status["faceset_token"] == fst
    task = post(server, key, "/facepp/v3/faceset/async/removeface", outer_id="async", face_tokens=token).json()["task_id"]
    status = _finished(server, key, task)
    assert status["face_removed"] == 1 and status["face_count"] == 0
    r = post(server, key, "/facepp/v3/faceset/async/task_status", task_id="tsk_nothing")
    assert r.status_code == 400 and error(r) == "INVALID_TASK_ID"


def _finished(server, key, task_id: str) -> dict:
    for _ in range(100):
        body = post(server, key, "/facepp/v3/faceset/async/task_status", task_id=task_id).json()
        if body["status"] == 1:
            return body
        time.sleep(0.1)
    raise AssertionError("task did not finish")


# -- face --------------------------------------------------------------------------------------------
def test_face_analyze(server, key, photos):
    token = detect_token(server, key, photos / "obama.jpg")
    body = post(server, key, "/facepp/v3/face/analyze", face_tokens=token, return_landmark=2, return_attributes="headpose,smiling").json()
    (face,) = body["faces"]
    assert face["face_token"] == token and len(face["landmark"]) == 106 and set(face["attributes"]) == {"headpose", "smile"}
    r = post(server, key, "/facepp/v3/face/analyze", face_tokens=token)
    assert r.status_code == 400 and error(r) == "VOID_REQUEST"
    r = post(server, key, "/facepp/v3/face/analyze", face_tokens=",".join([token] * 6), return_landmark=1)
    assert r.status_code == 400 and error(r) == "INVALID_FACE_TOKENS_SIZE"


def test_face_getdetail_and_setuserid_errors(server, key, photos):
    token = detect_token(server, key, photos / "biden.jpg")
    g = post(server, key, "/facepp/v3/face/getdetail", face_token=token).json()
    assert g["facesets"] == [] and g["user_id"] == "" and set(g["face_rectangle"]) == {"top", "left", "width", "height"}
    r = post(server, key, "/facepp/v3/face/setuserid", face_token=token, user_id="bad,name")
    assert r.status_code == 400 and error(r).startswith("BAD_ARGUMENTS")
    r = post(server, key, "/facepp/v3/face/setuserid", face_token="9" * 32, user_id="x")
    assert r.status_code == 400 and error(r) == f"INVALID_FACE_TOKEN: {'9' * 32}"


# -- operations --------------------------------------------------------------------------------------
def test_health_ready_metrics_docs_and_unknown_api(server, key, photos):
    post(server, key, "/facepp/v3/detect", upload(photos / "obama.jpg"))
    with server.client() as c:
        assert c.get("/health").json() == {"status": "ok"}
        assert c.get("/ready").json()["status"] == "ready"
        ops = make_key(server.data, "metrics")
        metrics = c.get("/metrics", auth=(ops.api_key, ops.api_secret)).text  # the operator's key (tests/service/test_auth.py)
        assert 'faceprint_requests_total{endpoint="/facepp/v3/detect",status="200"}' in metrics
        assert "faceprint_request_seconds_bucket" in metrics and "faceprint_gallery_faces" in metrics
        assert 'faceprint_faces_processed_total{endpoint="detect"}' in metrics
        assert "/facepp/v3/faceset/async/task_status" in c.get("/openapi.json").text
        assert c.get("/docs").status_code == 200
        r = c.post("/facepp/v3/nothing", data=key.auth)
        assert r.status_code == 404 and r.json()["error_message"] == "API_NOT_FOUND"
        r = c.get("/facepp/v3/detect")
        assert r.status_code == 404 and r.json()["error_message"] == "API_NOT_FOUND"
        r = c.post("/facepp/v3/detect", content=b"--x\r\nnot multipart", headers={"content-type": "multipart/form-data; boundary=x"})
        assert r.status_code in (400, 401) and r.json()["error_message"].split(":")[0] in ("BAD_ARGUMENTS", "AUTHENTICATION_ERROR")


def test_admin_audit_endpoint(server, key, photos):
    post(server, key, "/facepp/v3/detect", upload(photos / "obama.jpg"))
    entries = post(server, key, "/admin/audit", limit=1000).json()["entries"]
    detects = [e for e in entries if e["endpoint"] == "detect" and e["outcome"] == "ok"]
    assert detects and detects[-1]["faces"] == 1 and detects[-1]["key"] == key.api_key
    assert all(e["tenant"] == key.tenant for e in entries)
    assert {"seq", "time", "key", "endpoint", "faceset", "faces", "results", "outcome", "hash", "prev"} <= set(entries[-1])
