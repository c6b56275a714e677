"""A data directory made by the faceprint before "one home" (commit 25ba2f8, run from a git archive
of it) opens with this faceprint, is migrated (store schema 2, face tokens moved into the store),
and keeps every faceset, face token and search result."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import httpx
import pytest

from .support import ROOT, Key, Server, free_port

BASE = "25ba2f8da0bc5dd33ec79a181501707d3586b077"  # main before "one home" (a commit, so a fresh clone has it)


class OldServer(Server):
    """``faceprint serve`` of the old tree: its own cwd and PYTHONPATH, so none of this tree is imported."""

    def __init__(self, tree: Path, data: Path) -> None:
        self.data, self.port = data, free_port()
        self.url, self.log = f"http://127.0.0.1:{self.port}", data / "old-server.log"
        data.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "faceprint.cli.main", "serve", "--data", str(data), "--port", str(self.port)]
        env = {**os.environ, "PYTHONPATH": str(tree)}
        self.proc = subprocess.Popen(cmd, cwd=tree, stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, env=env)  # noqa: SIM115 - the child owns it
        self._wait()


@pytest.fixture(scope="module")
def old_tree(tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("base")
    blob = subprocess.run(["git", "archive", BASE, "faceprint"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(tree, filter="data")
    return tree


def old_cli(tree: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([sys.executable, "-m", "faceprint.cli.main", *args], cwd=tree, env=env, capture_output=True, text=True, check=True).stdout


def post(url: str, key: Key, path: str, files: dict | None = None, **data: object) -> dict:
    r = httpx.post(url + path, data={**key.auth, **{k: str(v) for k, v in data.items()}}, files=files, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def upload(path: Path) -> dict:
    return {"image_file": (path.name, path.read_bytes(), "image/jpeg")}


def test_a_data_dir_made_by_base_is_migrated_and_keeps_facesets_tokens_and_search_results(old_tree, tmp_path, photos):
    import json

    data = tmp_path / "data"
    data.mkdir()
    out = json.loads(old_cli(old_tree, "keys", "create", "--name", "m", "--scopes", "detect,faceset:read,faceset:write", "--data", str(data), "--json"))
    key = Key(out["api_key"], out["api_secret"], out["tenant"])
    old = OldServer(old_tree, data)
    try:
        a = post(old.url, key, "/facepp/v3/detect", upload(photos / "obama.jpg"))["faces"][0]["face_token"]
        c = post(old.url, key, "/facepp/v3/detect", upload(photos / "obama2.jpg"))["faces"][0]["face_token"]
        b = post(old.url, key, "/facepp/v3/detect", upload(photos / "biden.jpg"))["faces"][0]["face_token"]  # never added
        fst = post(old.url, key, "/facepp/v3/faceset/create", outer_id="people")["faceset_token"]
        post(old.url, key, "/facepp/v3/faceset/addface", faceset_token=fst, face_tokens=f"{a},{c}")
        post(old.url, key, "/facepp/v3/face/setuserid", face_token=a, user_id="barack")
        before = post(old.url, key, "/facepp/v3/search", upload(photos / "obama3.jpg"), faceset_token=fst, return_result_count=2)
        detail_before = post(old.url, key, "/facepp/v3/faceset/getdetail", faceset_token=fst)
    finally:
        old.stop()
    with sqlite3.connect(data / "faceprint.db") as db:
        assert db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == "1"  # made by the old schema

    new = Server(data)
    try:
        with sqlite3.connect(data / "faceprint.db") as db:
            assert db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == "2"
            homes = dict(db.execute("SELECT token, faceset_id FROM faces").fetchall())  # one row per face token, no copies
        assert len(homes) == 4 and homes[a] == homes[c] is not None and homes[b] is None  # the 4th: search's probe token
        detail = post(new.url, key, "/facepp/v3/faceset/getdetail", faceset_token=fst)
        assert set(detail["face_tokens"]) == set(detail_before["face_tokens"]) == {a, c}
        assert detail["face_count"] == 2 and detail["outer_id"] == "people"
        after = post(new.url, key, "/facepp/v3/search", upload(photos / "obama3.jpg"), faceset_token=fst, return_result_count=2)
        # the same faces and names; confidence within 0.1 (thresholds.json was recalibrated since base, not the templates)
        assert [(h["face_token"], h["user_id"]) for h in after["results"]] == [(h["face_token"], h["user_id"]) for h in before["results"]]
        assert all(abs(x["confidence"] - y["confidence"]) < 0.1 for x, y in zip(after["results"], before["results"], strict=True))
        assert post(new.url, key, "/facepp/v3/face/getdetail", face_token=a)["user_id"] == "barack"
        assert post(new.url, key, "/facepp/v3/face/getdetail", face_token=b)["facesets"] == []  # still a live token
        added = post(new.url, key, "/facepp/v3/faceset/addface", faceset_token=fst, face_tokens=b)
        assert added["face_added"] == 1 and added["face_count"] == 3
        post(new.url, key, "/facepp/v3/faceset/removeface", faceset_token=fst, face_tokens=a)
        hits = post(new.url, key, "/facepp/v3/search", upload(photos / "obama.jpg"), faceset_token=fst, return_result_count=3)["results"]
        assert a not in [h["face_token"] for h in hits]
    finally:
        new.stop()


OLD_PG = r'''
import json, sys
from pathlib import Path
import numpy as np
from faceprint import FaceEngine
from faceprint.gallery import GalleryConfig, GalleryService, NewFace
from faceprint.gallery.crypto import Cipher
from faceprint.service.batching import analyse
from faceprint.service.state import open_state
from faceprint.service.tokens import TokenStore
url, data, photos = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
engine = FaceEngine("arcface-s")
svc = GalleryService(GalleryConfig(data_dir=data, store=url), engine=engine)
fs = svc.create("people", tenant="t")
faces = analyse(engine, [engine.load(photos / n) for n in ("obama.jpg", "obama2.jpg", "biden.jpg")])
state = open_state(url, data)
tokens = TokenStore(state, Cipher(None), 3600)
minted = [tokens.mint("t", "arcface-s", f)[0] for f in faces]
added = svc.add_embeddings(fs.token, [NewFace(f[0].embedding, "barack") for f in faces[:2]], tenant="t")
tokens.join(fs.token, [(m, r.token) for m, r in zip(minted[:2], added)])
probe = np.stack([f[0].embedding for f in faces[:2]])
hits = [[m.face_token for m in r.matches] for r in svc.search_embeddings(fs.token, probe, tenant="t")]
print(json.dumps({"faceset": fs.token, "minted": minted, "gallery": [r.token for r in added], "hits": hits}))
'''


def test_a_postgresql_database_made_by_base_is_migrated_and_keeps_tokens_and_results(old_tree, tmp_path, photos, postgres_url, engine):
    import json

    import numpy as np
    import psycopg

    from faceprint.gallery import GalleryConfig, GalleryService
    from faceprint.service import legacy_tokens
    from faceprint.service.state import open_state
    from faceprint.service.tokens import TokenStore

    env = {**os.environ, "PYTHONPATH": str(old_tree)}
    run = subprocess.run([sys.executable, "-c", OLD_PG, postgres_url, str(tmp_path / "old"), str(photos)], cwd=old_tree, env=env,
                         capture_output=True, text=True, check=True)  # fmt: skip
    old = json.loads(run.stdout.strip().splitlines()[-1])
    with GalleryService(GalleryConfig(data_dir=tmp_path / "new", store=postgres_url), engine=engine) as svc:
        with psycopg.connect(postgres_url) as c:
            assert [r[0] for r in c.execute("SELECT version FROM schema_migrations ORDER BY version")] == [1, 2]
        state = open_state(postgres_url, tmp_path / "new")
        assert legacy_tokens.adopt(state, svc) == 3 and legacy_tokens.adopt(state, svc) == 0  # once
        state.close()
        tokens = TokenStore(svc, 3600)
        a, c2, b = old["minted"]
        assert {r.token for r in svc.faces(old["faceset"], tenant="t").items} == {a, c2}  # the client's tokens name the faces
        assert tokens.get("t", a).faceset_token == old["faceset"] and tokens.get("t", b).faceset_token is None
        probe = np.stack([tokens.get("t", t).face.embedding for t in (a, c2)])
        hits = [[m.face_token for m in r.matches] for r in svc.search_embeddings(old["faceset"], probe, tenant="t")]
        rename = dict(zip(old["gallery"], (a, c2), strict=True))
        assert hits == [[rename[g] for g in row] for row in old["hits"]]  # the same results, under the client's tokens
