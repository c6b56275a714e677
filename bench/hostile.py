"""Attacks on a real ``faceprint serve`` on loopback: does any request crash it, 5xx, or exhaust its memory?

    python bench/hostile.py                  # every attack, 100 video uploads (~10 min on 2 busy cores)
    python bench/hostile.py --videos 20 --only video,zip,png16

Protocol (issue 12): each attack runs against one server process while its RSS is sampled
(psutil, every 20 ms; video decoders are child processes and not counted) and ``/health`` is
timed every 50 ms from another client. The baseline row is the same sampling with no attack,
in the same run, and each row prints its ratio of /health p99 to the baseline's. Rows:

- video: tiny-frame (<48 px) and over-size (>4096 px) mp4/avi/mkv uploads to /v1/video/jobs;
  each must end with a stable code (refused at once, or its job failed), and the server live.
- zip: the 2.5 MB zip bomb (240 entries x 10 MiB zeros) to /faceid/v1/verify, made-up biz_token
  (``--zips`` times), then once with a real session; 400 codes, peak RSS increase < 100 MB, and
  /health p99 < 200 ms while the bombs are sent (its ratio to the baseline row is printed too).
- png16: 16 concurrent 4096x4096 16-bit RGBA PNGs to /facepp/v3/detect: peak RSS increase
  within the decode budget plus its fixed allowance (tests/hostile/support.py), and RSS back within 150 MB of where it started (1.5 s after).
- mjpeg: a 16000x16000 MJPEG AVI: refused from its header (VIDEO_ERROR_TOO_LARGE), quickly.
- fields: image_base64="data:AAAA" to detect/compare/search and a 400-digit face_rectangle.
- drip: an allow-listed image_url whose peer sends 1 byte every 3 s (cut at the total deadline?).
- kill9: a running video job, the server killed -9 twice and restarted: resumed at most once.

JSON goes to bench/results/hostile-<time>.json.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from hostile_support import Row, Target, attack, code_of, drip_server, tally  # noqa: E402
from tests.conftest import fetch_test_images  # noqa: E402
from tests.hostile import corpus  # noqa: E402
from tests.hostile.support import ALLOWANCE_MB, BUDGET_MB, rss  # noqa: E402
from tests.service.support import Key, make_key  # noqa: E402

SCOPES = "detect,compare,faceset:read,faceset:write"


# -- the attacks ----------------------------------------------------------------------------------
def baseline(target: Target, key: Key, args: argparse.Namespace) -> Row:
    return attack(target, Row("baseline (idle, /health only)"), lambda: time.sleep(3))


def videos(target: Target, key: Key, args: argparse.Namespace) -> Row:
    row = Row("video: tiny + over-size mp4/avi/mkv")
    files = [
        (n, d)
        for n, d in corpus.hostile_videos().items()
        if n.startswith(("tiny", "oversize"))
    ]
    stable: list[bool] = []

    def one(i: int) -> None:
        name, data = files[i % len(files)]
        with target.client() as c:
            try:
                r = c.post(
                    "/v1/video/jobs",
                    data={**key.auth, "annotate": "0"},
                    files={"video_file": (name, data)},
                )
            except httpx.HTTPError:
                row.requests += 1
                row.count("NO_ANSWER")
                return
            tally(row, r)
            if r.status_code != 200:
                stable.append(r.status_code < 500 and code_of(r) != "INTERNAL_ERROR")
                return
            job_id = r.json()["job_id"]
            for _ in range(600):
                try:
                    job = c.get(f"/v1/video/jobs/{job_id}", params=key.auth).json()
                except httpx.HTTPError:
                    break
                if job["status"] in ("done", "failed"):
                    code = (job.get("error") or {}).get("error_code", "DONE")
                    row.count("job:" + code)
                    stable.append(
                        job["status"] == "failed" and code != "INTERNAL_ERROR"
                    )
                    return
                time.sleep(0.2)
            stable.append(False)

    def run() -> None:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(one, range(args.videos)))

    attack(target, row, run)
    row.checks = {"0 crashes": row.crashes == 0, "every job a stable code": len(stable) == args.videos and all(stable),
                  "0 5xx": row.http_5xx == 0}  # fmt: skip
    return row


def zip_bomb(target: Target, key: Key, args: argparse.Namespace) -> Row:
    row = Row("zip: 240 x 10 MiB zeros to /faceid/v1/verify")
    bomb = corpus.zip_bomb()
    photos = fetch_test_images()
    small = io.BytesIO()
    with zipfile.ZipFile(small, "w") as z:
        z.writestr("0.jpg", b"not a frame")
    with target.client() as c:  # warm-up, not timed: a route's first call builds its state once (FastAPI, FaceID)
        c.post("/faceid/v1/verify", data={**key.auth, "biz_token": "made-up-token-0000"}, files={"frames_file": ("f.zip", small.getvalue())})

    def run() -> None:
        with target.client() as c:
            for _ in range(args.zips):
                r = c.post("/faceid/v1/verify", data={**key.auth, "biz_token": "made-up-token-0000"},
                           files={"frames_file": ("f.zip", bomb)})  # fmt: skip
                tally(row, r)
            tok = c.post(
                "/faceid/v1/biz_token",
                data=key.auth,
                files={"image_file": ("o.jpg", (photos / "obama.jpg").read_bytes())},
            )
            r = c.post("/faceid/v1/verify", data={**key.auth, "biz_token": tok.json().get("biz_token", "x" * 16)},
                       files={"frames_file": ("f.zip", bomb)})  # fmt: skip
            tally(row, r)

    attack(target, row, run)
    row.checks = {"400 codes": set(row.codes) <= {"NONCE_UNKNOWN", "BAD_ARGUMENTS"} and row.http_5xx == 0,
                  "peak RSS +<100 MB": row.peak_rss_increase_mb < 100, "/health p99 <200 ms": row.health_p99_ms < 200}  # fmt: skip
    return row


def png16(target: Target, key: Key, args: argparse.Namespace) -> Row:
    row = Row("png16: 16 concurrent 4096x4096 RGBA16 PNGs")
    png = corpus.png_rgba16()
    pid = target.server.proc.pid

    def post(_: int) -> httpx.Response:
        with target.client() as c:
            return c.post(
                "/facepp/v3/detect",
                data=key.auth,
                files={"image_file": ("big.png", png)},
            )

    post(0)  # warm: the first big image sizes the server's working buffers once
    time.sleep(1.5)
    start = rss(pid)

    def run() -> None:
        with ThreadPoolExecutor(16) as pool:
            for r in pool.map(post, range(16)):
                tally(row, r)

    attack(target, row, run)
    time.sleep(1.5)
    after = (rss(pid) - start) / (1 << 20)
    row.notes = f"RSS after +{after:.0f} MB;"
    row.checks = {f"peak within the {BUDGET_MB} MB budget + {ALLOWANCE_MB} MB": row.peak_rss_increase_mb < BUDGET_MB + ALLOWANCE_MB,
                  "back within 150 MB": after < 150, "0 5xx": row.http_5xx == 0}  # fmt: skip
    return row


def mjpeg(target: Target, key: Key, args: argparse.Namespace) -> Row:
    row = Row("mjpeg: 16000x16000 frame")
    data = corpus.mjpeg_declared()

    def run() -> None:
        with target.client() as c:
            for _ in range(5):
                tally(
                    row,
                    c.post(
                        "/v1/video/jobs",
                        data=key.auth,
                        files={"video_file": ("huge.avi", data)},
                    ),
                )

    attack(target, row, run)
    row.checks = {
        "VIDEO_ERROR_TOO_LARGE": row.codes == {"VIDEO_ERROR_TOO_LARGE": 5},
        "peak RSS +<100 MB": row.peak_rss_increase_mb < 100,
    }
    return row


def fields(target: Target, key: Key, args: argparse.Namespace) -> Row:
    row = Row("fields: data:AAAA, 400-digit face_rectangle (h2)")
    big = "9" * 400

    def run() -> None:
        with target.client() as c:
            for path in (
                "/facepp/v3/detect",
                "/facepp/v3/compare",
                "/facepp/v3/search",
            ):
                extra = (
                    {"image_base64_2": "data:AAAA"}
                    if path.endswith("compare")
                    else {"outer_id": "none"}
                    if path.endswith("search")
                    else {}
                )
                tally(
                    row,
                    c.post(
                        path, data={**key.auth, "image_base64": "data:AAAA", **extra}
                    ),
                )
            photo = (fetch_test_images() / "obama.jpg").read_bytes()
            tally(
                row,
                c.post(
                    "/facepp/v3/detect",
                    data={**key.auth, "face_rectangle": f"{big},0,10,10"},
                    files={"image_file": ("o.jpg", photo)},
                ),
            )

    attack(target, row, run)
    row.checks = {"0 5xx": row.http_5xx == 0}
    return row


def drip(target: Target, key: Key, args: argparse.Namespace) -> Row:
    row = Row("drip: image_url sending 1 byte / 3 s (h2)")
    port = target.drip_port  # type: ignore[attr-defined]

    def run() -> None:
        t = time.perf_counter()
        with httpx.Client(base_url=target.server.url, timeout=args.drip_cut_s) as c:
            try:
                tally(
                    row,
                    c.post(
                        "/facepp/v3/detect",
                        data={
                            **key.auth,
                            "image_url": f"http://127.0.0.1:{port}/face.jpg",
                        },
                    ),
                )
            except httpx.HTTPError:
                row.requests += 1
                row.count("CLIENT_GAVE_UP")
        row.notes = f"answered after {time.perf_counter() - t:.1f} s;"

    attack(target, row, run)
    row.checks = {
        "cut before the client's limit": "CLIENT_GAVE_UP" not in row.codes,
        "0 5xx": row.http_5xx == 0,
    }
    return row


def kill9(target: Target, key: Key, args: argparse.Namespace) -> Row:
    row = Row("kill9: a running video job, server killed -9 twice")
    clip = (
        ROOT.parent / "shared" / "data" / "video" / "short_hamilton_clip.mp4"
    ).read_bytes()

    def wait(
        job_id: str, until: Callable[[dict[str, object]], bool], limit: float = 300
    ) -> dict[str, object]:
        deadline = time.time() + limit
        with target.client() as c:
            while time.time() < deadline:
                job = c.get(f"/v1/video/jobs/{job_id}", params=key.auth).json()
                if until(job):
                    return dict(job)
                time.sleep(0.1)
        raise RuntimeError(f"job {job_id} never got there")

    def running(job: dict[str, object]) -> bool:
        return job["status"] == "running"

    def run() -> None:
        with target.client() as c:
            r = c.post(
                "/v1/video/jobs",
                data={**key.auth, "annotate": "0"},
                files={"video_file": ("clip.mp4", clip)},
            )
        tally(row, r)
        job_id = r.json()["job_id"]
        for _ in range(2):
            wait(job_id, running)
            target.server.proc.kill()
            target.server.proc.wait()
            target.ensure_alive(Row("restart"))  # a kill on purpose is not a crash
        final = wait(job_id, lambda j: j["status"] in ("done", "failed"))
        row.count(f"after 2 kills: {final['status']} runs={final['runs']}")
        row.checks = {"resumed at most once": int(str(final["runs"])) <= 2 and final["status"] == "failed"}

    attack(target, row, run)
    return row


ATTACKS: dict[str, Callable[[Target, Key, argparse.Namespace], Row]] = {
    "video": videos, "zip": zip_bomb, "png16": png16, "mjpeg": mjpeg, "fields": fields, "drip": drip, "kill9": kill9,
}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--videos", type=int, default=100, help="hostile video uploads (default 100)"
    )
    ap.add_argument(
        "--zips",
        type=int,
        default=30,
        help="zip bombs with a made-up biz_token, one after another (default 30: ~60 /health samples during the attack)",
    )
    ap.add_argument(
        "--drip-cut-s",
        type=float,
        default=60.0,
        help="the client gives up on the drip fetch after this long",
    )
    ap.add_argument(
        "--only",
        default=",".join(ATTACKS),
        help="comma list of attacks: " + ",".join(ATTACKS),
    )
    args = ap.parse_args()
    port, stop_drip = drip_server()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="hostile-bench-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        key = make_key(data, SCOPES)
        env = {
            "FACEPRINT_DECODE_BUDGET_MB": str(BUDGET_MB),
            "FACEPRINT_VIDEO_QUEUE": "200",
            "FACEPRINT_VIDEO_QUEUE_PER_TENANT": "200",
        }
        target = Target(
            data, env, ("--allow-url-host", "127.0.0.1", "--allow-private-urls")
        )
        target.drip_port = port  # type: ignore[attr-defined]
        try:
            rows.append(baseline(target, key, args))
            for name in args.only.split(","):
                rows.append(ATTACKS[name](target, key, args))
                print(_line(rows[-1], rows[0]), flush=True)
        finally:
            target.server.stop()
            stop_drip.set()
    _table(rows)
    out = (
        ROOT
        / "bench"
        / "results"
        / f"hostile-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"protocol": "issue 12 hostile inputs", "host": platform.node(), "python": platform.python_version(),
                               "budget_mb": BUDGET_MB, "rows": [asdict(r) for r in rows]}, indent=2))  # fmt: skip
    print(f"JSON: {out}")


def _line(r: Row, base: Row) -> str:
    ratio = r.health_p99_ms / base.health_p99_ms if base.health_p99_ms else 0.0
    failed = [k for k, ok in r.checks.items() if not ok]
    verdict = "ok" if not failed else "FAIL: " + "; ".join(failed)
    return (f"{r.attack:<48} {r.requests:>5} {r.http_5xx:>4} {r.crashes:>7} {r.peak_rss_increase_mb:>9.1f}"
            f" {r.health_p50_ms:>7.1f} {r.health_p99_ms:>7.1f} {ratio:>6.1f}x  {verdict}")  # fmt: skip


def _table(rows: list[Row]) -> None:
    print()
    print(
        f"{'attack':<48} {'sent':>5} {'5xx':>4} {'crashes':>7} {'peak RSS+':>9} {'hp50 ms':>7} {'hp99 ms':>7} {'p99/base':>7}  verdict"
    )
    for r in rows:
        print(_line(r, rows[0]))
        print(f"{'':<6}codes: {r.codes}  {r.notes}  (/health timed {r.health_samples}x)")


if __name__ == "__main__":
    main()
