"""The Milvus index backend against a real Milvus server (Milvus Lite on loopback, or $FACEPRINT_TEST_MILVUS_URI).

Real LFW templates, a real SQLite store shared by several ``GalleryService`` "nodes", real pymilvus.
Milvus Lite scans exactly whatever index type it is given and cannot show compaction, so tests that
need a cluster live in ``test_real_cluster_*`` and run only with $FACEPRINT_TEST_REAL_MILVUS_URI.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from faceprint import FaceEngine
from faceprint.errors import IndexUnavailable, InvalidIndexSpec
from faceprint.gallery import GalleryConfig, GalleryService, IndexPolicy, NewFace, NewFaceSet, SearchOptions
from faceprint.gallery.store import sqlite_url
from faceprint.index.milvus.backend import MARKER
from faceprint.index.milvus.client import alias_of, spec_of
from faceprint.index.milvus.plan import plan_for
from gallery_support import calibration, faces, files_containing, unit

REAL_ENV = "FACEPRINT_TEST_REAL_MILVUS_URI"


def as_index_url(uri: str) -> str:
    scheme, rest = uri.split("://", 1)
    return ("milvus+https://" if scheme == "https" else "milvus://") + rest


def node(root: Path, index_url: str, name: str, policy: IndexPolicy | None = None) -> GalleryService:
    """One stateless API node: its own data dir, the shared store and the shared Milvus."""
    cfg = GalleryConfig(data_dir=root / name, store=sqlite_url(root / "shared" / "faceprint.db"), index=index_url,
                        policy=policy or IndexPolicy())  # fmt: skip
    return GalleryService(cfg, calibrations=calibration)


def gallery(svc: GalleryService, name: str, dim: int, spec: str = "Flat", tenant: str = "default") -> str:
    return svc.create_for(NewFaceSet(pack="synthetic", dim=dim, outer_id=name, index_spec=spec, tenant=tenant)).token


def marker(svc: GalleryService, token: str) -> int:
    fid = svc.store.faceset_id("default", token)
    with svc.store.index_marker(fid, MARKER) as m:
        return m.generation


def traces(root: Path, vec: np.ndarray) -> list[str]:
    """Files under ``root`` holding the vector's float32 bytes (whole, or its first 64 bytes)."""
    f32 = vec.astype("<f4").tobytes()
    return sorted({str(p.relative_to(root)) for needle in (f32, f32[:64]) for p in files_containing(root, needle)})


def search_while_marker_is_held(holder: GalleryService, searcher: GalleryService, name: str, vec: np.ndarray) -> str:
    """Search through ``searcher`` while ``holder`` holds the gallery's marker lock: an up-to-date node must not wait."""
    fid = holder.store.faceset_id("default", holder.get(name).token)
    out: list[str] = []
    with holder.store.index_marker(fid, MARKER):
        t = threading.Thread(target=lambda: out.append(searcher.search_embeddings(name, vec[None])[0].best.face_token))
        t.start()
        t.join(timeout=20)
        waited = t.is_alive()
    t.join()
    assert not waited, "a search of an up-to-date gallery waited for the marker lock"
    return out[0]


@pytest.fixture(scope="module")
def lfw(shared: Path) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    """Real ArcFace templates of LFW people with 4+ images: up to 5 enrolled each, the next one a probe."""
    root = shared / "lfw" / "images"
    people = [p for p in sorted(root.iterdir()) if len(list(p.glob("*.jpg"))) >= 4][:60]
    paths = [sorted(p.glob("*.jpg"))[:6] for p in people]
    engine = FaceEngine("arcface-s")
    found = engine.embed_batch([q for ps in paths for q in ps])
    enrol, subjects, probes, probe_subjects, i = [], [], [], [], 0
    for person, ps in zip(people, paths, strict=True):
        embs = [found[i + j][0].embedding for j in range(len(ps)) if found[i + j]]
        i += len(ps)
        enrol += embs[:-1]
        subjects += [person.name] * (len(embs) - 1)
        probes.append(embs[-1])
        probe_subjects.append(person.name)
    return np.stack(enrol).astype(np.float32), subjects, np.stack(probes).astype(np.float32), probe_subjects


@pytest.fixture
def index_url(milvus_uri: str) -> str:
    return as_index_url(milvus_uri)


