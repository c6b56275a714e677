"""``faceprint serve`` as a newcomer starts it: the console URL, a hint when there is no key, clean JSON logs.

Also what the console relies on from the server: a favicon, and the key's rate in X-RateLimit-Limit.
"""

from __future__ import annotations

import json
import re

from .support import Server, cli, make_key


def test_serve_prints_the_console_url_and_a_key_hint(tmp_path):
    srv = Server(tmp_path / "fresh")
    try:
        with srv.client() as c:
            icon = c.get("/favicon.ico")
            assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml") and b"<svg" in icon.content
            assert c.get("/console/favicon.svg").status_code == 200
            key = make_key(srv.data, "detect,faceset:read", qps=7)
            r = c.post("/facepp/v3/faceset/getfacesets", data=key.auth)
            assert r.headers["X-RateLimit-Limit"] == "7"  # the console paces itself by it
    finally:
        srv.stop()
    log = srv.log.read_text()
    assert f"faceprint console: http://127.0.0.1:{srv.port}/" in log
    assert "no API key yet" in log and f"faceprint keys create --name me --scopes detect,compare,faceset:read,faceset:write,admin --data {srv.data}" in log
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(r["logger"].startswith("uvicorn") for r in records)
    assert not [r for r in records if "color_message" in r] and "\x1b[" not in log

    again = Server(srv.data)  # the data dir now holds a key: no hint
    again.stop()
    assert "faceprint console:" in again.log.read_text() and "no API key yet" not in again.log.read_text()

    audit = cli("audit", "show", "--data", str(srv.data))
    times = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", audit.stdout)
    assert times and not re.search(r"\b1\d{9}\.\d+", audit.stdout), audit.stdout
