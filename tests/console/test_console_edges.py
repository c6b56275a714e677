"""Console rough edges, each in the real browser against the real server (issue 14, part B).

Independent of test_console.py's gallery: these use photos and clips straight from shared data.
"""

from __future__ import annotations

import itertools
import json
import threading
import time

import cv2
import httpx

from faceprint.video import open_video
from liveness.support import write_clip
from service.support import Key, cli, make_key

from .conftest import DATA, sign_in

TRAIN = DATA / "gallery" / "train"
TEST = DATA / "gallery" / "test"


def test_sign_in_text_and_favicon(page, console_server) -> None:
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto("/")
    form = page.locator("form.signin")
    form.wait_for()
    assert "`" not in form.inner_text()
    assert form.locator("code").inner_text() == "faceprint keys create"
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(href).status == 200 and page.request.get("/favicon.ico").status == 200
    page.wait_for_timeout(500)
    assert missing == []


def test_compare_gives_the_cli_confidence(page, admin_key: Key) -> None:
    a, b = TRAIN / "obama" / "obama.jpg", TEST / "obama1.jpg"
    sign_in(page, admin_key)
    page.get_by_test_id("compare-file-1").set_input_files(str(a))
    page.get_by_test_id("compare-file-2").set_input_files(str(b))
    page.get_by_test_id("verdict").wait_for()
    shown = page.get_by_test_id("confidence").inner_text()
    body = json.loads(cli("compare", str(a), str(b), "--json", check=False).stdout)
    assert shown == f"{body['confidence']:.1f}"  # the same 1:1 (mirror-fused) path as the CLI


def test_console_keeps_to_its_key_rate_and_shows_refusals(page, console_server) -> None:
    slow = make_key(console_server.data, "detect,compare,faceset:read", qps=1)
    refused: list[str] = []
    sent: list[tuple[float, str]] = []
    page.on("request", lambda r: sent.append((time.monotonic(), r.url)) if r.method == "POST" else None)
    page.on("response", lambda r: refused.append(r.url) if r.status == 403 else None)
    sign_in(page, slow)
    page.get_by_test_id("compare-file-1").set_input_files(str(TRAIN / "obama" / "obama.jpg"))
    page.get_by_test_id("compare-file-2").set_input_files(str(TEST / "obama1.jpg"))
    page.locator("[data-testid=verdict], [data-testid=compare-result] [role=alert]").first.wait_for(timeout=60_000)
    assert refused == [], page.get_by_test_id("compare-result").inner_text()  # two detects and a compare at 1 request/s: paced, never refused
    times = [t for t, _ in sent]
    assert len(times) >= 4 and min(b - a for a, b in itertools.pairwise(times)) > 0.9

    # Someone else spends the key's budget: the console says so and does not retry behind the user's back.
    stop = threading.Event()

    def hog() -> None:
        with httpx.Client(base_url=console_server.url) as c:
            while not stop.is_set():
                c.post("/facepp/v3/faceset/getfacesets", data=slow.auth)
                time.sleep(0.1)

    t = threading.Thread(target=hog)
    t.start()
    try:
        time.sleep(1.5)
        page.reload()
        sent.clear()
        page.get_by_test_id("compare-file-1").set_input_files(str(TRAIN / "biden" / "biden.jpg"))
        page.get_by_test_id("compare-file-2").set_input_files(str(TEST / "obama1.jpg"))
        alert = page.get_by_test_id("compare-result").get_by_role("alert")
        alert.wait_for(timeout=30_000)
        assert "CONCURRENCY_LIMIT_EXCEEDED" in alert.inner_text()
        page.wait_for_timeout(3000)
        assert len([u for _, u in sent if u.endswith("/facepp/v3/detect")]) == 2  # one per photo, no retries
    finally:
        stop.set()
        t.join()


def short_clip(path, seconds: float = 1.0):
    """The first seconds of the Hamilton clip (a real face), small enough to judge well within the server's 30 s."""
    with open_video(DATA / "video" / "short_hamilton_clip.mp4") as video:
        frames = [f.image for f in itertools.takewhile(lambda f: f.time_s < seconds, video)]
    return write_clip(path, [cv2.resize(im, (480, 270)) for im in frames])


def test_liveness_clip_challenge_is_drawn_before_the_upload(page, admin_key: Key, tmp_path) -> None:
    sign_in(page, admin_key, "#/liveness")
    tokens: list[str] = []
    page.on("request", lambda r: tokens.append(r.url) if r.url.endswith("/faceid/v1/biz_token") else None)
    clip = short_clip(tmp_path / "clip.mp4")
    page.get_by_test_id("liveness-clip").set_input_files(str(clip))  # no challenge yet: told to draw one
    alert = page.get_by_test_id("liveness-result").get_by_role("alert")
    alert.wait_for()
    assert "draw a challenge first" in alert.inner_text() and tokens == []
    page.get_by_test_id("liveness-reference").set_input_files(str(TRAIN / "obama" / "obama.jpg"))
    page.get_by_role("button", name="Draw a challenge for a clip").click()
    ask = page.get_by_test_id("clip-challenge").locator("strong")
    ask.wait_for()
    asked = ask.inner_text()
    assert asked and len(tokens) == 1
    page.get_by_test_id("liveness-clip").set_input_files(str(clip))
    verdict = page.get_by_test_id("liveness-result").locator("[data-verdict], [role=alert]").first
    verdict.wait_for(timeout=180_000)
    assert verdict.get_attribute("data-verdict") == "REJECT", page.get_by_test_id("liveness-result").inner_text()
    assert page.get_by_test_id("asked").inner_text() == f"Asked: {asked}"  # what was asked stays with the verdict
    assert len(tokens) == 1  # the clip was judged against the challenge the user saw


def test_audit_table_keeps_keys_on_one_line(page, console_server, admin_key: Key) -> None:
    with httpx.Client(base_url=console_server.url) as c:
        for _ in range(55):
            c.post("/facepp/v3/faceset/getfacesets", data=admin_key.auth)
        c.post("/facepp/v3/detect", data={**admin_key.auth, "image_base64": "bm90IGFuIGltYWdl"})  # a long error outcome
    sign_in(page, admin_key, "#/keys")
    rows = page.get_by_test_id("audit-rows").locator("tbody tr")
    rows.nth(49).wait_for()
    assert rows.count() == 50
    lines = page.locator("td.key").evaluate_all(
        "cells => cells.map(c => { const r = document.createRange(); r.selectNodeContents(c); return r.getClientRects().length; })")
    assert len(lines) == 50 and set(lines) == {1}, lines  # each key on one line, whole
    height = page.locator("table.audit").evaluate("t => t.getBoundingClientRect().height")
    assert height < 4000, height  # main squeezed the Key column to 4 characters a line: 50 rows made a 9,578 px page
    clipped = page.locator("table.audit").evaluate("t => t.scrollWidth - t.clientWidth")
    assert clipped <= 0
    for cell in page.locator("td.outcome").all()[:50]:
        assert cell.evaluate("c => c.scrollWidth <= c.clientWidth")
