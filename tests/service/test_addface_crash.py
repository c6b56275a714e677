"""kill -9 a real ``faceprint serve`` during concurrent HTTP addface, 20 times: after each crash every
face of the faceset is a face token a client was given, none is stored twice, every acknowledged
addface survived, and removeface leaves nothing of a removed face searchable."""

from __future__ import annotations

import os
import random
import signal
import threading

import httpx
import numpy as np

from faceprint.gallery import NewFace, SearchOptions
from gallery_support import service

from .support import Key, Server, make_key

TRIALS, THREADS, PER_THREAD = int(os.environ.get("ADDFACE_CRASH_TRIALS", "20")), 4, 6


def _mint(data, tenant: str, pack: str, vectors: np.ndarray) -> list[str]:
    """Detected faces, stored as detect stores them (a real store, real templates)."""
    with service(data) as svc:
        return svc.detect_faces(tenant, pack, [NewFace(v, "", (1.0, 2.0, 50.0, 60.0), 0.9) for v in vectors], 3600)


def _check(data, tenant: str, fst: str, minted: set[str], acked: set[str]) -> list[str]:
    with service(data) as svc:
        fs = svc.get(fst, tenant=tenant)
        page = svc.faces(fst, 0, 10_000, tenant=tenant)
        tokens = [r.token for r in page.items]
        assert len(tokens) == len(set(tokens)) == fs.face_count  # no duplicate, the count agrees with the rows
        assert set(tokens) <= minted  # no orphan: every face is a token some client received
        assert acked <= set(tokens)  # every acknowledged addface survived the crash
        return tokens


def test_kill_9_during_concurrent_http_addface_leaves_no_orphan_or_duplicate(tmp_path, photos, engine):
    data = tmp_path / "data"
    server = Server(data)
    key: Key = make_key(data, "detect,faceset:read,faceset:write")
    with server.client() as c:
        fst = c.post("/facepp/v3/faceset/create", data={**key.auth, "outer_id": "crash"}).json()["faceset_token"]
    probe = engine.embed(str(photos / "obama.jpg"))[0].embedding
    rng = np.random.default_rng(5)
    minted: set[str] = set()
    everything: list[str] = []
    try:
        for trial in range(TRIALS):
            vecs = probe + rng.normal(0, 0.05, (THREADS * PER_THREAD, probe.shape[0])).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            tokens = _mint(data, key.tenant, engine.pack.name, vecs)
            minted |= set(tokens)
            acked: set[str] = set()
            lock = threading.Lock()

            def worker(mine: list[str]) -> None:
                with httpx.Client(base_url=server.url, timeout=30) as c:  # noqa: B023 - joined before the loop moves on
                    for t in mine:
                        try:
                            r = c.post("/facepp/v3/faceset/addface", data={**key.auth, "faceset_token": fst, "face_tokens": t})
                        except httpx.HTTPError:
                            return  # the server died under us
                        if r.status_code == 200 and r.json()["face_added"] == 1:
                            with lock:  # noqa: B023 - as above
                                acked.add(t)  # noqa: B023 - as above

            threads = [threading.Thread(target=worker, args=(tokens[i::THREADS],)) for i in range(THREADS)]
            for th in threads:
                th.start()
            for _ in range(600):  # the first acknowledgement, then a random moment of the run
                if acked or not any(th.is_alive() for th in threads):
                    break
                threading.Event().wait(0.05)
            threading.Event().wait(random.Random(trial).uniform(0.0, 0.2))
            os.kill(server.proc.pid, signal.SIGKILL)
            server.proc.wait()
            for th in threads:
                th.join()
            everything = _check(data, key.tenant, fst, minted, acked)
            server = Server(data)  # restart for the next trial (and the removal below)
        assert 0 < len(everything) < TRIALS * THREADS * PER_THREAD  # kills landed mid-run
        with server.client() as c:
            for i in range(0, len(everything), 10):
                r = c.post("/facepp/v3/faceset/removeface", data={**key.auth, "faceset_token": fst, "face_tokens": ",".join(everything[i : i + 10])})
                assert r.status_code == 200, r.text
    finally:
        server.stop()
    with service(data) as svc:
        assert svc.get(fst, tenant=key.tenant).face_count == 0
        assert svc.faces(fst, 0, 10, tenant=key.tenant).total == 0
        result = svc.search_embeddings(fst, probe[None, :], SearchOptions(top_k=10), tenant=key.tenant)[0]
        assert result.matches == ()  # nothing of a removed face is searchable
