"""``faceprint migrate`` on an LFW gallery: SQLite + FAISS -> PostgreSQL + Milvus, rank-1 before and after.

The gallery holds every LFW image (plain gallery templates, from the bench/lfw.py cache) except
1,000 probes: one held-out photo each of 1,000 people with two or more photos. The 1,000 probes
are searched before the move (SQLite + FAISS) and after it (PostgreSQL + Milvus) and the rank-1
answers (face token and score) compared one by one. The move itself is the real ``faceprint
migrate`` command in its own process.

    python bench/migrate.py [--pg-url URL] [--milvus-uri URI]
        (without them: a throwaway PostgreSQL cluster and Milvus Lite server on loopback)

Writes bench/results/migrate.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from faceprint.gallery import GalleryConfig, GalleryService, NewFace, SearchOptions  # noqa: E402
from lfw_data import lfw_embeddings  # noqa: E402

PROBES = 1000


def split(names: list[str], found: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(gallery rows, probe rows): one held-out photo of each of 1,000 people with 2+ found photos."""
    by: dict[str, list[int]] = {}
    for i, (n, ok) in enumerate(zip(names, found, strict=True)):
        if ok:
            by.setdefault(n, []).append(i)
    multi = sorted(n for n, rows in by.items() if len(rows) >= 2)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(multi), PROBES, replace=False)
    probes = np.array(sorted(by[multi[k]][-1] for k in chosen))
    gallery = np.setdiff1d(np.flatnonzero(found), probes)
    return gallery, probes


def rank1(svc: GalleryService, token: str, vecs: np.ndarray) -> list[tuple[str, str, float]]:
    out = []
    for start in range(0, len(vecs), 100):
        for r in svc.search_embeddings(token, vecs[start : start + 100], SearchOptions(top_k=1)):
            m = r.matches[0]
            out.append((m.face_token, m.subject, m.score))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pg-url")
    ap.add_argument("--milvus-uri")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "migrate.json")
    args = ap.parse_args()
    data = lfw_embeddings("arcface-s")
    gallery, probes = split(data.names, data.found)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fp-migrate-")))
        if args.pg_url:
            pg = args.pg_url
        else:
            from backends.postgres import fresh_database, postgres_server

            pg = fresh_database(stack.enter_context(postgres_server())[0])
        if args.milvus_uri:
            milvus = args.milvus_uri
        else:
            from backends.milvus import milvus_server

            milvus = stack.enter_context(milvus_server())[0]
        index = "milvus://" + milvus.split("://", 1)[1]
        src_url = f"sqlite:///{tmp / 'src' / 'faceprint.db'}"
        with GalleryService(GalleryConfig(data_dir=tmp / "src", store=src_url)) as src:
            fs = src.create("lfw")
            faces = [NewFace(data.emb[i], data.names[i]) for i in gallery]
            for start in range(0, len(faces), 2000):
                src.add_embeddings(fs.token, faces[start : start + 2000])
            t0 = time.perf_counter()
            before = rank1(src, fs.token, data.emb[probes])
            search_before = time.perf_counter() - t0
        t0 = time.perf_counter()
        run = subprocess.run(
            [str(Path(sys.executable).with_name("faceprint")), "migrate", "--from", src_url, "--to", pg, "--index", index,
             "--json"], capture_output=True, text=True, check=False,
        )  # fmt: skip
        move_s = time.perf_counter() - t0
        if run.returncode != 0:
            sys.exit(f"faceprint migrate failed ({run.returncode}): {run.stdout[-2000:]} {run.stderr[-2000:]}")
        report = json.loads(run.stdout)
        with GalleryService(GalleryConfig(data_dir=tmp / "dst", store=pg, index=index)) as dst:
            t0 = time.perf_counter()
            after = rank1(dst, fs.token, data.emb[probes])
            search_after = time.perf_counter() - t0
    truth = [data.names[i] for i in probes]
    same = sum(a[0] == b[0] for a, b in zip(before, after, strict=True))
    max_diff = max(abs(a[2] - b[2]) for a, b in zip(before, after, strict=True))
    result = {
        "gallery_faces": len(gallery),
        "probes": len(probes),
        "migrate": {"seconds": round(move_s, 2), "faces_per_s": round(len(gallery) / move_s, 1), "report": report},
        "rank1_identical": same,
        "rank1_max_score_difference": max_diff,
        "rank1_accuracy_before": sum(b[1] == t for b, t in zip(before, truth, strict=True)) / len(truth),
        "rank1_accuracy_after": sum(a[1] == t for a, t in zip(after, truth, strict=True)) / len(truth),
        "search_s_per_probe": {"sqlite_faiss": search_before / len(probes), "postgresql_milvus": search_after / len(probes)},
        "note": "Milvus Lite searches exactly whatever index type is declared; a cluster's IVF/HNSW would be approximate",
    }
    print(f"gallery {len(gallery)} LFW faces, {len(probes)} probes (one held-out photo of each of 1,000 people)")
    print(f"faceprint migrate: {move_s:.1f} s ({len(gallery) / move_s:.0f} faces/s), verified: {report['ok']}, "
          f"{report['target_faces']} faces in the target")  # fmt: skip
    print(f"rank-1 identical before/after: {same}/{len(probes)} (largest score difference {max_diff:.2e})")
    print(f"rank-1 identity accuracy: {result['rank1_accuracy_before']:.4f} before, {result['rank1_accuracy_after']:.4f} after")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
