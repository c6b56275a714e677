"""Search at scale on synthetic ArcFace-like templates: IVF-PQ fast-scan + exact re-rank vs exact search.

    python bench/search_scale.py --sizes 100k,1M            # a few minutes
    nohup python bench/search_scale.py --sizes 10M &         # long: run once, in the background

For each size it builds the index the gallery's "auto" policy picks above the exact limit
(``IVF{n},PQ{D/8}x4fs,Refine``, nprobe = 75% of lists) through faceprint's own index classes,
with the exact re-rank reading float32 vectors from an on-disk file by label (as the store
serves them), and compares it with exact search (``Flat``) run in the same process:

- build time, RSS (anonymous and file-backed) after the build, peak RSS;
- p50/p99 single-query latency (one thread), batch QPS (every core);
- identity hit@1 (the top result is the probe's identity), for both, and agreement with exact;
- memory bandwidth from a large single-threaded numpy copy (STREAM convention: bytes read plus
  bytes written per second) and exact search's bytes scanned per second as a fraction of it.

At 10M the float32 vectors (20 GB) do not fit in memory: exact results come from one batched
pass over the file (for hit@1), and exact single-query latency is not measured there.
Results go to bench/results/search_scale.json (one entry per size, merged).

    python bench/search_scale.py --backend milvus --sizes 100k [--milvus-uri milvus://host:19530]

measures the Milvus index backend instead, with the FAISS backend on the same store and data in
the same run as the baseline (``bench/milvus_scale.py``); without ``--milvus-uri`` it starts a
Milvus Lite server of its own. Results go under ``"milvus"`` in the same JSON file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faceprint.gallery.store.base import VectorSource
from faceprint.index import IndexPolicy, SearchParams
from faceprint.index.faiss.base import set_threads
from faceprint.index.faiss.flat import FlatIndex
from faceprint.index.faiss.ivfpq import IVFPQIndex
from synthetic import Synthetic

HERE = Path(__file__).resolve().parent


def parse_size(text: str) -> int:
    text = text.strip().upper()
    mult = {"K": 1_000, "M": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KM")) * mult)


def rss() -> dict[str, float]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, val = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(val.split()[0]) / 1024**2  # GiB
    return out


def memory_bandwidth(gib: float = 1.0) -> float:
    """Single-thread copy bandwidth in bytes/s, counting bytes read plus bytes written (best of 5)."""
    a = np.ones(int(gib * 2**30) // 8, dtype=np.float64)
    b = np.empty_like(a)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t)
    return 2 * a.nbytes / best


class FileVectors(VectorSource):
    """float32 rows in a file, label = row: the re-rank reads only the rows it needs (pread, so
    nothing of the 2-20 GB file is mapped into the process and counted as its RSS)."""

    def __init__(self, path: Path, n: int, dim: int) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.n, self.dim, self.row = n, dim, dim * 4

    def fetch(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids = np.sort(ids)
        data = b"".join(os.pread(self.fd, self.row, int(i) * self.row) for i in ids)
        return ids, np.frombuffer(data, dtype=np.float32).reshape(len(ids), self.dim)

    def rows(self, start: int, stop: int) -> np.ndarray:
        data = os.pread(self.fd, (stop - start) * self.row, start * self.row)
        return np.frombuffer(data, dtype=np.float32).reshape(-1, self.dim)


CPU_MS: list[float] = []  # thread CPU time of the last timed_queries call, per query


def timed_queries(index, queries: np.ndarray, params: SearchParams | None) -> tuple[list[float], np.ndarray]:
    """Wall-clock latency per query; CPU_MS gets the thread's CPU time (what a busy machine doesn't inflate)."""
    lat, top = [], np.full(len(queries), -1, dtype=np.int64)
    CPU_MS.clear()
    for i, q in enumerate(queries):
        c, t = time.thread_time(), time.perf_counter()
        hits = index.search(q, 1, params)[0]
        lat.append(time.perf_counter() - t)
        CPU_MS.append((time.thread_time() - c) * 1e3)
        if len(hits):
            top[i] = hits.ids[0]
    return lat, top


def batch_qps(index, queries: np.ndarray, params: SearchParams | None) -> float:
    t = time.perf_counter()
    index.search(queries, 10, params)
    return len(queries) / (time.perf_counter() - t)


def exact_top1_streaming(source: FileVectors, queries: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    best_s = np.full(len(queries), -np.inf, dtype=np.float32)
    best_i = np.full(len(queries), -1, dtype=np.int64)
    set_threads(len(queries))
    for start in range(0, source.n, chunk):
        s = queries @ source.rows(start, min(start + chunk, source.n)).T
        j = s.argmax(1)
        v = s[np.arange(len(queries)), j]
        better = v > best_s
        best_s[better], best_i[better] = v[better], start + j[better]
    return best_i


def run_size(n: int, args: argparse.Namespace, bandwidth: float) -> dict:
    dim, synth = 512, Synthetic(n, seed=args.seed)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"vectors-{n}.f32"
    print(f"\n== {n:,} faces ==", flush=True)
    t0 = time.perf_counter()
    if args.reuse and path.exists() and path.stat().st_size == n * dim * 4:
        print(f"reusing {path} (same seed, same generator)", flush=True)
    else:
        with open(path, "wb") as fh:  # written, not mapped: the file never counts as this process's RSS
            for _, x in synth.gallery():
                fh.write(np.ascontiguousarray(x, dtype=np.float32).tobytes())
    gen_s = time.perf_counter() - t0
    ids_q, queries = synth.probes(args.queries)
    print(f"generated in {gen_s:.0f}s", flush=True)

    source = FileVectors(path, n, dim)
    policy = IndexPolicy()
    spec = policy.choose("auto", max(n, policy.exact_limit), dim)
    nlist = int(spec.split(",")[0][3:])
    index = IVFPQIndex(dim, nlist, 0, dim // 8, True, source)
    t0 = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    sample = source.fetch(rng.choice(n, size=min(n, index.min_train), replace=False))[1]
    index.train(sample)
    del sample
    train_s = time.perf_counter() - t0
    for start in range(0, n, 200_000):
        index.add(np.arange(start, min(start + 200_000, n)), source.rows(start, min(start + 200_000, n)))
    build_s = time.perf_counter() - t0
    mem = rss()
    print(f"{spec}: trained in {train_s:.0f}s, built in {build_s:.0f}s, RSS {mem}", flush=True)

    ann_rows = []
    for frac in args.nprobe_fractions:
        params = SearchParams(nprobe=max(1, round(nlist * frac)), refine_factor=args.refine_factor, min_refine=args.min_refine)
        timed_queries(index, queries[: min(50, len(queries))], params)  # warm-up
        lat, top = timed_queries(index, queries, params)
        ann_rows.append(
            {
                "nprobe": params.nprobe, "nprobe_fraction": frac, "rerank_candidates": max(params.min_refine, params.refine_factor),
                "p50_ms": float(np.median(lat) * 1e3), "p99_ms": float(np.percentile(lat, 99) * 1e3),
                "p50_cpu_ms": float(np.median(CPU_MS)), "load_avg": os.getloadavg(),
                "batch_qps": batch_qps(index, queries, params), "hit1": float((top == ids_q).mean()), "top1": top,
            }
        )  # fmt: skip
        r = ann_rows[-1]
        print(f"  nprobe {r['nprobe']}: p50 {r['p50_ms']:.2f} ms (CPU {r['p50_cpu_ms']:.2f} ms), p99 {r['p99_ms']:.2f} ms, batch {r['batch_qps']:.0f} q/s, hit@1 {r['hit1']:.4f}", flush=True)
    mem_after = rss()

    exact: dict = {}
    if args.skip_exact:
        exact["note"] = "skipped (--skip-exact)"
        for r in ann_rows:
            r.pop("top1")
    elif n <= args.exact_max:
        flat = FlatIndex(dim)
        t0 = time.perf_counter()
        flat.add(np.arange(n), source.rows(0, n))
        exact["build_s"] = time.perf_counter() - t0
        timed_queries(flat, queries[:5], None)
        nq = min(len(queries), args.exact_queries)
        bw_before = memory_bandwidth(0.5)
        lat, _ = timed_queries(flat, queries[:nq], None)
        exact["p50_cpu_ms"] = float(np.median(CPU_MS))
        bandwidth = max(bw_before, memory_bandwidth(0.5))  # measured right beside the exact timings
        exact["memory_bandwidth_Bps"] = bandwidth
        exact["p50_ms"] = float(np.median(lat) * 1e3)
        exact["p99_ms"] = float(np.percentile(lat, 99) * 1e3)
        exact["batch_qps"] = batch_qps(flat, queries, None)
        top = np.array([h.ids[0] for h in flat.search(queries, 1)])
        exact["bytes_per_s"] = n * dim * 4 / (exact["p50_ms"] / 1e3)
        exact["fraction_of_bandwidth"] = exact["bytes_per_s"] / bandwidth
        del flat
    else:
        t0 = time.perf_counter()
        top = exact_top1_streaming(source, queries)
        exact["batched_pass_s"] = time.perf_counter() - t0
        exact["note"] = "float32 vectors exceed memory: exact top-1 from one batched pass; no single-query latency"
    exact["hit1"] = float((top == ids_q).mean()) if not args.skip_exact else None
    for r in ann_rows if not args.skip_exact else []:
        r["agree_with_exact"] = float((r.pop("top1") == top).mean())
        r["hit1_vs_exact"] = r["hit1"] / exact["hit1"] if exact["hit1"] else None
        if "p50_ms" in exact:
            r["speedup_vs_exact_p50"] = exact["p50_ms"] / r["p50_ms"]
    print(f"  exact: {json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in exact.items()})}", flush=True)
    if not args.keep:
        path.unlink(missing_ok=True)
    return {
        "n": n, "dim": dim, "queries": len(queries), "spec": spec, "generate_s": gen_s, "train_s": train_s, "build_s": build_s,
        "rss_gib_after_build": mem, "rss_gib_after_search": mem_after, "ivfpq": ann_rows, "exact": exact,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=None, help="default: 100k,1M (faiss), 100k (milvus)")
    ap.add_argument("--backend", choices=("faiss", "milvus"), default="faiss")
    ap.add_argument("--milvus-uri", default=None, help="milvus://host:19530; default: start a Milvus Lite server")
    ap.add_argument("--milvus-spec", default="Flat", help="the gallery's index spec for --backend milvus")
    ap.add_argument("--enrols", type=int, default=100, help="single-face enrols timed per backend (--backend milvus)")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--exact-queries", type=int, default=200, help="single exact queries timed (they are slow)")
    ap.add_argument("--exact-max", type=parse_size, default=2_000_000, help="largest size searched exactly in memory")
    ap.add_argument("--nprobe-fractions", type=lambda s: [float(x) for x in s.split(",")], default=[0.75, 1.0])
    ap.add_argument("--refine-factor", type=int, default=10)
    ap.add_argument("--min-refine", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", default=str(HERE / ".cache" / "search_scale"))
    ap.add_argument("--keep", action="store_true", help="keep the vector files")
    ap.add_argument("--reuse", action="store_true", help="reuse a vector file of the right size left by --keep")
    ap.add_argument("--skip-exact", action="store_true", help="no exact baseline (e.g. a sweep after a full run)")
    ap.add_argument("--tag", default="", help="suffix for this run's key in the JSON")
    ap.add_argument("--out", default=str(HERE / "results" / "search_scale.json"))
    args = ap.parse_args()
    if args.backend == "milvus":
        run_milvus_sizes(args)
        return

    bandwidth = memory_bandwidth()
    print(f"memory bandwidth (1 thread, numpy copy, read+write): {bandwidth / 1e9:.2f} GB/s", flush=True)
    out_path = Path(args.out)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    results.setdefault("sizes", {})
    for size in (args.sizes or "100k,1M").split(","):
        n = parse_size(size)
        entry = run_size(n, args, bandwidth)
        entry["memory_bandwidth_Bps"] = bandwidth
        entry["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg": os.getloadavg()}
        results["sizes"][f"{n}{args.tag}"] = entry
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(results, indent=2))
        best = entry["ivfpq"][0]
        ex = entry["exact"]
        if ex.get("hit1") is not None:
            print(f"  ratios vs exact: p50 speedup {best.get('speedup_vs_exact_p50', float('nan')):.1f}x, "
                  f"hit@1 {best['hit1']:.4f} vs {ex['hit1']:.4f}; exact at {ex.get('fraction_of_bandwidth', float('nan')):.0%} "
                  f"of copy bandwidth", flush=True)  # fmt: skip
    print(f"\nwrote {out_path}")


def run_milvus_sizes(args: argparse.Namespace) -> None:
    from milvus_scale import run_milvus

    out_path = Path(args.out)
    for size in (args.sizes or "100k").split(","):
        n = parse_size(size)
        entry = run_milvus(n, args)
        entry["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg": os.getloadavg()}
        results = json.loads(out_path.read_text()) if out_path.exists() else {}
        results.setdefault("milvus", {})[f"{n}{args.tag}"] = entry
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out_path}")


if __name__ == "__main__":
    main()
