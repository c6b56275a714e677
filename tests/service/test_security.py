"""Security over real HTTP: authentication, scopes, tenant isolation, rate limits, body caps, SSRF, expiry."""

from __future__ import annotations

import http.server
import sqlite3
import threading
import time

import pytest

from .support import Key, Server, cli, make_key

FULL = "detect,compare,faceset:read,faceset:write,admin"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("secure"), "--max-body", "2000000", "--allow-url-host", "localhost")
    yield srv
    srv.stop()


def call(server: Server, key: Key | dict, path: str, files=None, **data):
    auth = key.auth if isinstance(key, Key) else key
    with server.client() as c:
        return c.post(path, data={**auth, **{k: str(v) for k, v in data.items()}}, files=files)


def upload(path) -> dict:
    return {"image_file": (path.name, path.read_bytes(), "image/jpeg")}


def bare(r, *names: str) -> dict:
    """The reply without what differs per request, with the names the caller sent masked."""
    text = r.text
    for name in names:
        text = text.replace(name, "<name>")
    import json

    return {k: v for k, v in json.loads(text).items() if k not in ("request_id", "time_used")} | {"status": r.status_code}


# -- authentication and scopes -------------------------------------------------------------------------
def test_wrong_secret_unknown_key_and_revoked_key_get_401(server, photos):
    key = make_key(server.data, "detect")
    r = call(server, {"api_key": key.api_key, "api_secret": key.api_secret + "x"}, "/facepp/v3/detect", upload(photos / "obama.jpg"))
    assert r.status_code == 401 and r.json()["error_message"] == "AUTHENTICATION_ERROR"
    r = call(server, {"api_key": "fpk_nobody", "api_secret": "nothing"}, "/facepp/v3/detect", upload(photos / "obama.jpg"))
    assert r.status_code == 401 and r.json()["error_message"] == "AUTHENTICATION_ERROR"
    r = call(server, {}, "/facepp/v3/detect", upload(photos / "obama.jpg"))
    assert r.status_code == 401
    assert call(server, key, "/facepp/v3/detect", upload(photos / "obama.jpg")).status_code == 200
    cli("keys", "revoke", key.api_key, "--data", str(server.data))
    r = call(server, key, "/facepp/v3/detect", upload(photos / "obama.jpg"))
    assert r.status_code == 401 and r.json()["error_message"] == "AUTHENTICATION_ERROR"


def test_secret_is_stored_only_as_a_salted_hash(server):
    key = make_key(server.data, "detect")
    raw = (server.data / "keys.db").read_bytes() + (server.data / "keys.db-wal").read_bytes() if (server.data / "keys.db-wal").exists() else (server.data / "keys.db").read_bytes()
    assert key.api_secret.encode() not in raw
    with sqlite3.connect(server.data / "keys.db") as db:
        (stored,) = db.execute("SELECT secret_hash FROM api_keys WHERE api_key=?", (key.api_key,)).fetchone()
    assert stored.startswith("scrypt$16384$8$1$")
    listed = cli("keys", "list", "--json", "--data", str(server.data)).stdout
    assert key.api_key in listed and key.api_secret not in listed


@pytest.mark.parametrize(
    "scopes, path, needed",
    [
        ("detect", "/facepp/v3/compare", "compare"),
        ("detect", "/facepp/v3/faceset/create", "faceset:write"),
        ("faceset:read", "/facepp/v3/faceset/create", "faceset:write"),
        ("compare", "/facepp/v3/detect", "detect"),
        ("detect", "/facepp/v3/search", "faceset:read"),
        ("detect,compare,faceset:read,faceset:write", "/admin/audit", "admin"),
    ],
)
def test_missing_scope_is_refused(server, scopes, path, needed):
    r = call(server, make_key(server.data, scopes), path)
    assert r.status_code == 403
    assert r.json()["error_message"] == f"AUTHORIZATION_ERROR: Denied. Needs scope {needed}"


# -- tenant isolation ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tenants(server, photos):
    a, b = make_key(server.data, FULL), make_key(server.data, FULL)
    token = call(server, a, "/facepp/v3/detect", upload(photos / "obama.jpg")).json()["faces"][0]["face_token"]
    loose = call(server, a, "/facepp/v3/detect", upload(photos / "biden.jpg")).json()["faces"][0]["face_token"]
    fs = call(server, a, "/facepp/v3/faceset/create", outer_id="secret-set", face_tokens=token).json()
    task = call(server, a, "/facepp/v3/faceset/async/addface", faceset_token=fs["faceset_token"], face_tokens=loose).json()["task_id"]
    b_token = call(server, b, "/facepp/v3/detect", upload(photos / "obama2.jpg")).json()["faces"][0]["face_token"]
    return {"a": a, "b": b, "token": token, "loose": loose, "fst": fs["faceset_token"], "task": task, "b_token": b_token}


