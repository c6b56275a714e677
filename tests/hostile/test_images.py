"""Image bombs in every format we decode, against a real server: 400 codes, no 5xx, memory within the budget."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import alive
from .corpus import image_bombs, png_rgba16
from .support import ALLOWANCE_MB, BUDGET_MB, rss, watched

BOMBS = image_bombs()
MISLABELLED = {
    "gif-as.jpg"
}  # a real GIF named .jpg: decoded by what it is, not by its name
# Every refusal is a code of the image family; a bomb never gets as far as the detector.
IMAGE_CODES = {
    "IMAGE_ERROR_UNSUPPORTED_FORMAT",
    "INVALID_IMAGE_SIZE",
    "IMAGE_FILE_TOO_LARGE",
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_header_bombs_are_refused_before_decoding(hostile, name):
    server, key = hostile
    with watched(server.proc.pid) as w, server.client() as c:
        r = c.post(
            "/facepp/v3/detect",
            data=key.auth,
            files={"image_file": (name, BOMBS[name])},
        )
    if name in MISLABELLED:
        assert r.status_code == 200, r.text
    else:
        assert r.status_code == 400, r.text
        assert r.json()["error_message"].split(":")[0] in IMAGE_CODES
    assert (
        w.peak_increase_mb < 50
    )  # refused from the header: nothing the size of the declared raster
    assert alive(server)


def test_concurrent_rgba16_pngs_stay_within_the_budget_and_are_freed(hostile):
    """A sample of the 16-PNG attack (bench/hostile.py runs all 16): 6 at once, 4096x4096 RGBA 16-bit."""
    server, key = hostile
    png = png_rgba16()

    def post(_: int) -> tuple[int, str]:
        with server.client() as c:
            r = c.post(
                "/facepp/v3/detect",
                data=key.auth,
                files={"image_file": ("big.png", png)},
            )
        return r.status_code, r.json().get("error_message", "")

    with ThreadPoolExecutor(6) as pool:  # warm: the first burst sizes the detector's batch buffers once (a fixed cost)
        list(pool.map(post, range(6)))
    time.sleep(1.5)
    before = rss(server.proc.pid)

    with watched(server.proc.pid) as w, ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(post, range(6)))
    assert all(
        s == 200 or (s == 403 and m.startswith("CONCURRENCY_LIMIT_EXCEEDED"))
        for s, m in answers
    ), answers
    assert any(
        s == 200 for s, _ in answers
    )  # the budget admits work, it does not just refuse
    # The budget bounds the decodes and the decoded images (reserved until each request ends); the
    # allowance covers what no decode reserves, whatever the number of requests (see support.py).
    print(f"peak RSS increase {w.peak_increase_mb:.0f} MB")
    assert w.peak_increase_mb < BUDGET_MB + ALLOWANCE_MB
    time.sleep(1.5)  # the budget trims the heap a second after the last big decode
    after_mb = (rss(server.proc.pid) - before) / (1 << 20)
    print(f"RSS after {after_mb:.0f} MB")
    assert after_mb < 150  # decoded buffers handed back
    assert alive(server)
