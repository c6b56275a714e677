"""The "whole machine" rows of bench/throughput.py: faceprint over every core, two ways.

- ``pool``: :class:`faceprint.parallel.EnginePool`, one process per core, each with its own
  engine and 1 onnxruntime intra-op thread (what ``embed_many``, ``enroll --workers`` and
  ``serve --workers`` use); images go to the workers as paths and are decoded there;
- ``threads``: one process, one engine with 1 intra-op thread, shared by one Python thread per
  core (the weights exist once; the GIL is held between model calls).

Each pass is the photo set repeated whole (each photo as often as the others, as in the 1-thread
passes) to at least 16 images per worker; the figure is the median
images/s over ``rounds`` passes after a warm-up pass; worker start-up is timed apart. Memory: each
pool worker's RSS after loading its models, and the share loading the models added; for
``threads``, the process's RSS. InsightFace's FaceAnalysis has no multi-process mode of its own:
its best configuration on the same cores is its fastest single process over the thread counts
(and spinning settings) that the same run measured.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

TARGET_SCALING = 1.8  # whole machine over the 1-thread rate of the same run (2 cores)
TARGET_VS_INSIGHTFACE = 2.0  # whole machine over InsightFace's best configuration on the same cores


def _repeat(files: list[Path], workers: int) -> list[str]:
    """The set, whole, as many times as it takes to give each worker 16 images: a partial last copy
    would weigh some photos more than the 1-thread rate it is compared with does, and a short
    pass more the moment a worker waits for the last image."""
    copies = -(-16 * workers // len(files))
    return [str(f) for _ in range(copies) for f in files]


def _engine_config() -> Any:
    from faceprint.engine import EngineConfig

    return EngineConfig(threads=1, det_size=640, det_threshold=0.5)  # InsightFace's prepare(det_thresh=0.5, det_size=640)


def pool_rates(sets: dict[str, list[Path]], rounds: int, workers: int) -> dict[str, Any]:
    from faceprint.parallel import EnginePool, PoolConfig
    from faceprint.parallel.batch import embed_one

    t0 = time.perf_counter()
    with EnginePool(PoolConfig(workers=workers, threads=1, engine=_engine_config())) as pool:
        out: dict[str, Any] = {"workers": workers, "startup_s": round(time.perf_counter() - t0, 2),
                               "worker_rss_mb": [i.rss_mb for i in pool.infos], "worker_model_mb": [i.model_mb for i in pool.infos], "sets": {}}  # fmt: skip
        for name, files in sets.items():
            batch = _repeat(files, workers)
            list(pool.map(embed_one, batch))  # warm-up
            ips = []
            for _ in range(rounds):
                t = time.perf_counter()
                faces = sum(len(o.get()) for o in pool.map(embed_one, batch))
                ips.append(len(batch) / (time.perf_counter() - t))
            out["sets"][name] = {"images_per_s": statistics.median(ips), "passes_images_per_s": [round(x, 2) for x in ips],
                                 "images_per_pass": len(batch), "faces_per_pass": faces}  # fmt: skip
        out["worker_rss_end_mb"] = [round(r, 1) for r in pool.rss_mb()]
    return out


def _threads_child(sets: dict[str, list[Path]], rounds: int, threads: int, answer: Any) -> None:
    from faceprint.engine import FaceEngine
    from faceprint.parallel.worker import rss_mb

    before = rss_mb()
    engine = FaceEngine(config=_engine_config())
    out: dict[str, Any] = {"threads": threads, "rss_mb": 0.0, "model_mb": round(rss_mb() - before, 1), "sets": {}}
    with ThreadPoolExecutor(threads) as ex:
        for name, files in sets.items():
            batch = _repeat(files, threads)
            list(ex.map(engine.embed, batch))
            ips = []
            for _ in range(rounds):
                t = time.perf_counter()
                list(ex.map(engine.embed, batch))
                ips.append(len(batch) / (time.perf_counter() - t))
            out["sets"][name] = {"images_per_s": statistics.median(ips), "passes_images_per_s": [round(x, 2) for x in ips]}
    out["rss_mb"] = round(rss_mb(), 1)
    answer.put(out)


def thread_rates(sets: dict[str, list[Path]], rounds: int, threads: int) -> dict[str, Any]:
    """The one-process alternative, in a fresh spawned process (its RSS is its own)."""
    ctx = multiprocessing.get_context("spawn")
    answer = ctx.Queue()
    proc = ctx.Process(target=_threads_child, args=(sets, rounds, threads, answer))
    proc.start()
    try:
        result: dict[str, Any] = answer.get(timeout=1800)
    finally:
        proc.join(60)
        if proc.is_alive():
            proc.kill()
            proc.join()
    return result


def summarise(runs: dict[int, Any], pool: dict[str, Any], threaded: dict[str, Any], cores: int) -> dict[str, Any]:
    """One row per set: the pool against the 1-thread rate and against InsightFace's best, with verdicts."""
    rows, ok = [], True
    for name, p in pool["sets"].items():
        one = runs[1]["sets"][name]["stats"]["faceprint"]["images_per_s"] if 1 in runs else None
        peers = [(t, n, r["sets"][name]["stats"][n]["images_per_s"]) for t, r in runs.items() if t <= cores
                 for n in ("insightface", "insightface-nospin") if n in r["sets"][name]["stats"]]  # fmt: skip
        t_best, n_best, ins = max(peers, key=lambda x: x[2])
        fp = p["images_per_s"]
        row = {
            "set": name, "cores": cores, "faceprint_pool": round(fp, 2), "faceprint_threads": round(threaded["sets"][name]["images_per_s"], 2),
            "faceprint_1thread": one, "scaling": round(fp / one, 3) if one else None,
            "insightface_best": round(ins, 2), "insightface_config": f"{n_best}, {t_best} thread(s), one process", "vs_insightface": round(fp / ins, 3),
        }  # fmt: skip
        if cores >= 2 and one:
            ok &= row["scaling"] >= TARGET_SCALING and row["vs_insightface"] >= TARGET_VS_INSIGHTFACE
        rows.append(row)
    return {"rows": rows, "pool": {k: v for k, v in pool.items() if k != "sets"}, "threads": {k: v for k, v in threaded.items() if k != "sets"},
            "targets": {"scaling": TARGET_SCALING, "vs_insightface": TARGET_VS_INSIGHTFACE}, "targets_met": bool(ok) if cores >= 2 else None}  # fmt: skip