NOBODY_FS, NOBODY_FACE = "0" * 32, "1" * 32


@pytest.mark.parametrize(
    "path, args",
    [
        ("/facepp/v3/faceset/getdetail", {}),
        ("/facepp/v3/faceset/addface", {"face_tokens": "{b_token}"}),
        ("/facepp/v3/faceset/removeface", {"face_tokens": "{token}"}),
        ("/facepp/v3/faceset/update", {"display_name": "pwned"}),
        ("/facepp/v3/faceset/delete", {"check_empty": "0"}),
        ("/facepp/v3/faceset/async/addface", {"face_tokens": "{b_token}"}),
        ("/facepp/v3/search", {"face_token": "{b_token}"}),
    ],
)
def test_other_tenants_faceset_looks_exactly_like_a_missing_one(server, tenants, path, args):
    fill = {k: v.format(**tenants) for k, v in args.items()}
    theirs = call(server, tenants["b"], path, faceset_token=tenants["fst"], **fill)
    missing = call(server, tenants["b"], path, faceset_token=NOBODY_FS, **fill)
    assert theirs.status_code == 400 and theirs.json()["error_message"] == "INVALID_FACESET_TOKEN"
    assert bare(theirs, tenants["fst"]) == bare(missing, NOBODY_FS)
    by_name = call(server, tenants["b"], path, outer_id="secret-set", **fill)
    by_missing_name = call(server, tenants["b"], path, outer_id="no-such-set", **fill)
    assert by_name.json()["error_message"] == "INVALID_OUTER_ID"
    assert bare(by_name, "secret-set") == bare(by_missing_name, "no-such-set")
    # and the owner's faceset is untouched
    detail = call(server, tenants["a"], "/facepp/v3/faceset/getdetail", faceset_token=tenants["fst"]).json()
    assert tenants["token"] in detail["face_tokens"] and detail["display_name"] == ""


@pytest.mark.parametrize(
    "path, field, extra",
    [
        ("/facepp/v3/compare", "face_token1", {"face_token2": "{b_token}"}),
        ("/facepp/v3/face/getdetail", "face_token", {}),
        ("/facepp/v3/face/setuserid", "face_token", {"user_id": "x"}),
        ("/facepp/v3/face/analyze", "face_tokens", {"return_landmark": "1"}),
    ],
)
def test_other_tenants_face_token_looks_exactly_like_a_missing_one(server, tenants, path, field, extra):
    fill = {k: v.format(**tenants) for k, v in extra.items()}
    for token in (tenants["token"], tenants["loose"]):  # in a faceset, and not
        theirs = call(server, tenants["b"], path, **{field: token}, **fill)
        missing = call(server, tenants["b"], path, **{field: NOBODY_FACE}, **fill)
        assert theirs.status_code == 400 and theirs.json()["error_message"] == f"INVALID_FACE_TOKEN: {token}"
        assert bare(theirs, token) == bare(missing, NOBODY_FACE)
    assert call(server, tenants["a"], "/facepp/v3/face/getdetail", face_token=tenants["token"]).json()["user_id"] == ""


def test_other_tenant_cannot_add_foreign_face_tokens_list_or_see_names(server, tenants):
    b = tenants["b"]
    mine = call(server, b, "/facepp/v3/faceset/create", outer_id="secret-set").json()  # same outer_id: no FACESET_EXIST leak
    assert mine["faceset_token"] != tenants["fst"]
    r = call(server, b, "/facepp/v3/faceset/addface", faceset_token=mine["faceset_token"], face_tokens=tenants["token"]).json()
    assert r["face_added"] == 0 and r["failure_detail"] == [{"reason": "INVALID_FACE_TOKEN", "face_token": tenants["token"]}]
    listed = call(server, b, "/facepp/v3/faceset/getfacesets").json()["facesets"]
    assert [f["faceset_token"] for f in listed] == [mine["faceset_token"]]
    r = call(server, b, "/facepp/v3/faceset/async/task_status", task_id=tenants["task"])
    assert r.status_code == 400 and r.json()["error_message"] == "INVALID_TASK_ID"
    audit = call(server, b, "/admin/audit", limit=1000).json()["entries"]
    assert audit and all(e["tenant"] == b.tenant for e in audit)
    assert all(e["key"] != tenants["a"].api_key for e in audit)


def test_a_key_given_the_same_tenant_shares_its_facesets(server, tenants):
    friend = make_key(server.data, "faceset:read", tenant=tenants["a"].tenant)
    r = call(server, friend, "/facepp/v3/faceset/getdetail", faceset_token=tenants["fst"])
    assert r.status_code == 200 and tenants["token"] in r.json()["face_tokens"]


