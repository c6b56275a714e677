"""``search_scale.py --backend milvus``: the Milvus index backend on synthetic faces, beside FAISS on the same data.

Both backends run through faceprint's own seams (:class:`~faceprint.index.milvus.backend.MilvusIndexes` and
:class:`~faceprint.index.faiss.manager.IndexManager`) over one SQLite store holding the gallery, so
the figures are the product's: what a sync, an enrol and a search cost, not raw client calls.

- fill: the first sync of an ``n``-face gallery (Milvus: a new collection, insert, flush; FAISS:
  the in-memory index built from the store), in faces/s;
- enrol: single-face writes (store + sync) after the fill, p50/p99;
- search: single-query p50/p99 through ``Indexes.search`` (the gallery's generation is checked
  first, as on every search), batch QPS, hit@1 (the top face is the probe's identity), and how
  often the two backends agree on the top face.

Without ``--milvus-uri`` a Milvus Lite server is started on loopback in a temp directory, and
its resident memory is recorded. Milvus Lite scans exactly whatever index type it is given (it
builds FLAT/IVF_FLAT/IVF_SQ8/HNSW with FAISS and nothing for IVF_PQ), so on Lite only ``Flat``
compares like with like.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from faceprint.gallery.crypto import Cipher
from faceprint.gallery.store.sqlite import SqliteStore
from faceprint.gallery.types import FaceSet, NewFace, NewFaceSet
from faceprint.index import Indexes, IndexPolicy
from faceprint.index.faiss.manager import IndexManager
from faceprint.index.milvus.backend import MilvusIndexes
from faceprint.index.milvus.config import parse_address
from synthetic import Synthetic

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' server helpers


@contextmanager
def lite_server() -> Iterator[tuple[str, int]]:
    """(``milvus://127.0.0.1:PORT``, server pid) of a throwaway Milvus Lite server (the tests' own helper)."""
    from backends.milvus import milvus_server

    with milvus_server() as (uri, _, pid):
        yield "milvus://" + uri.split("://", 1)[1], pid


def rss_gib(pid: int | None) -> dict[str, float]:
    if pid is None:
        return {}
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, val = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(val.split()[0]) / 1024**2
    return out


def _ms(xs: list[float]) -> dict[str, float]:
    return {"p50_ms": float(np.median(xs) * 1e3), "p99_ms": float(np.percentile(xs, 99) * 1e3)}


def measure(name: str, idx: Indexes, store: SqliteStore, fs: FaceSet, probes: tuple[np.ndarray, np.ndarray], first_id: int,
            args: argparse.Namespace) -> dict:  # fmt: skip
    ids_q, queries = probes
    out: dict = {}
    t = time.perf_counter()
    idx.sync(fs)
    out["fill_s"] = time.perf_counter() - t
    out["fill_faces_per_s"] = fs.face_count / out["fill_s"]
    for q in queries[:20]:  # warm-up
        idx.search(fs, q, 1)
    lat, top = [], np.full(len(queries), -1, np.int64)
    for i, q in enumerate(queries):
        t = time.perf_counter()
        hits = idx.search(fs, q, 1)[0]
        lat.append(time.perf_counter() - t)
        top[i] = hits.ids[0] - first_id if len(hits) else -1
    out["search"] = _ms(lat)
    t = time.perf_counter()
    idx.search(fs, queries, 10)
    out["search"]["batch_qps"] = len(queries) / (time.perf_counter() - t)
    out["hit1"] = float((top == ids_q).mean())
    rng = np.random.default_rng([args.seed, 9])
    lat = []
    for _ in range(args.enrols):
        v = rng.standard_normal(fs.dim).astype(np.float32)
        t = time.perf_counter()
        store.add_faces(fs.tenant, fs.token, [NewFace(v / np.linalg.norm(v), "enrol")])
        idx.sync(fs)
        lat.append(time.perf_counter() - t)
    out["enrol"] = _ms(lat)
    print(f"  {name}: fill {out['fill_faces_per_s']:,.0f} faces/s, search p50 {out['search']['p50_ms']:.2f} ms "
          f"p99 {out['search']['p99_ms']:.2f} ms, batch {out['search']['batch_qps']:.0f} q/s, hit@1 {out['hit1']:.4f}, "
          f"enrol p50 {out['enrol']['p50_ms']:.1f} ms", flush=True)  # fmt: skip
    out["top1"] = top
    return out


def run_milvus(n: int, args: argparse.Namespace) -> dict:
    dim, synth = 512, Synthetic(n, seed=args.seed)
    work = Path(args.workdir) / f"milvus-{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    print(f"\n== Milvus backend, {n:,} faces, spec {args.milvus_spec} ==", flush=True)
    store = SqliteStore(work / "faceprint.db", synchronous="NORMAL")
    token = store.create_faceset(NewFaceSet(pack="synthetic", dim=dim, index_spec=args.milvus_spec)).token
    t = time.perf_counter()
    for _, x in synth.gallery(chunk=10_000):
        store.add_faces("default", token, [NewFace(v) for v in x])
    store_s = time.perf_counter() - t
    fs = store.get_faceset("default", token)
    first_id = int(next(store.added_since(store.faceset_id("default", token), -1, chunk=1))[0][0])
    probes = synth.probes(args.queries)
    print(f"store filled in {store_s:.0f}s ({n / store_s:,.0f} faces/s)", flush=True)
    policy = IndexPolicy(background=False)
    with (lite_server() if not args.milvus_uri else _given(args.milvus_uri)) as (url, pid):
        milvus = MilvusIndexes(parse_address(url), store, policy)
        server = milvus.client().get_server_version()
        m = measure(f"milvus ({server})", milvus, store, fs, probes, first_id, args)
        m["server_rss_gib"] = rss_gib(pid)
        milvus.drop(token)
        milvus.close()
    store.remove_subject("default", token, "enrol")  # FAISS starts from the same n faces
    fs = store.get_faceset("default", token)
    faiss_idx = IndexManager(store, work / "index", Cipher(None), policy)
    f = measure("faiss", faiss_idx, store, fs, probes, first_id, args)
    faiss_idx.close()
    store.close()
    agree = float((m.pop("top1") == f.pop("top1")).mean())
    ratios = {
        "search_p50_vs_faiss": m["search"]["p50_ms"] / f["search"]["p50_ms"],
        "search_p99_vs_faiss": m["search"]["p99_ms"] / f["search"]["p99_ms"],
        "fill_rate_vs_faiss": m["fill_faces_per_s"] / f["fill_faces_per_s"],
        "enrol_p50_vs_faiss": m["enrol"]["p50_ms"] / f["enrol"]["p50_ms"],
    }
    print(f"  ratios milvus/faiss: search p50 {ratios['search_p50_vs_faiss']:.1f}x, p99 {ratios['search_p99_vs_faiss']:.1f}x, "
          f"fill rate {ratios['fill_rate_vs_faiss']:.3f}x, enrol p50 {ratios['enrol_p50_vs_faiss']:.1f}x; top-1 agreement {agree:.4f}; "
          f"Milvus server RSS {m['server_rss_gib']}", flush=True)  # fmt: skip
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "n": n, "dim": dim, "queries": args.queries, "enrols": args.enrols, "spec": args.milvus_spec, "server": server,
        "store_fill_s": store_s, "milvus": m, "faiss": f, "top1_agreement": agree, "ratios": ratios,
    }  # fmt: skip


@contextmanager
def _given(uri: str) -> Iterator[tuple[str, None]]:
    if not uri.startswith("milvus"):
        uri = ("milvus+https://" if uri.startswith("https://") else "milvus://") + uri.split("://", 1)[-1]
    yield uri, None