def print_rows(report: dict[str, Any]) -> None:
    pool, thr = report["pool"], report["threads"]
    print(f"\n=== whole machine: {pool['workers']} cores (faceprint.parallel pool: {pool['workers']} processes x 1 intra-op thread) ===")
    print(f"pool start-up {pool['startup_s']} s; worker RSS after model load {pool['worker_rss_mb']} MiB (models: {pool['worker_model_mb']} MiB),"
          f" {sum(pool['worker_rss_mb']):.0f} MiB in all; one process with {thr['threads']} threads: {thr['rss_mb']} MiB (models {thr['model_mb']} MiB)")  # fmt: skip
    print("InsightFace has no multi-process mode of its own: its best is its fastest single process measured above.")
    print(f"{'set':20s} {'pool':>8s} {'threads':>8s} {'1 thread':>9s} {'pool/1t':>8s} {'insightface best':>17s} {'pool/if':>8s}")
    for r in report["rows"]:
        one = f"{r['faceprint_1thread']:9.2f}" if r["faceprint_1thread"] else "        -"
        scale = f"{r['scaling']:8.2f}" if r["scaling"] else "       -"
        print(f"{r['set']:20s} {r['faceprint_pool']:8.2f} {r['faceprint_threads']:8.2f} {one} {scale} {r['insightface_best']:17.2f} {r['vs_insightface']:8.2f}"
              f"  ({r['insightface_config']})")  # fmt: skip
    verdict = report["targets_met"]
    print(f"whole-machine targets (>= {TARGET_SCALING}x the 1-thread rate, >= {TARGET_VS_INSIGHTFACE}x InsightFace's best): "
          f"{'no verdict (1 core)' if verdict is None else 'MET' if verdict else 'NOT MET'}")  # fmt: skip
