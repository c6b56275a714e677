"""``faceprint serve --workers 2``: one server process, detect/compare/search in two inference
worker processes fed from one queue, so every core computes whichever connection a request came on."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest

from tests.service.support import Key, Server, make_key


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("inference"), "--workers", "2")
    yield srv
    srv.stop()


def _inference_workers(srv: Server) -> list[psutil.Process]:
    out = []
    for p in psutil.Process(srv.proc.pid).children():
        try:
            cmd = " ".join(p.cmdline())
        except psutil.Error:  # one just killed, not yet reaped
            continue
        if "spawn_main" in cmd and "resource_tracker" not in cmd:
            out.append(p)
    return out


def _post(client: httpx.Client, key: Key, path: str, **photos: Path) -> httpx.Response:
    files = {name: (p.name, p.read_bytes(), "image/jpeg") for name, p in photos.items()}
    return client.post(path, data=key.auth, files=files)


def test_compare_in_the_workers_gives_the_engines_verdict(server: Server, engine, photos: Path) -> None:
    key = make_key(server.data, "detect,compare")
    assert len(_inference_workers(server)) == 2
    with server.client() as c:
        r = _post(c, key, "/facepp/v3/compare", image_file1=photos / "obama.jpg", image_file2=photos / "obama2.jpg")
        assert r.status_code == 200, r.text
        got = r.json()
        box = _post(c, key, "/facepp/v3/detect", image_file=photos / "biden.jpg").json()["faces"][0]["face_rectangle"]
    want = engine.compare(photos / "obama.jpg", photos / "obama2.jpg")
    assert abs(got["confidence"] - want.confidence) < 1e-3, (got, want)
    face = engine.detect(photos / "biden.jpg")[0]
    assert abs(box["left"] - round(float(face.bbox[0]))) <= 1 and abs(box["top"] - round(float(face.bbox[1]))) <= 1


def test_requests_on_kept_alive_connections_reach_both_workers(server: Server, photos: Path) -> None:
    key = make_key(server.data, "detect")
    workers = _inference_workers(server)
    before = {p.pid: sum(p.cpu_times()[:2]) for p in workers}

    def client_run(_: int) -> list[int]:
        with server.client() as c:  # one connection, kept alive for all its requests
            return [_post(c, key, "/facepp/v3/detect", image_file=photos / "obama.jpg").status_code for _ in range(4)]

    with ThreadPoolExecutor(2) as pool:
        statuses = [s for run in pool.map(client_run, range(2)) for s in run]
    assert statuses == [200] * 8
    gained = {p.pid: sum(p.cpu_times()[:2]) - before[p.pid] for p in workers}
    assert all(g > 0.2 * sum(gained.values()) for g in gained.values()), gained  # each worker computed a share of them (idle: ~0)


def test_a_killed_worker_is_replaced_and_the_server_answers_on(server: Server, photos: Path) -> None:
    key = make_key(server.data, "detect")
    victim = _inference_workers(server)[0]
    os.kill(victim.pid, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while len([p for p in _inference_workers(server) if p.pid != victim.pid]) < 2:
        assert time.monotonic() < deadline, "no replacement worker"
        time.sleep(0.5)
    with server.client() as c:
        for _ in range(3):
            r = _post(c, key, "/facepp/v3/detect", image_file=photos / "obama.jpg")
            assert r.status_code == 200 and len(r.json()["faces"]) == 1, r.text
    assert server.proc.poll() is None
