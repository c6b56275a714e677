"""A data directory made by the faceprint before "one home" (branch base-25ba2f8, run from a git archive
of it) opens with this faceprint, is migrated (store schema 2, face tokens moved into the store),
and keeps every faceset, face token and search result."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tarfile
import io
from pathlib import Path

import httpx
import pytest

from .support import ROOT, Key, Server, free_port

BASE = "base-25ba2f8"


class OldServer(Server):
    """``faceprint serve`` of the old tree: its own cwd and PYTHONPATH, so none of this tree is imported."""

    def __init__(self, tree: Path, data: Path) -> None:  # noqa: D107 - mirrors Server
        self.data, self.port = data, free_port()
        self.url, self.log = f"http://127.0.0.1:{self.port}", data / "old-server.log"
        data.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "faceprint.cli.main", "serve", "--data", str(data), "--port", str(self.port)]
        env = {**os.environ, "PYTHONPATH": str(tree)}
        self.proc = subprocess.Popen(cmd, cwd=tree, stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, env=env)
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
        got = [(h["face_token"], h["user_id"], round(h["confidence"], 2)) for h in after["results"]]
        assert got == [(h["face_token"], h["user_id"], round(h["confidence"], 2)) for h in before["results"]]
        assert post(new.url, key, "/facepp/v3/face/getdetail", face_token=a)["user_id"] == "barack"
        assert post(new.url, key, "/facepp/v3/face/getdetail", face_token=b)["facesets"] == []  # still a live token
        added = post(new.url, key, "/facepp/v3/faceset/addface", faceset_token=fst, face_tokens=b)
        assert added["face_added"] == 1 and added["face_count"] == 3
        post(new.url, key, "/facepp/v3/faceset/removeface", faceset_token=fst, face_tokens=a)
        hits = post(new.url, key, "/facepp/v3/search", upload(photos / "obama.jpg"), faceset_token=fst, return_result_count=3)["results"]
        assert a not in [h["face_token"] for h in hits]
    finally:
        new.stop()
