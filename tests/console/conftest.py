"""Browser fixtures: a real ``faceprint serve`` on loopback, Debian's chromium driven by Playwright, axe-core.

Needs ``scripts/browser-deps.sh`` (chromium at /usr/bin/chromium, axe-core in .test-assets/).
Screenshots go to out/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from service.support import ROOT, Key, Server, make_key

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / ".test-assets" / "axe.min.js"
DATA = ROOT.parent / "shared" / "data"
SHOTS = ROOT / "out" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]  # fmt: skip


def _need() -> None:
    missing = [str(p) for p in (CHROMIUM, AXE, DATA / "gallery") if not p.exists()]
    if missing:
        pytest.fail(f"browser tests need {', '.join(missing)}: run scripts/browser-deps.sh (and provide ../shared/data)")


@pytest.fixture(scope="package")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _need()
    srv = Server(tmp_path_factory.mktemp("console"))
    yield srv
    srv.stop()


@pytest.fixture(scope="package")
def admin_key(console_server: Server) -> Key:
    return make_key(console_server.data, "detect,compare,faceset:read,faceset:write,admin")


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    _need()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, console_server: Server) -> Iterator[object]:
    # bypass_csp lets axe-core be injected; the CSP itself is checked in tests/service/test_console_http.py
    ctx = browser.new_context(viewport={"width": 1200, "height": 900}, base_url=console_server.url, bypass_csp=True)
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def sign_in(page, key: Key, where: str = "#/compare") -> None:
    page.goto("/" + where)
    page.get_by_label("API key", exact=True).fill(key.api_key)
    page.get_by_label("API secret", exact=True).fill(key.api_secret)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def shoot(page, name: str, docs: bool = False) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if docs:
        img = ROOT / "docs" / "img"
        img.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as full:  # a small copy for the README: 800 px wide, 256 colours
            small = full.convert("RGB").resize((800, round(full.height * 800 / full.width)), Image.Resampling.LANCZOS)
            small.quantize(256).save(img / f"console-{name}.png", optimize=True)
    return path


def axe_check(page) -> list[dict]:
    """Run axe-core on the page as it is; fail on serious or critical violations."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    summary = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in bad]
    assert not bad, f"axe: serious violations: {summary}"
    return result["violations"]