def test_index_type_comes_from_the_spec(tmp_path, index_url):
    svc = node(tmp_path, index_url, "a", IndexPolicy(exact_limit=1000))
    x = unit(np.random.default_rng(1), 1100, 64)
    specs = {"flat": "Flat", "ivf": "IVF8,PQ16x4fs,Refine", "auto": "auto"}
    for name, spec in specs.items():
        gallery(svc, name, 64, spec)
    svc.add_embeddings("flat", faces(x[:50]))
    svc.add_embeddings("ivf", faces(x[:50]))
    first = svc.add_embeddings("auto", faces(x[:900]))
    client, idx = svc.indexes.client(), svc.indexes
    described = {n: client.describe_index(alias_of(svc.get(n).token), "vector") for n in specs}
    assert {n: d["index_type"] for n, d in described.items()} == {"flat": "FLAT", "ivf": "IVF_PQ", "auto": "FLAT"}
    assert all(d["metric_type"] == "IP" for d in described.values())
    assert spec_of(idx.current(svc.get("ivf").token)) == "IVF8,PQ16x4fs,Refine"
    second = svc.add_embeddings("auto", faces(x[900:], start=900))  # crosses exact_limit: rebuilt as IVF-PQ, swapped in
    auto = svc.get("auto")
    assert spec_of(idx.current(auto.token)) == "IVF16,PQ8x4fs,Refine"
    assert client.describe_index(alias_of(auto.token), "vector")["index_type"] == "IVF_PQ"
    assert idx.count(auto) == 1100
    best = [r.best for r in svc.search_embeddings("auto", x[[3, 1050]])]
    assert [m.face_token for m in best] == [first[3].token, second[150].token]  # itself, at rank 1...
    assert np.allclose([m.score for m in best], 1.0, atol=1e-5)  # ...with its exact cosine (the re-rank)
    with pytest.raises(InvalidIndexSpec):
        svc.create_for(NewFaceSet(pack="synthetic", dim=64, index_spec="IVF8,PQ7x4fs"))
    svc.close()


# -- search --------------------------------------------------------------------------------------
def test_search_matches_exact_numpy_on_lfw(tmp_path, index_url, lfw):
    enrol, subjects, probes, probe_subjects = lfw
    svc = node(tmp_path, index_url, "a")
    token = gallery(svc, "lfw", enrol.shape[1], "Flat")
    svc.add_embeddings("lfw", [NewFace(v, s) for v, s in zip(enrol, subjects, strict=True)])
    fs = svc.get("lfw")
    fid = svc.store.faceset_id("default", token)
    ((ids, vecs),) = list(svc.store.added_since(fid, -1))
    got = svc.indexes.search(fs, probes, 10)
    exact = probes @ vecs.T
    for qi, h in enumerate(got):
        order = np.argsort(-exact[qi], kind="stable")[:10]
        assert h.ids.tolist() == ids[order].tolist()
        assert np.allclose(h.scores, exact[qi][order], atol=1e-5)
    results = svc.search_embeddings("lfw", probes, SearchOptions(top_k=1, by="subject"))
    hit1 = np.mean([r.best.subject == s for r, s in zip(results, probe_subjects, strict=True)])
    assert hit1 >= 0.95, hit1  # the same answers a user gets through the service
    svc.close()


# -- several nodes, restarts, crashes --------------------------------------------------------------
def test_two_nodes_share_one_store_and_one_milvus(tmp_path, index_url, lfw):
    enrol, subjects, probes, _ = lfw
    a, b = node(tmp_path, index_url, "a"), node(tmp_path, index_url, "b")
    token = gallery(a, "staff", enrol.shape[1])
    assert b.search_embeddings("staff", probes[:1])[0].matches == ()  # b knows the empty gallery
    for i in range(3):  # enrol through A; B finds each face as soon as the call returns
        (rec,) = a.add_embeddings("staff", [NewFace(enrol[i], subjects[i])])
        best = b.search_embeddings("staff", enrol[i : i + 1])[0].best
        assert best.face_token == rec.token and best.score > 0.999
    b.add_embeddings("staff", [NewFace(v, s) for v, s in zip(enrol[3:40], subjects[3:40], strict=True)])
    gone = a.faces("staff", limit=1).items[0].token
    assert b.remove_faces("staff", [gone]) == 1  # removed through B, never again returned through A
    assert gone not in {m.face_token for m in a.search_embeddings("staff", enrol[:1], SearchOptions(top_k=10))[0].matches}
    assert search_while_marker_is_held(a, b, "staff", enrol[4]) == a.faces("staff", limit=4).items[3].token
    collection = a.indexes.current(token)
    a.close()
    b.close()
    c = node(tmp_path, index_url, "c")  # a restart: the collection is reused, not rebuilt
    res = c.search_embeddings("staff", enrol[5:6])[0]
    assert res.best.subject == subjects[5] and res.best.score > 0.999
    assert c.indexes.current(token) == collection and c.indexes.count(c.get("staff")) == 39
    c.close()


