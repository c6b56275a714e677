"""Two real ``faceprint serve`` processes on one PostgreSQL and one Milvus Lite: stateless API nodes.

Node A and node B have data directories of their own and share nothing but the two servers.
A write through one is visible through the other as soon as it returns; face tokens, rate limits
and the audit chain are shared.
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from .support import Key, Server, cli

SECRET = "pw-never-logged-7f3a"  # the test cluster trusts loopback, so any password connects
TOKEN_TTL_S = 6.0
QPS = 2.0
CAPACITY = 6  # faces per faceset on both nodes


def with_password(url: str, password: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, f"{p.username}:{password}@{p.hostname}:{p.port}", p.path, "", ""))


class Cluster:
    def __init__(self, store: str, index: str, a: Server, b: Server) -> None:
        self.store, self.index, self.a, self.b = store, index, a, b

    def key(self, scopes: str, qps: float = 1000) -> Key:
        out = json.loads(cli("keys", "create", "--name", "multinode", "--scopes", scopes, "--qps", str(qps), "--store", self.store, "--json").stdout)
        return Key(out["api_key"], out["api_secret"], out["tenant"])


@pytest.fixture(scope="module")
def cluster(postgres_admin_url, milvus_uri, tmp_path_factory):
    from backends.postgres import fresh_database

    store = with_password(fresh_database(postgres_admin_url), SECRET)
    index = "milvus://" + milvus_uri.split("://", 1)[1]
    flags = ("--store", store, "--index", index)
    env = {"FACEPRINT_TOKEN_TTL": str(TOKEN_TTL_S), "FACEPRINT_FACESET_CAPACITY": str(CAPACITY)}
    root = tmp_path_factory.mktemp("multinode")
    started: dict[str, Server] = {}
    errors: list[BaseException] = []

    def start(name: str) -> None:  # both at once: they create the shared tables together
        try:
            started[name] = Server(root / name, *flags, env=env)
        except BaseException as exc:  # re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for srv in started.values():
            srv.stop()
        raise errors[0]
    yield Cluster(store, index, started["a"], started["b"])
    for srv in started.values():
        srv.stop()


@pytest.fixture(scope="module")
def key(cluster) -> Key:
    return cluster.key("detect,compare,faceset:read,faceset:write,admin")


def post(server: Server, key: Key, path: str, files: dict | None = None, **data: object):
    with server.client() as c:
        return c.post(path, data={**key.auth, **{k: str(v) for k, v in data.items()}}, files=files)


def image(path) -> dict:
    return {"image_file": (path.name, path.read_bytes(), "image/jpeg")}


def detect(server: Server, key: Key, path) -> str:
    r = post(server, key, "/facepp/v3/detect", image(path))
    assert r.status_code == 200, r.text
    return r.json()["faces"][0]["face_token"]


def test_enrol_through_a_is_found_through_b_at_once_and_removal_through_b_is_seen_by_a(cluster, key, photos):
    a, b = cluster.a, cluster.b
    r = post(a, key, "/facepp/v3/faceset/create", outer_id="staff")
    assert r.status_code == 200, r.text
    obama, biden = detect(a, key, photos / "obama.jpg"), detect(a, key, photos / "biden.jpg")
    r = post(a, key, "/facepp/v3/faceset/addface", outer_id="staff", face_tokens=f"{obama},{biden}")
    assert r.status_code == 200 and r.json()["face_added"] == 2, r.text

    found = post(b, key, "/facepp/v3/search", image(photos / "obama2.jpg"), outer_id="staff", return_result_count=2)  # immediately
    assert found.status_code == 200, found.text
    hits = found.json()["results"]
    assert [h["face_token"] for h in hits] == [obama, biden]
    expected = post(a, key, "/facepp/v3/compare", {"image_file2": ("o2.jpg", (photos / "obama2.jpg").read_bytes())}, face_token1=obama).json()
    assert abs(hits[0]["confidence"] - expected["confidence"]) < 0.05  # the same score as 1:1 against the enrolled template
    assert hits[0]["confidence"] > found.json()["thresholds"]["1e-5"] > hits[1]["confidence"]
    assert post(b, key, "/facepp/v3/faceset/getdetail", outer_id="staff").json()["face_count"] == 2

    r = post(b, key, "/facepp/v3/faceset/removeface", outer_id="staff", face_tokens=obama)
    assert r.status_code == 200 and r.json()["face_removed"] == 1, r.text
    after = post(a, key, "/facepp/v3/search", image(photos / "obama2.jpg"), outer_id="staff", return_result_count=2)
    assert after.status_code == 200, after.text
    assert [h["face_token"] for h in after.json()["results"]] == [biden]
    assert post(a, key, "/facepp/v3/faceset/getdetail", outer_id="staff").json()["face_count"] == 1


def test_a_face_token_from_a_works_on_b_and_expires_on_both(cluster, key, photos):
    a, b = cluster.a, cluster.b
    token = detect(a, key, photos / "obama.jpg")
    r = post(b, key, "/facepp/v3/compare", {"image_file2": ("o2.jpg", (photos / "obama2.jpg").read_bytes())}, face_token1=token)
    assert r.status_code == 200 and r.json()["confidence"] > r.json()["thresholds"]["1e-5"], r.text
    assert post(b, key, "/facepp/v3/face/getdetail", face_token=token).status_code == 200
    time.sleep(TOKEN_TTL_S + 0.5)
    for node in (b, a):
        r = post(node, key, "/facepp/v3/face/getdetail", face_token=token)
        assert r.status_code == 400 and r.json()["error_message"].startswith("INVALID_FACE_TOKEN"), r.text


def test_a_key_rate_limit_holds_across_both_nodes(cluster, photos):
    limited = cluster.key("faceset:read", qps=QPS)
    clients = [cluster.a.client(), cluster.b.client()]
    ok, refused = [0, 0], [0, 0]
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < 4.0:
        r = clients[i % 2].post("/facepp/v3/faceset/getfacesets", data=limited.auth)
        if r.status_code == 200:
            ok[i % 2] += 1
        else:
            assert r.status_code == 403 and r.json()["error_message"] == "CONCURRENCY_LIMIT_EXCEEDED", r.text
            refused[i % 2] += 1
        i += 1
    elapsed = time.monotonic() - start
    for c in clients:
        c.close()
    print(f"rate limit {QPS:g}/s over {elapsed:.2f} s through A and B alternately: allowed {ok}, refused {refused}")
    # One bucket (burst = qps, then qps a second) for the two nodes together; per-node buckets
    # would have allowed about twice as many.
    assert sum(ok) <= QPS + QPS * elapsed + 1, (ok, refused, elapsed)
    assert sum(ok) >= QPS * elapsed - 1 and min(ok) >= 1 and min(refused) >= 5, (ok, refused, elapsed)


def test_a_biz_token_from_a_is_spent_once_on_either_node(cluster, key, photos):
    a, b = cluster.a, cluster.b
    token = detect(a, key, photos / "obama.jpg")
    issued = post(a, key, "/faceid/v1/biz_token", face_token=token, actions="blink,turn_left")
    assert issued.status_code == 200, issued.text
    biz = issued.json()["biz_token"]
    not_a_video = {"video_file": ("clip.mp4", b"\x00" * 4096, "video/mp4")}
    first = post(b, key, "/faceid/v1/verify", not_a_video, biz_token=biz)  # B knows the session; it is spent first
    assert first.status_code == 400 and first.json()["error_message"].startswith("VIDEO_ERROR"), first.text
    again = post(a, key, "/faceid/v1/verify", not_a_video, biz_token=biz)
    assert again.status_code == 400 and again.json()["error_message"] == "NONCE_REUSED: biz_token", again.text


def test_both_nodes_append_to_one_audit_chain_that_verifies(cluster, key, photos):
    # runs last in the module: the chain holds every request made above, through both nodes
    for node in (cluster.a, cluster.b):
        r = post(node, key, "/admin/audit/verify")
        assert r.status_code == 200 and r.json()["ok"], r.text
    out = cli("audit", "verify", "--store", cluster.store, "--json", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    verdict = json.loads(out.stdout)
    shown = json.loads(cli("audit", "show", "--store", cluster.store, "--json", "--limit", "100000").stdout)
    assert verdict["ok"] and verdict["lines"] == len(shown) > 20
    assert [e["seq"] for e in shown] == list(range(1, len(shown) + 1))
    endpoints = {e["endpoint"] for e in shown}
    assert {"faceset/addface", "faceset/removeface", "search", "detect", "admin/audit/verify"} <= endpoints
    assert sum(e["outcome"] == "CONCURRENCY_LIMIT_EXCEEDED" for e in shown) >= 10  # refusals on both nodes are audited
    for node in (cluster.a, cluster.b):
        assert not (node.data / "audit.log").exists() and not (node.data / "keys.db").exists()


def test_the_store_password_never_reaches_a_log(cluster):
    for node in (cluster.a, cluster.b):
        text = node.log.read_text()
        assert SECRET not in text
        assert "postgresql://" in text and ":***@" in text  # the startup line names the store, masked
    out = cli("keys", "list", "--store", cluster.store)
    assert out.returncode == 0 and SECRET not in out.stdout + out.stderr


def test_two_nodes_racing_addface_fill_a_faceset_to_exactly_its_capacity(cluster, key, photos, engine, tmp_path):
    from faceprint.gallery import GalleryConfig, GalleryService, NewFace

    fst = post(cluster.a, key, "/facepp/v3/faceset/create", outer_id="race").json()["faceset_token"]
    face = engine.embed(str(photos / "obama.jpg"))[0]
    # 16 detected faces stored as detect stores them, with a TTL that outlives this machine's slowest run
    with GalleryService(GalleryConfig(data_dir=tmp_path, store=cluster.store, index=cluster.index), engine=engine) as svc:
        new = [NewFace(face.embedding, "", tuple(float(v) for v in face.bbox), None) for _ in range(16)]
        tokens = svc.detect_faces(key.tenant, engine.pack.name, new, 600)
    results: list[dict] = []
    lock = threading.Lock()

    def add(node: Server, token: str) -> None:
        r = post(node, key, "/facepp/v3/faceset/addface", faceset_token=fst, face_tokens=token)
        assert r.status_code == 200, r.text
        with lock:
            results.append(r.json())

    threads = [threading.Thread(target=add, args=((cluster.a, cluster.b)[i % 2], t)) for i, t in enumerate(tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    added = [r for r in results if r["face_added"] == 1]
    refused = [r for r in results if r["face_added"] == 0]
    assert len(added) == CAPACITY and len(refused) == len(tokens) - CAPACITY
    assert all([f["reason"] for f in r["failure_detail"]] == ["QUOTA_EXCEEDED"] for r in refused)
    for node in (cluster.a, cluster.b):
        detail = post(node, key, "/facepp/v3/faceset/getdetail", faceset_token=fst).json()
        assert detail["face_count"] == CAPACITY == len(detail["face_tokens"])
