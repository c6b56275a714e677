"""``faceprint serve --processes 2`` under load on loopback: one store, one rate limit, one audit chain for both processes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest

from tests.service.support import ROOT, Key, Server, cli, free_port, make_key

from .support import lfw_photos

QPS = 0.5  # low: on a loaded 2-core machine a request takes a good part of a second


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("workers"), "--processes", "2")
    yield srv
    srv.stop()


def _post(srv: Server, key: Key, path: str, photo: Path | None = None, **data: object) -> httpx.Response:
    files = {"image_file": (photo.name, photo.read_bytes(), "image/jpeg")} if photo else None
    with httpx.Client(base_url=srv.url, timeout=60) as c:  # a new connection each time: the kernel spreads them over the workers
        return c.post(path, data={**key.auth, **{k: str(v) for k, v in data.items()}}, files=files)


def _workers(srv: Server) -> list[psutil.Process]:
    procs = [p for p in psutil.Process(srv.proc.pid).children() if "faceprint.parallel.serving" in " ".join(p.cmdline()) or "spawn_main" in " ".join(p.cmdline())]
    return [p for p in procs if "resource_tracker" not in " ".join(p.cmdline())]


def test_every_search_sees_every_face_added_before_it(server: Server) -> None:
    key = make_key(server.data, "detect,compare,faceset:read,faceset:write,admin")
    assert len(_workers(server)) == 2
    fst = _post(server, key, "/facepp/v3/faceset/create", outer_id="staff").json()["faceset_token"]
    photos = [p for p in lfw_photos(60) if p.name.endswith("_0001.jpg")][:10]
    cpu = {p.pid: p.cpu_times().user for p in _workers(server)}
    added: list[tuple[Path, str]] = []
    with ThreadPoolExecutor(8) as pool:
        for photo in photos:
            faces = _post(server, key, "/facepp/v3/detect", photo).json()["faces"]
            token = faces[0]["face_token"]
            r = _post(server, key, "/facepp/v3/faceset/addface", faceset_token=fst, face_tokens=token)
            assert r.status_code == 200 and r.json()["face_added"] == 1, r.text
            added.append((photo, token))
            probes = [added[i % len(added)] for i in range(len(added) - 1, len(added) + 7)]  # the newest first, then the earlier ones

            def search(probe: tuple[Path, str]) -> tuple[str, str]:
                r = _post(server, key, "/facepp/v3/search", probe[0], faceset_token=fst, return_result_count=1)
                assert r.status_code == 200, r.text
                return probe[1], r.json()["results"][0]["face_token"]

            for want, got in pool.map(search, probes):
                assert got == want
    gained = {p.pid: p.cpu_times().user - cpu[p.pid] for p in _workers(server)}
    assert all(g > 0.2 for g in gained.values()), gained  # both processes answered searches


def test_a_key_rate_limit_holds_across_both_processes(server: Server) -> None:
    limited = make_key(server.data, "faceset:read", qps=QPS)
    ok = refused = 0
    start = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        while time.monotonic() - start < 4.0:
            for r in pool.map(lambda _: _post(server, limited, "/facepp/v3/faceset/getfacesets"), range(8)):
                if r.status_code == 200:
                    ok += 1
                else:
                    assert r.status_code == 403 and r.json()["error_message"] == "CONCURRENCY_LIMIT_EXCEEDED", r.text
                    refused += 1
    elapsed = time.monotonic() - start
    # one bucket for both processes (burst = qps, then qps a second); one per process would allow about twice as many
    assert max(1.0, QPS * elapsed - 1) <= ok <= max(1.0, QPS) + QPS * elapsed + 1, (ok, refused, elapsed)
    assert refused >= 5


def test_an_async_task_is_known_to_every_process(server: Server) -> None:
    key = make_key(server.data, "detect,faceset:read,faceset:write")
    fst = _post(server, key, "/facepp/v3/faceset/create", outer_id="async").json()["faceset_token"]
    token = _post(server, key, "/facepp/v3/detect", lfw_photos(1)[0]).json()["faces"][0]["face_token"]
    task = _post(server, key, "/facepp/v3/faceset/async/addface", faceset_token=fst, face_tokens=token).json()["task_id"]
    with ThreadPoolExecutor(4) as pool:  # fresh connections: both processes are asked
        answers = list(pool.map(lambda _: _post(server, key, "/facepp/v3/faceset/async/task_status", task_id=task), range(12)))
    assert all(r.status_code == 200 and r.json()["task_id"] == task for r in answers), [r.text for r in answers]
    deadline = time.monotonic() + 30
    while (done := _post(server, key, "/facepp/v3/faceset/async/task_status", task_id=task).json())["status"] != 1:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert done["face_added"] == 1 and done["face_count"] == 1
    other = make_key(server.data, "faceset:read", tenant="elsewhere")
    r = _post(server, other, "/facepp/v3/faceset/async/task_status", task_id=task)
    assert r.status_code == 400 and "INVALID_TASK_ID" in r.json()["error_message"], r.text


def test_a_worker_that_cannot_start_stops_the_server_with_its_code(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "faceprint.cli.main", "serve", "--data", str(tmp_path), "--port", str(free_port()),
                        "--processes", "2", "--pack", "no-such-pack"], capture_output=True, text=True, timeout=300, cwd=ROOT)  # fmt: skip
    assert r.returncode == 2, r.stdout + r.stderr
    assert "MODEL_NOT_FOUND: unknown model pack 'no-such-pack'" in r.stderr and "Traceback" not in r.stderr
    assert "died" not in r.stderr  # stopped at the first failure, not restarted in a loop


def test_both_processes_append_to_one_audit_chain_that_verifies(server: Server) -> None:
    # after the two tests above: the chain holds every request they made, through both processes
    out = cli("audit", "verify", "--data", str(server.data), "--json", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    verdict = json.loads(out.stdout)
    shown = json.loads(cli("audit", "show", "--data", str(server.data), "--json", "--limit", "100000").stdout)
    assert verdict["ok"] and verdict["lines"] == len(shown) > 100
    assert [e["seq"] for e in shown] == list(range(1, len(shown) + 1))
    assert {"faceset/addface", "search", "detect"} <= {e["endpoint"] for e in shown}
    assert sum(e["outcome"] == "CONCURRENCY_LIMIT_EXCEEDED" for e in shown) >= 5