def test_two_nodes_on_postgresql(tmp_path, index_url, postgres_url, lfw):
    enrol, subjects, _, _ = lfw
    nodes = [
        GalleryService(GalleryConfig(data_dir=tmp_path / n, store=postgres_url, index=index_url), calibrations=calibration)
        for n in "ab"
    ]  # fmt: skip
    a, b = nodes
    gallery(a, "staff", enrol.shape[1])
    recs = a.add_embeddings("staff", [NewFace(v, s) for v, s in zip(enrol[:20], subjects[:20], strict=True)])
    assert b.search_embeddings("staff", enrol[7:8])[0].best.face_token == recs[7].token  # at once, from the other node
    assert b.remove_faces("staff", [recs[7].token]) == 1
    assert recs[7].token not in {m.face_token for m in a.search_embeddings("staff", enrol[7:8]).pop().matches}
    (late,) = b.add_embeddings("staff", [NewFace(enrol[30], subjects[30])])
    assert a.search_embeddings("staff", enrol[30:31])[0].best.face_token == late.token  # a catches up (under the lock)...
    assert search_while_marker_is_held(b, a, "staff", enrol[30]) == late.token  # ...and then searches without it
    assert a.indexes.count(a.get("staff")) == 20
    for svc in nodes:
        svc.close()


def test_a_crash_between_the_milvus_write_and_the_marker_is_repaired(tmp_path, index_url):
    x = unit(np.random.default_rng(7), 60, 64)
    a = node(tmp_path, index_url, "a")
    token = gallery(a, "g", 64)
    recs = a.add_embeddings("g", faces(x[:20]))
    fs = a.get("g")
    fid, g1 = a.store.faceset_id("default", token), marker(a, token)
    assert g1 == fs.generation
    # node A dies after writing Milvus and before saving the marker: the store has the writes...
    new = a.store.add_faces("default", token, faces(x[20:40], start=20))
    a.store.remove_faces("default", token, [recs[0].token])
    g3 = a.store.index_state(fid).generation
    a.indexes._apply(a.indexes.current(token), fid, g1, g3, 64)  # ...Milvus has them too...
    assert marker(a, token) == g1  # ...and the marker does not say so
    # node A dies before writing Milvus at all
    later = a.store.add_faces("default", token, faces(x[40:], start=40))
    a.close()
    b = node(tmp_path, index_url, "b")
    fs = b.get("g")
    found = b.search_embeddings("g", x[[0, 25, 45]])
    assert found[0].best is None or found[0].best.face_token != recs[0].token  # the removal holds
    assert [r.best.face_token for r in found[1:]] == [new[5].token, later[5].token]
    assert marker(b, token) == fs.generation
    assert b.indexes.count(fs) == fs.face_count == 59  # the repeated upsert made no duplicate
    b.close()


def test_unreachable_milvus_gives_a_stable_error(tmp_path):
    from backends.postgres import free_port

    svc = node(tmp_path, f"milvus://127.0.0.1:{free_port()}?timeout=2", "a")  # the node starts anyway
    gallery(svc, "g", 64)
    with pytest.raises(InvalidIndexSpec):  # FAISS would build 99,999 lists; Milvus takes 65,536: refused up front
        gallery(svc, "big", 64, "IVF99999,PQ8x4fs")
    assert svc.galleries().total == 1
    for call in (lambda: svc.add_embeddings("g", faces(unit(np.random.default_rng(0), 2, 64))),
                 lambda: svc.search_embeddings("g", unit(np.random.default_rng(1), 1, 64))):  # fmt: skip
        with pytest.raises(IndexUnavailable) as exc:
            call()
        assert (exc.value.code, exc.value.http_status) == ("INDEX_UNAVAILABLE", 503)
    assert svc.faces("g").total == 2  # the store (the truth) kept the faces; the next sync catches up
    with pytest.raises(IndexUnavailable):
        svc.delete("g")  # the collection cannot be dropped: nothing is deleted, so nothing is orphaned
    assert svc.faces("g").total == 2
    svc.close()


# -- erasure -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lite() -> tuple[str, Path]:
    """A Milvus Lite server of this module's own, whose data directory the tests can read."""
    from backends.milvus import milvus_server

    with milvus_server() as (uri, data, _):
        yield as_index_url(uri), data


