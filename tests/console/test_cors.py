"""CORS in the real browser: a page on another origin calls detect, as the official JavaScript SDK does.

Two small pages are served by ``http.server`` on their own loopback ports (other origins than the
API's); ``faceprint serve --cors-origin`` allows the first only. The page fetches a photo from its
own origin and posts it with ``FormData`` (a simple request), then again with a custom header (which
makes Chromium send a preflight first). The allowed page reads the reply; the other gets nothing.
"""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from service.support import Key, Server, make_key

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>another origin</title></head><body>
<script>
async function detect(api, key, secret, preflight) {
  try {
    const photo = await (await fetch('/obama.jpg')).blob();
    const form = new FormData();
    form.append('api_key', key); form.append('api_secret', secret);
    form.append('image_file', photo, 'obama.jpg'); form.append('return_attributes', 'smiling');
    const headers = preflight ? {'X-Requested-With': 'facepp-javascript-sdk'} : {};
    const reply = await fetch(api + '/facepp/v3/detect', {method: 'POST', body: form, headers});
    const body = await reply.json();
    return {read: true, status: reply.status, faces: body.faces.length, smile: body.faces[0].attributes.smile.value};
  } catch (e) {
    return {read: false, error: String(e)};
  }
}
</script></body></html>"""


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def origins(tmp_path_factory: pytest.TempPathFactory, photos: Path) -> Iterator[tuple[str, str]]:
    """Two page origins on loopback: http://127.0.0.1:<port>."""
    root = tmp_path_factory.mktemp("pages")
    (root / "index.html").write_text(PAGE)
    shutil.copy(photos / "obama.jpg", root / "obama.jpg")
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))) for _ in range(2)]
    for httpd in servers:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield tuple(f"http://127.0.0.1:{h.server_address[1]}" for h in servers)  # type: ignore[misc]
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, origins: tuple[str, str]) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("cors"), "--cors-origin", origins[0])
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def key(api: Server) -> Key:
    return make_key(api.data, "detect")


def call_from(browser, origin: str, api: Server, key: Key, preflight: bool) -> dict:
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(origin + "/index.html")
        return page.evaluate("([a, k, s, p]) => detect(a, k, s, p)", [api.url, key.api_key, key.api_secret, preflight])
    finally:
        ctx.close()


@pytest.mark.parametrize("preflight", [False, True], ids=["simple", "preflighted"])
def test_allowed_origin_calls_detect_and_reads_the_reply(browser, origins, api, key, preflight):
    got = call_from(browser, origins[0], api, key, preflight)
    assert got["read"] and got["status"] == 200 and got["faces"] == 1, got
    assert got["smile"] > 50


@pytest.mark.parametrize("preflight", [False, True], ids=["simple", "preflighted"])
def test_other_origin_is_refused(browser, origins, api, key, preflight):
    got = call_from(browser, origins[1], api, key, preflight)
    assert not got["read"] and "Failed to fetch" in got["error"], got


def test_preflight_and_headers_over_plain_http(origins, api):
    allowed, other = origins
    ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-requested-with"}
    with httpx.Client(base_url=api.url) as c:
        ok = c.options("/facepp/v3/detect", headers={"Origin": allowed, **ask})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == allowed
        assert "POST" in ok.headers["access-control-allow-methods"]
        no = c.options("/facepp/v3/detect", headers={"Origin": other, **ask})
        assert no.status_code == 400 and "access-control-allow-origin" not in no.headers
        err = c.post("/facepp/v3/detect", data={"api_key": "x", "api_secret": "y"}, headers={"Origin": allowed})
        assert err.status_code == 401 and err.headers["access-control-allow-origin"] == allowed  # errors are readable too


def test_cors_is_off_by_default(console_server):
    r = httpx.options(
        console_server.url + "/facepp/v3/detect",
        headers={"Origin": "http://127.0.0.1:9", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in r.headers