# -- rate limits, body caps, time limits ----------------------------------------------------------------
def test_rate_limit_answers_concurrency_limit_exceeded(server):
    key = make_key(server.data, "faceset:read", qps=1)
    codes = [call(server, key, "/facepp/v3/faceset/getfacesets") for _ in range(4)]
    assert codes[0].status_code == 200
    limited = [r for r in codes[1:] if r.status_code == 403]
    assert limited and all(r.json()["error_message"] == "CONCURRENCY_LIMIT_EXCEEDED" for r in limited)
    time.sleep(1.1)  # the bucket refills
    assert call(server, key, "/facepp/v3/faceset/getfacesets").status_code == 200


def test_oversized_body_gets_413(server):
    key = make_key(server.data, "detect")
    big = b"\xff" * 2_500_000
    r = call(server, key, "/facepp/v3/detect", {"image_file": ("big.jpg", big, "image/jpeg")})
    assert r.status_code == 413 and r.json()["error_message"] == "REQUEST_ENTITY_TOO_LARGE"

    def chunks():  # no Content-Length: the cap must hold while streaming too
        for _ in range(30):
            yield b"x" * 100_000

    with server.client() as c:
        r = c.post("/facepp/v3/detect", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413


# -- image_url and SSRF --------------------------------------------------------------------------------
@pytest.fixture()
def photo_host(photos):
    hits = []
    body = (photos / "obama.jpg").read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1], hits
    httpd.shutdown()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "169.254.169.254", "10.0.0.1", "0.0.0.0"])
def test_image_url_to_loopback_and_private_addresses_is_refused(server, photo_host, host):
    port, hits = photo_host
    key = make_key(server.data, "detect")
    r = call(server, key, "/facepp/v3/detect", image_url=f"http://{host}:{port}/obama.jpg")
    assert r.status_code == 400 and r.json()["error_message"] == "INVALID_IMAGE_URL"  # bare on detect, as Face++
    assert hits == []  # nothing was fetched, not even the allow-listed name that resolves to loopback


# -- face token expiry ---------------------------------------------------------------------------------
def test_expired_face_tokens_are_refused_and_deleted(tmp_path, photos):
    srv = Server(tmp_path / "ttl", "--token-ttl", "2", "--purge-interval", "0.5")
    try:
        key = make_key(srv.data, FULL)
        with srv.client() as c:
            def post(path, files=None, **data):
                return c.post(path, data={**key.auth, **data}, files=files)

            kept = post("/facepp/v3/detect", upload(photos / "obama.jpg")).json()["faces"][0]["face_token"]
            gone = post("/facepp/v3/detect", upload(photos / "obama2.jpg")).json()["faces"][0]["face_token"]
            fst = post("/facepp/v3/faceset/create", face_tokens=kept).json()["faceset_token"]
            assert post("/facepp/v3/face/getdetail", face_token=gone).status_code == 200
            time.sleep(3.5)
            r = post("/facepp/v3/compare", face_token1=kept, face_token2=gone)
            assert r.status_code == 400 and r.json()["error_message"] == f"INVALID_FACE_TOKEN: {gone}"
            assert post("/facepp/v3/face/getdetail", face_token=gone).status_code == 400
            # a token in a faceset lives on
            assert post("/facepp/v3/search", faceset_token=fst, face_token=kept).json()["results"][0]["face_token"] == kept
            # removed from its faceset, the face's one copy is erased: the token is gone at once
            post("/facepp/v3/faceset/removeface", faceset_token=fst, face_tokens=kept)
            assert post("/facepp/v3/face/getdetail", face_token=kept).status_code == 400
        with sqlite3.connect(srv.data / "faceprint.db") as db:  # really deleted (gone: by the timer)
            assert db.execute("SELECT COUNT(*) FROM faces").fetchone()[0] == 0
        raw = b"".join(p.read_bytes() for p in srv.data.glob("faceprint.db*"))
        assert gone.encode() not in raw and kept.encode() not in raw  # secure_delete zeroed the rows, the WAL was truncated
    finally:
        srv.stop()


def test_binds_loopback_by_default(server):
    """The listening socket is 127.0.0.1:port (from the kernel's socket table), not 0.0.0.0."""
    from pathlib import Path

    table = Path("/proc/net/tcp")
    if not table.exists():
        pytest.skip("needs Linux /proc/net/tcp")
    listening = [
        line.split()[1] for line in table.read_text().splitlines()[1:]
        if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == server.port
    ]  # fmt: skip
    assert listening == [f"0100007F:{server.port:04X}"]
