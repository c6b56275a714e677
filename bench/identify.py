"""1:N identification on LFW through the gallery stack, NIST open-set style, for each pack.

    python bench/identify.py                  # every pack with cached LFW embeddings
    python bench/identify.py --pack arcface-s

Protocol (deterministic, seed 0):

- Gallery: the first image (in file order, with a face found) of each of the 1,680 people with two
  or more images, plus half of the 4,069 single-image people as distractors.
- Mated probes: every other image of the 1,680 people.
- Non-mated probes: the other half of the single-image people, held out of the gallery.
- A probe whose face was not found counts as a miss (mated) and as a rejection (non-mated).

Reported: rank-1 and rank-5 identification rates (closed-set, over mated probes); FNIR at FPIR
1e-2 and 1e-3, where the threshold T is the score that lets that fraction of non-mated probes
through at rank 1, and a mated search is a miss unless its mate is at rank 1 with score >= T.
(With about 2,000 non-mated probes, FPIR 1e-3 rests on two searches: read it as indicative.)

Search runs through GalleryService (SQLite store + the gallery's auto index); the baseline in the
same run is a brute-force numpy search over the same templates: its ranks must agree, and the
ratio of search times is printed. Results: bench/results/identify.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from faceprint.compare import Calibration, calibration_for
from faceprint.errors import ModelError
from faceprint.gallery import GalleryConfig, GalleryService, NewFace, NewFaceSet, SearchOptions

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Split:
    gallery: np.ndarray  # row indices into the LFW arrays
    mated: np.ndarray
    nonmated: np.ndarray


def split(names: list[str], found: np.ndarray, seed: int = 0) -> Split:
    by_name: dict[str, list[int]] = defaultdict(list)
    for i, n in enumerate(names):
        by_name[n].append(i)
    gallery, mated, singles = [], [], []
    for name in sorted(by_name):
        rows = by_name[name]
        if len(rows) == 1:
            singles.append(rows[0])
            continue
        first = next((r for r in rows if found[r]), rows[0])
        gallery.append(first)
        mated += [r for r in rows if r != first]
    rng = np.random.default_rng(seed)
    singles_arr = np.array(singles)
    rng.shuffle(singles_arr)
    half = len(singles_arr) // 2
    return Split(np.array(gallery + sorted(singles_arr[:half].tolist())), np.array(mated), np.sort(singles_arr[half:]))


def _calibration(pack: str) -> Calibration:
    try:
        return calibration_for(pack)
    except ModelError:  # confidence is not used here: ranks and raw scores are
        return Calibration(pack, {"1e-3": 0.3, "1e-4": 0.35, "1e-5": 0.4}, "placeholder: not calibrated yet")


def gallery_search(pack: str, emb: np.ndarray, names: list[str], sp: Split, top_k: int) -> tuple[list, float]:
    """(per probe: [(subject, score)] best first) for mated then non-mated probes, and seconds spent searching."""
    probes = np.concatenate([sp.mated, sp.nonmated])
    with tempfile.TemporaryDirectory() as tmp, GalleryService(GalleryConfig(data_dir=Path(tmp)), calibrations=_calibration) as svc:
        svc.create_for(NewFaceSet(pack=pack, dim=emb.shape[1], outer_id="lfw"))
        rows = [r for r in sp.gallery if np.any(emb[r])]
        svc.add_embeddings("lfw", [NewFace(emb[r], names[r]) for r in rows])
        t0 = time.perf_counter()
        results = svc.search_embeddings("lfw", emb[probes], SearchOptions(top_k=top_k, by="subject"))
        seconds = time.perf_counter() - t0
    return [[(m.subject, m.score) for m in r.matches] for r in results], seconds


def numpy_search(emb: np.ndarray, names: list[str], sp: Split, top_k: int) -> tuple[list, float]:
    rows = np.array([r for r in sp.gallery if np.any(emb[r])])
    g = emb[rows]
    probes = np.concatenate([sp.mated, sp.nonmated])
    t0 = time.perf_counter()
    s = emb[probes] @ g.T
    top = np.argsort(-s, axis=1)[:, :top_k]
    seconds = time.perf_counter() - t0
    return [[(names[rows[j]], float(s[i, j])) for j in top[i]] for i in range(len(probes))], seconds


def metrics(found: np.ndarray, names: list[str], sp: Split, ranked: list) -> dict[str, float]:
    nm = len(sp.mated)
    mated, nonmated = ranked[:nm], ranked[nm:]

    def rank_of(row: int, res: list) -> int:
        if not found[row]:
            return 10**9
        return next((k for k, (subj, _) in enumerate(res) if subj == names[row]), 10**9)

    ranks = np.array([rank_of(r, res) for r, res in zip(sp.mated, mated, strict=True)])
    top1_mated = np.array([res[0][1] if found[r] and res and ranks[i] == 0 else -np.inf for i, (r, res) in enumerate(zip(sp.mated, mated, strict=True))])
    nm_scores = np.sort(np.array([res[0][1] if found[r] and res else -np.inf for r, res in zip(sp.nonmated, nonmated, strict=True)]))[::-1]
    out = {"rank1": float((ranks < 1).mean()), "rank5": float((ranks < 5).mean())}
    for fpir in (1e-2, 1e-3):
        allowed = int(np.floor(fpir * len(nm_scores)))  # non-mated searches allowed through
        t = float(nm_scores[allowed]) if allowed < len(nm_scores) else -np.inf
        out[f"threshold_at_fpir_{fpir:g}"] = t
        out[f"fnir_at_fpir_{fpir:g}"] = float((top1_mated <= t).mean())  # a mate must beat every let-through impostor
    return out


def load(pack: str, cache: str | None):
    from lfw_data import LfwEmbeddings, lfw_embeddings

    if cache is None:
        return lfw_embeddings(pack)
    z = np.load(cache, allow_pickle=False)
    paths = [str(p) for p in z["paths"]]
    return LfwEmbeddings(pack, paths, [p.split("/")[0] for p in paths], z["emb"], z["emb_flip"], z["found"], 0.0)


def run(pack: str, args: argparse.Namespace) -> dict:
    lfw = load(pack, getattr(args, "cache", None))
    emb = lfw.emb.astype(np.float32)
    sp = split(lfw.names, lfw.found, args.seed)
    ranked, t_gallery = gallery_search(pack, emb, lfw.names, sp, 5)
    base, t_numpy = numpy_search(emb, lfw.names, sp, 5)
    m = metrics(lfw.found, lfw.names, sp, ranked)
    b = metrics(lfw.found, lfw.names, sp, base)
    counts: dict[str, int] = defaultdict(int)
    for n in lfw.names:
        counts[n] += 1
    people = sum(1 for c in counts.values() if c >= 2)
    return {
        "pack": pack, "embeddings": getattr(args, "cache", None) or "bench/lfw_data.py cache", "images": len(lfw.paths), "faces_found": int(lfw.found.sum()),
        "gallery": len(sp.gallery), "gallery_people_2plus": people, "distractors": len(sp.gallery) - people,
        "mated_probes": len(sp.mated), "nonmated_probes": len(sp.nonmated), **m,
        "baseline_numpy": b, "search_seconds": t_gallery, "baseline_seconds": t_numpy,
        "probes_per_s": (len(sp.mated) + len(sp.nonmated)) / t_gallery,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", action="append", help="pack(s) to run; default: every pack with an LFW cache")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", help="an .npz of LFW embeddings (paths, emb, emb_flip, found) to use for --pack")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "identify.json"))
    args = ap.parse_args()
    packs = args.pack or sorted(p.stem.removeprefix("lfw_") for p in (ROOT / "bench" / ".cache").glob("lfw_*.npz"))
    if not packs:
        sys.exit("no LFW embeddings cached: run bench/lfw_data.py for a pack first, or pass --pack")
    out = {}
    for pack in packs:
        r = run(pack, args)
        out[pack] = r
        b = r["baseline_numpy"]
        print(f"{pack}: rank-1 {r['rank1']:.4f}  rank-5 {r['rank5']:.4f}  FNIR@FPIR=1e-2 {r['fnir_at_fpir_0.01']:.4f}"
              f"  FNIR@FPIR=1e-3 {r['fnir_at_fpir_0.001']:.4f}  ({r['mated_probes']} mated, {r['nonmated_probes']} non-mated,"
              f" gallery {r['gallery']})")  # fmt: skip
        print(f"  vs numpy brute force in this run: rank-1 ratio {r['rank1'] / b['rank1']:.4f},"
              f" search time ratio {r['search_seconds'] / r['baseline_seconds']:.1f}x ({r['probes_per_s']:.0f} probes/s)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