def test_removal_erases_the_vector_bytes_on_lite(tmp_path, lite):
    url, data = lite
    x = unit(np.random.default_rng(11), 400, 64)
    svc = node(tmp_path, url, "a")
    token = gallery(svc, "g", 64)
    recs = svc.add_embeddings("g", faces(x[:300]))  # the first fill is a rebuild: flushed to parquet + index
    svc.add_embeddings("g", faces(x[300:], start=300))  # upserted into Lite's WAL
    assert svc.indexes.erase_mode == "rewrite"
    for i in (7, 350):
        assert traces(data, x[i]), "the test must see the bytes while the face is there"
    assert svc.remove_faces("g", [recs[7].token]) == 1
    assert svc.remove_subject("g", "s350") == 1
    for i in (7, 350):
        assert traces(data, x[i]) == [], f"vector {i} survives"
    assert traces(data, x[8]) and traces(data, x[351])  # the others are all still there
    got = svc.search_embeddings("g", x[[7, 8]], SearchOptions(top_k=3))
    assert recs[7].token not in {m.face_token for m in got[0].matches}
    assert got[1].best.face_token == recs[8].token
    assert svc.indexes.count(svc.get("g")) == 398
    assert [c for c in svc.indexes.client().list_collections() if c.startswith(alias_of(token))] == [svc.indexes.current(token)]
    svc.close()


def test_lite_keeps_deleted_bytes_after_delete_flush_and_compact(tmp_path, lite):
    """What Lite does with ``erase=compact``: delete + flush + compact() leave the vector on disk.

    This is why erasure rewrites the collection on Lite; a cluster's compaction is tested below.
    """
    url, data = lite
    x = unit(np.random.default_rng(12), 100, 64)
    svc = node(tmp_path, url + "?erase=compact", "a")
    token = gallery(svc, "g", 64)
    recs = svc.add_embeddings("g", faces(x))
    name = svc.indexes.current(token)
    assert svc.remove_faces("g", [recs[9].token]) == 1  # delete by id, flush, compact: all acknowledged
    assert svc.indexes.current(token) == name  # no rewrite
    left = traces(data, x[9])
    assert any(p.endswith(".parquet") and "/data/" in p for p in left), left
    assert any(p.endswith(".idx") for p in left), left
    assert recs[9].token not in {m.face_token for m in svc.search_embeddings("g", x[9:10]).pop().matches}  # unsearchable
    svc.close()


def test_small_enrols_are_flushed_on_lite(tmp_path, lite):
    """Lite scans unflushed rows slowly, so a node flushes after every 1,000 rows it wrote."""
    url, data = lite
    x = unit(np.random.default_rng(14), 1150, 64)
    svc = node(tmp_path, url, "a")
    gallery(svc, "g", 64)
    for start in range(0, 1150, 100):  # the first call builds the collection (and flushes); then upserts of 100
        svc.add_embeddings("g", faces(x[start : start + 100], start=start))
    assert any("/data/" in p for p in traces(data, x[1099])), traces(data, x[1099])  # sealed at the 1,000th row
    assert traces(data, x[1120]) and all("/wal/" in p for p in traces(data, x[1120]))  # the last 50 wait in the WAL
    svc.close()


def test_drop_deletes_the_collections(tmp_path, lite):
    url, data = lite
    x = unit(np.random.default_rng(13), 50, 64)
    svc = node(tmp_path, url, "a")
    token = gallery(svc, "g", 64)
    svc.add_embeddings("g", faces(x))
    client, alias = svc.indexes.client(), alias_of(token)
    svc.indexes.create_collection(alias + "__flat__0badf00d", 64, plan_for("Flat", 64))  # left by a crashed rebuild
    assert traces(data, x[3])
    assert svc.delete("g") == 50
    assert [c for c in client.list_collections() if c.startswith(alias)] == []
    assert not client.has_collection(alias)
    assert traces(data, x[3]) == []
    svc.close()


# -- a real Milvus cluster (optional) -----------------------------------------------------------------
@pytest.fixture
def real_milvus() -> str:
    uri = os.environ.get(REAL_ENV)
    if not uri:
        pytest.skip(f"set {REAL_ENV}=http://host:19530 to run against a real Milvus cluster (Lite cannot show this)")
    return as_index_url(uri)


def test_real_cluster_builds_the_index_and_compacts(tmp_path, real_milvus):
    x = unit(np.random.default_rng(21), 5000, 64)
    svc = node(tmp_path, real_milvus, "a")
    assert svc.indexes.erase_mode == "compact"
    token = gallery(svc, "g", 64, "IVF16,PQ16x4fs,Refine")
    recs = svc.add_embeddings("g", faces(x))
    client, name = svc.indexes.client(), svc.indexes.current(token)
    for _ in range(120):  # a cluster builds indexes in the background once segments are flushed
        described = client.describe_index(name, "vector")
        if described.get("state") == "Finished":
            break
        time.sleep(1)
    assert described["index_type"] == "IVF_PQ" and described.get("state") == "Finished", described
    assert svc.search_embeddings("g", x[10:11])[0].best.face_token == recs[10].token
    assert svc.remove_faces("g", [r.token for r in recs[:100]]) == 100
    assert svc.indexes.compact(name), "L0 + mix compaction did not finish in time"
    assert svc.indexes.count(svc.get("g")) == 4900
    svc.delete("g")
    svc.close()
