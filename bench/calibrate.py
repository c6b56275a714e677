"""Rebuild faceprint/data/thresholds.json: per-pack similarity at FAR 1e-3, 1e-4, 1e-5.

Protocol: the templates the product path makes (the primary-face rule, the non-face gate): the
1:1 flip-fused ones come from ``FaceEngine.template`` itself (bench/lfw.py's product-path cache),
the plain gallery ones are the same chosen faces without the mirror (bench/lfw_faces.py cache). The
images are the 7,701 that the official pairs use, at most 20 per person (without
the cap, a handful of people with hundreds of photos and LFW's few mislabelled images decide the
tail on their own). Identities are split in two by a hash of the name. On the calibration half every pair of images of different people is an
impostor pair (millions); the threshold at FAR f is the similarity that at most f of them reach.
The held-out half then measures the FAR those thresholds really give on people never seen
during calibration, and the TAR on its genuine pairs.

    python bench/calibrate.py [PACK ...]      # each pack, and PACK+flip where flip fusion applies
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from far import count_at_or_above, pair_scores, threshold_at
from lfw_data import NO_FLIP, ROOT

LEVELS = {"1e-3": 1e-3, "1e-4": 1e-4, "1e-5": 1e-5}
TABLE = ROOT / "faceprint" / "data" / "thresholds.json"
RESULTS = ROOT / "bench" / "results"


def _half(name: str) -> int:
    return hashlib.sha1(name.encode(), usedforsecurity=False).digest()[0] & 1


PER_PERSON = 20  # George W Bush alone has 530 images: cap each person so no few identities dominate


def capped(names: list[str], found: np.ndarray, cap: int = PER_PERSON) -> np.ndarray:
    """Mask of found images keeping each person's first ``cap`` (in file order: deterministic)."""
    seen: dict[str, int] = {}
    keep = np.zeros(len(names), bool)
    for i, (n, f) in enumerate(zip(names, found, strict=True)):
        if f and seen.get(n, 0) < cap:
            keep[i] = True
            seen[n] = seen.get(n, 0) + 1
    return keep


def product_templates(key: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(paths, (N, D) templates, found) as the product path makes them for ``key``."""
    from faceprint.choose import primary_index
    from faceprint.types import Face
    from lfw import MemoEngine
    from lfw_faces import lfw_faces

    pack, _, variant = key.partition("+")
    memo = MemoEngine(pack).memo
    if not memo:
        raise SystemExit("run bench/lfw.py first: it computes the product path's templates")
    paths = sorted(memo)
    found = np.array([memo[p][0] is not None for p in paths])
    if variant == "flip":
        return paths, np.stack([memo[p][0] if memo[p][0] is not None else np.zeros(512, np.float32) for p in paths]), found
    faces = lfw_faces(pack, limit=7701)
    at = {f"{Path(p).parent.name}/{Path(p).name}": i for i, p in enumerate(paths)}
    emb = np.zeros((len(paths), faces.raw.shape[1]), np.float32)
    for i, p in enumerate(faces.paths):
        rows = faces.faces_of(i)
        if len(rows) and p in at:
            pick = rows[primary_index([Face(bbox=faces.bbox[r], score=float(faces.score[r]), kps=faces.kps[r]) for r in rows], 250, 250)]
            emb[at[p]] = faces.raw[pick] / np.linalg.norm(faces.raw[pick])
    return paths, emb, found


def calibrate(key: str) -> dict:
    """``key`` is a pack name, or ``PACK+flip`` for flip-fused templates (EngineConfig(flip=True))."""
    paths, emb, found_any = product_templates(key)
    people = [Path(p).parent.name for p in paths]
    names = np.array(people)
    halves = np.array([_half(n) for n in people])
    found = capped(people, found_any)
    cal = found & (halves == 0)
    held = found & (halves == 1)
    x_cal, l_cal = emb[cal], names[cal]
    n_imp, _, top, gen = pair_scores(x_cal, l_cal, keep_top=int(2e-3 * len(x_cal) ** 2 / 2) + 10)
    sims = {k: threshold_at(top, n_imp, f) for k, f in LEVELS.items()}
    h_imp, h_imp_c, h_gen_c, h_gen = count_at_or_above(emb[held], names[held], list(sims.values()))
    report = {
        "pack": key,
        "similarity_at_far": {k: round(v, 6) for k, v in sims.items()},
        "calibration": {
            "identities": len(set(l_cal)),
            "images": int(cal.sum()),
            "impostor_pairs": n_imp,
        },
        "held_out": {
            "identities": len(set(names[held])),
            "images": int(held.sum()),
            "impostor_pairs": h_imp,
            "genuine_pairs": h_gen,
            "far": {k: h_imp_c[i] / h_imp for i, k in enumerate(LEVELS)},
            "far_ratio_to_nominal": {k: round(h_imp_c[i] / h_imp / LEVELS[k], 3) for i, k in enumerate(LEVELS)},
            "tar": {k: round(h_gen_c[i] / h_gen, 5) for i, k in enumerate(LEVELS)},
        },
        "faces_missed": int((~found_any).sum()),
        "images_total": len(paths),
        "images_per_person_cap": PER_PERSON,
    }
    _plot(key, top, n_imp, gen, sims)
    return report


def _plot(pack: str, top: np.ndarray, n_imp: int, gen: np.ndarray, sims: dict[str, float]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.hist(gen, bins=100, alpha=0.6, density=True, label=f"genuine ({gen.size:,} pairs)")
    ax1.hist(top, bins=100, alpha=0.6, density=True, label=f"top impostors ({top.size:,} of {n_imp:,})")
    for k, v in sims.items():
        ax1.axvline(v, ls="--", c="k", lw=0.8)
        ax1.text(v, ax1.get_ylim()[1] * 0.9, f"FAR {k}", rotation=90, fontsize=8)
    ax1.set_xlabel("cosine similarity")
    ax1.set_title(f"{pack}: LFW calibration half")
    ax1.legend(fontsize=8)
    thr = np.linspace(top[-1], max(top[0], gen.max()), 400)
    far = np.searchsorted(-top, -thr, side="right") / n_imp
    tar = (gen[None, :] >= thr[:, None]).mean(1)
    ok = far > 0
    ax2.semilogx(far[ok], tar[ok])
    ax2.set_xlabel("false accept rate")
    ax2.set_ylabel("true accept rate")
    ax2.set_title("ROC (all-vs-all)")
    ax2.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(RESULTS / f"calibration_{pack}.png", dpi=90)
    plt.close(fig)


def main(packs: list[str]) -> None:
    table = json.loads(TABLE.read_text()) if TABLE.exists() else {}
    keys = [k for p in packs for k in ([p] if p in NO_FLIP or "+" in p else [p, p + "+flip"])]
    for key in keys:
        rep = calibrate(key)
        table[key] = {
            "similarity_at_far": rep["similarity_at_far"],
            "source": "bench/calibrate.py: product-path templates of LFW's 7,701 pair images, all-vs-all impostors, <=20 images a person, calibration half of identities",
            "held_out": rep["held_out"],
        }
        print(json.dumps(rep, indent=2))
    TABLE.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")
    RESULTS.mkdir(parents=True, exist_ok=True)
    print(f"wrote {TABLE}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["arcface-s"])
