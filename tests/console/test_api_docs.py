"""/docs (Swagger UI) renders in headless Debian chromium with every request off loopback refused.

The assets come from the ``fastapi-offline`` package through the server itself; a page that still
reached for a CDN would show nothing ("SwaggerUIBundle is not defined") and the refused request
would be recorded here.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from service.support import Server

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture
def offline_page(browser, console_server: Server) -> Iterator[tuple[object, list[str]]]:
    ctx = browser.new_context(viewport={"width": 1200, "height": 900}, base_url=console_server.url)
    refused: list[str] = []

    def gate(route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    ctx.route("**/*", gate)
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg, refused
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_swagger_ui_renders_every_operation_offline(offline_page) -> None:
    page, refused = offline_page
    page.goto("/docs")
    paths = page.locator(".opblock-summary-path")
    paths.filter(has_text="/facepp/v3/detect").first.wait_for()
    shown = set(paths.all_inner_texts())
    assert {"/facepp/v3/detect", "/facepp/v3/compare", "/facepp/v3/search", "/ready"} <= {p.strip().replace("\u200b", "") for p in shown}
    assert page.locator(".opblock").count() >= 20
    page.locator(".opblock-summary-path", has_text="/facepp/v3/compare").first.click()  # expands: parameters render
    page.locator(".opblock.is-open .parameters, .opblock.is-open .opblock-description-wrapper").first.wait_for()
    assert refused == [], f"/docs reached off loopback: {refused}"


def test_no_page_that_needs_a_cdn(console_server: Server) -> None:
    html = httpx.get(console_server.url + "/docs").text
    assert "cdn." not in html and "/static-offline-docs/swagger-ui-bundle.js" in html
    assert httpx.get(console_server.url + "/redoc").status_code == 404  # ReDoc would fetch its logo from a CDN
