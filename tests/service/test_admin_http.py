"""Admin endpoints over HTTP (keys, audit filters, chain check), the console's static files and headers,
and the POST form of a video job's status that keeps the secret out of URLs. Real server processes."""

from __future__ import annotations

import json

from .support import Key, Server, make_key


def post(server: Server, path: str, key: Key, **fields: str) -> dict:
    with server.client() as c:
        return c.post(path, data={**key.auth, **fields}).json()


def test_admin_creates_lists_and_revokes_keys_in_its_own_tenant(server: Server, key: Key) -> None:
    made = post(server, "/admin/keys/create", key, name="reader", scopes="detect,faceset:read", qps="5")
    assert made["scopes"] == ["detect", "faceset:read"] and made["tenant"] == key.tenant and len(made["api_secret"]) > 20
    new = Key(made["api_key"], made["api_secret"], made["tenant"])
    listed = post(server, "/admin/keys/list", key)["keys"]
    assert made["api_key"] in {k["api_key"] for k in listed}
    assert all("secret" not in json.dumps(k) for k in listed)  # never the secret, nor its hash
    assert {k["tenant"] for k in listed} == {key.tenant}
    # the new key works, within its scopes only
    assert "facesets" in post(server, "/facepp/v3/faceset/getfacesets", new)
    assert post(server, "/admin/keys/list", new)["error_message"].startswith("AUTHORIZATION_ERROR")
    assert post(server, "/admin/keys/revoke", key, target=new.api_key)["was_active"] is True
    assert post(server, "/facepp/v3/faceset/getfacesets", new)["error_message"] == "AUTHENTICATION_ERROR"


def test_admin_cannot_touch_another_tenants_keys(server: Server, key: Key) -> None:
    other = make_key(server.data, "admin", tenant="someone-else")
    listed = {k["api_key"] for k in post(server, "/admin/keys/list", key)["keys"]}
    assert other.api_key not in listed
    refused = post(server, "/admin/keys/revoke", key, target=other.api_key)
    assert refused["error_message"] == "AUTHORIZATION_ERROR: target"
    assert "keys" in post(server, "/admin/keys/list", other)  # still active


def test_create_rejects_unknown_scopes_and_needs_admin(server: Server, key: Key) -> None:
    assert post(server, "/admin/keys/create", key, name="x", scopes="detect,root")["error_message"].startswith("BAD_ARGUMENTS")
    plain = make_key(server.data, "detect,compare")
    for path in ("/admin/keys/create", "/admin/keys/list", "/admin/keys/revoke", "/admin/audit", "/admin/audit/verify"):
        assert post(server, path, plain, name="x", scopes="detect", target=plain.api_key)["error_message"].startswith("AUTHORIZATION_ERROR"), path


def test_audit_filters_and_chain_verification(server: Server, key: Key) -> None:
    wrong = Key(key.api_key, "not-the-secret", key.tenant)
    post(server, "/facepp/v3/faceset/getfacesets", key)
    post(server, "/facepp/v3/faceset/getfacesets", wrong)  # logged as AUTHENTICATION_ERROR, tenant unknown
    post(server, "/facepp/v3/faceset/getdetail", key, outer_id="no-such-gallery")
    got = post(server, "/admin/audit", key, endpoint="faceset/get", limit="1000")["entries"]
    assert got and all("faceset/get" in e["endpoint"] for e in got)
    errors = post(server, "/admin/audit", key, outcome="ERROR", limit="1000")["entries"]
    assert errors and {e["outcome"] for e in errors} >= {"INVALID_OUTER_ID"}
    assert all(e["outcome"].isupper() for e in errors)
    one = post(server, "/admin/audit", key, endpoint="faceset/get", limit="1")["entries"]
    assert len(one) == 1
    after = post(server, "/admin/audit", key, endpoint="faceset/get", start=str(one[0]["seq"]), limit="1000")["entries"]
    assert after == got[1:]  # paging by sequence number
    verdict = post(server, "/admin/audit/verify", key)
    assert verdict["ok"] is True and verdict["lines"] > 0 and verdict["bad_line"] is None


def test_audit_verify_names_an_edited_line(tmp_path) -> None:
    srv = Server(tmp_path / "d")
    try:
        admin = make_key(srv.data, "admin,faceset:read")
        for _ in range(3):
            post(srv, "/facepp/v3/faceset/getfacesets", admin)
    finally:
        srv.stop()
    log = srv.data / "audit.log"
    lines = log.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["outcome"] = "FORGED"
    lines[1] = json.dumps(entry, separators=(",", ":"))
    log.write_text("\n".join(lines) + "\n")
    srv2 = Server(srv.data)
    try:
        verdict = post(srv2, "/admin/audit/verify", admin)
        assert verdict["ok"] is False and verdict["bad_line"] == 2 and "edited" in verdict["reason"]
    finally:
        srv2.stop()


def test_console_is_served_with_a_strict_policy(server: Server) -> None:
    with server.client() as c:
        page = c.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/console/js/main.js">' in page.text and "<script>" not in page.text
        for res in (page, c.get("/console/js/main.js"), c.get("/console/style.css")):
            assert res.status_code == 200
            csp = res.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
            assert res.headers["referrer-policy"] == "no-referrer" and res.headers["x-content-type-options"] == "nosniff"
        assert c.get("/console/js/main.js").headers["content-type"].startswith(("text/javascript", "application/javascript"))
        missing = c.get("/console/nope.js")
        assert missing.status_code == 404
        assert c.get("/console/../app.py").status_code == 404
        assert c.post("/facepp/v3/nothing").json()["error_message"] == "API_NOT_FOUND"  # API 404s unchanged


def test_console_never_puts_the_secret_in_local_storage_or_urls() -> None:
    from pathlib import Path

    static = Path(__file__).resolve().parents[2] / "faceprint" / "console" / "static"
    code = "\n".join(p.read_text() for p in static.rglob("*.js"))
    assert "localStorage." not in code and "sessionStorage.setItem" in code
    assert 'method: "POST"' in code and "api_secret" in code
    assert "?api_secret" not in code and "&api_secret" not in code


def test_video_job_status_by_post_keeps_the_secret_out_of_the_url(server: Server, key: Key) -> None:
    reply = post(server, "/v1/video/jobs/no-such-job", key)
    assert reply["error_message"] == "INVALID_JOB_ID: job_id"
    with server.client() as c:
        assert c.post("/v1/video/jobs/no-such-job").json()["error_message"] == "AUTHENTICATION_ERROR"
