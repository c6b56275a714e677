"""Hostile form fields on every endpoint of a real ``faceprint serve``: never a 5xx, and the server lives.

The endpoints and their fields come from the server's own OpenAPI document, so a new endpoint or
field is covered without editing this file. Each field gets every value of :data:`CORPUS` (huge
numbers, NaN, negatives, wrong types, unicode, empty, overlong, bad base64, unknown tokens), once
beside valid context (a real face token, faceset and biz_token, so checks past the first are
reached) and once with every field of the endpoint hostile at the same time. A deliberately broken
store then shows that a real 500 carries its request_id and leaves its traceback in the log.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from service.support import ROOT, Key, Server, make_key

HUGE = "9" * 400
CORPUS = (
    HUGE, "-" + HUGE, f"{HUGE}.5", "1e308", "1e309", "NaN", "-inf", "-1", "-0", "0", "2147483648", "18446744073709551616", "0x10",
    "1.5", "", " ", "\x00", "\t\n", "A" * 100_000, "é" * 5000, "😀\u202e\ufeff", "data:AAAA", "data:,", "data:image/jpeg;base64,!!",
    "====", "AAAA", "/9j/", "[]", "{}", "null", "'; DROP TABLE face_tokens; --", "../../../../etc/passwd", "0" * 32, "f" * 64,
    "fpk_" + "x" * 24, ",", "1,2,3", "-1,-1,-1,-1", f"{HUGE},{HUGE},{HUGE},{HUGE}", "0,0,1e9,1e9", "0,0,0,0", ",".join(["x"] * 5000),
    "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd",
)  # fmt: skip
UPLOADS = (b"", b"\x00" * 64, b"\xff\xd8\xff\xe0" + b"\x00" * 32, "é".encode() * 50, b"PK\x03\x04" + b"\xff" * 60)
FULL = "detect,compare,faceset:read,faceset:write,admin"
PATH_PARAM = re.compile(r"\{[^}]+\}")
STRIDE = 3
LAST = ("delete", "revoke", "removeface")  # endpoints that spend the context run after the rest


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # With the user-supplied PAD weights installed, so /v1/liveness/passive parses its fields for real.
    pad = {"FACEPRINT_PAD_DIR": str(ROOT.parent / "shared" / "models" / "silent-face")}
    srv = Server(tmp_path_factory.mktemp("hostile-fields"), env=pad)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def key(server: Server) -> Key:
    return make_key(server.data, FULL)


@pytest.fixture(scope="module")
def context(server: Server, key: Key, photos) -> dict[str, str]:
    """Valid values for the fields an endpoint needs besides the hostile one."""
    with server.client() as c:
        def post(path: str, files: dict | None = None, **data: str) -> dict:
            r = c.post(path, data={**key.auth, **data}, files=files)
            assert r.status_code == 200, r.text
            return r.json()

        img = {"image_file": ("obama.jpg", (photos / "obama.jpg").read_bytes(), "image/jpeg")}
        token = post("/facepp/v3/detect", img)["faces"][0]["face_token"]
        spare = post("/facepp/v3/detect", img)["faces"][0]["face_token"]
        fs = post("/facepp/v3/faceset/create", outer_id="hostile", face_tokens=token)["faceset_token"]
        biz = post("/faceid/v1/biz_token", face_token=token)["biz_token"]
    return {
        "face_token": token, "face_token1": token, "face_token2": spare, "face_tokens": spare, "faceset_token": fs,
        "biz_token": biz, "subject": "", "job_id": "0" * 32, "target": "fpk_nobody",
    }  # fmt: skip


def endpoints(server: Server) -> list[tuple[str, str, list[str]]]:
    """(method, path, form fields) for every API route the server documents."""
    spec = httpx.get(server.url + "/openapi.json", timeout=30).json()
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            schema = op.get("requestBody", {}).get("content", {}).get("multipart/form-data", {}).get("schema", {})
            fields = [f for f in schema.get("properties", {}) if f not in ("api_key", "api_secret")]
            out.append((method.upper(), path, fields))
    return sorted(out, key=lambda e: (any(w in e[1] for w in LAST), e[1], e[0]))


def _send(c: httpx.Client, method: str, path: str, data: dict[str, str], files: dict | None = None) -> httpx.Response:
    if method == "GET":
        return c.get(path, params=data)
    return c.post(path, data=data, files=files)


def test_no_hostile_field_gets_a_5xx_and_the_server_lives(server, key, context):
    routes = endpoints(server)
    assert len(routes) >= 25 and any(f for _, _, f in routes)
    seen: Counter[int] = Counter()
    bad: list[str] = []
    with server.client() as c:
        def check(r: httpx.Response, what: str) -> None:
            seen[r.status_code] += 1
            if r.status_code >= 500 and len(bad) < 20:
                bad.append(f"{what}: {r.status_code} {r.text[:200]}")

        for method, path, fields in routes:
            if PATH_PARAM.search(path):  # the path parameter itself (job_id)
                for value in CORPUS:
                    at = PATH_PARAM.sub(quote(value[:2000], safe="") or "x", path)
                    check(_send(c, method, at, key.auth), f"{method} {path} <- {value[:40]!r}")
            for i, field in enumerate(fields):
                base = {k: v for k, v in context.items() if k in fields and k != field}
                if field.startswith(("image_", "face_rectangle")):  # a face token would win over the image: drop it
                    base = {k: v for k, v in base.items() if not k.startswith("face_token")}
                for value in CORPUS[i % STRIDE :: STRIDE]:  # a third per field; the all-at-once pass below sends every value
                    check(_send(c, method, path, {**key.auth, **base, field: value}), f"{method} {path} {field}={value[:40]!r}")
                if method == "POST":
                    blob = UPLOADS[i % len(UPLOADS)]
                    check(c.post(path, data={**key.auth, **base}, files={field: ("f", blob)}), f"POST {path} upload {field}")
            if method == "POST" and fields:
                raw = "&".join(f"{f}=%ff%fe%00" for f in fields)
                raw_body = f"api_key={key.api_key}&api_secret={key.api_secret}&{raw}".encode()
                check(c.post(path, content=raw_body, headers={"content-type": "application/x-www-form-urlencoded"}), f"POST {path} %ff")
            for value in CORPUS:
                check(_send(c, method, path, {**key.auth, **dict.fromkeys(fields, value)}), f"{method} {path} all={value[:40]!r}")
        check(c.post("/facepp/v3/detect", content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data; boundary=x"}), "torn multipart")
        check(c.post("/facepp/v3/detect", data={"api_key": HUGE, "api_secret": "\x00"}), "hostile credentials")
    assert not bad, "\n".join(bad)
    assert sum(seen.values()) > 2500 and seen[400] > 1000, seen
    assert server.proc.poll() is None
    assert httpx.get(server.url + "/health", timeout=5).status_code == 200


@pytest.fixture(scope="module")
def known(server: Server, key: Key, photos) -> dict[str, str]:
    """A face token and a faceset of its own (the corpus above may have deleted the context's)."""
    with server.client() as c:
        img = {"image_file": ("obama.jpg", (photos / "obama.jpg").read_bytes(), "image/jpeg")}
        token = c.post("/facepp/v3/detect", data=key.auth, files=img).json()["faces"][0]["face_token"]
        fs = c.post("/facepp/v3/faceset/create", data={**key.auth, "outer_id": "known-500s", "face_tokens": token}).json()
    return {"face_token": token, "faceset_token": fs["faceset_token"]}


@pytest.mark.parametrize("path", ["/facepp/v3/detect", "/facepp/v3/compare", "/facepp/v3/search"])
@pytest.mark.parametrize("field, value", [("image_base64", "data:AAAA"), ("face_rectangle", f"{HUGE},1,1,1")])
def test_the_two_known_500s_are_bad_arguments_naming_the_argument(server, key, known, photos, path, field, value):
    n = "1" if path.endswith("compare") else ""
    name = f"{field}_{n}" if n and field == "image_base64" else field + n
    data = {**key.auth, name: value, "face_token2": known["face_token"], "faceset_token": known["faceset_token"]}
    files = {f"image_file{n}": ("o.jpg", (photos / "obama.jpg").read_bytes())} if field == "face_rectangle" else None
    with server.client() as c:
        r = c.post(path, data=data, files=files)
    assert r.status_code == 400 and r.json()["error_message"] == f"BAD_ARGUMENTS: {name}", r.text


def test_an_unexpected_failure_is_a_500_with_its_request_id_and_a_logged_traceback(tmp_path, photos):
    srv = Server(tmp_path / "broken")
    try:
        k = make_key(srv.data, "detect")
        with sqlite3.connect(srv.data / "faceprint.db") as db:  # a damaged store: the faces table (face tokens too) is gone
            db.execute("PRAGMA foreign_keys=OFF")
            db.execute("DROP TABLE faces")
        with srv.client() as c:
            r = c.post("/facepp/v3/detect", data=k.auth, files={"image_file": ("o.jpg", (photos / "obama.jpg").read_bytes())})
            assert c.get("/health").status_code == 200  # and the server still serves
        assert r.status_code == 500
        body = r.json()
        rid = body["request_id"]
        assert body["error_message"] == "INTERNAL_ERROR" and rid in body["error_detail"]
        assert "Traceback" not in r.text and "no such table" not in r.text
    finally:
        srv.stop()
    lines = [json.loads(x) for x in srv.log.read_text().splitlines() if x.startswith("{")]
    crash = [x for x in lines if x.get("request_id") == rid and x.get("level") == "error"]
    assert crash and "Traceback" in crash[0]["exc"] and "no such table: faces" in crash[0]["exc"], lines[-5:]
    assert any(x.get("request_id") == rid and x.get("status") == 500 for x in lines)  # the access line shares the id
