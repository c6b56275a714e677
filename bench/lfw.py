"""LFW verification through the full pipeline, for each pack.

Protocol: the official View-2 pairs.txt, 10-fold cross-validation (threshold chosen on 9 folds,
accuracy measured on the 10th; mean ± std). A pair with a face not found in either image counts
as an error, never as a skip. TAR at FAR 1e-3 / 1e-4 uses all-vs-all impostor pairs over every
LFW image (millions of pairs), not the 3,000 listed ones.

Two template kinds are measured, as the engine makes them: 1:1 templates (``compare``; flip-fused
where the pack's ``compare_flip`` says so, the default verification path) and plain gallery
templates (enrolment, search, video). The headline accuracy and TAR are the 1:1 path's.

    python bench/lfw.py [PACK ...]     -> prints a table, writes bench/results/lfw.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from far import pair_scores, threshold_at  # noqa: E402
from lfw_data import ROOT, lfw_embeddings, read_pairs  # noqa: E402

from faceprint.models.packs import get_pack  # noqa: E402

PUBLISHED = {"arcface-s": 99.70, "sface": 99.40, "dlib": 99.38}


def ten_fold(scores: np.ndarray, same: np.ndarray, valid: np.ndarray, folds: np.ndarray) -> list[float]:
    accs = []
    for k in range(10):
        train = (folds != k) & valid
        cand = np.unique(scores[train])
        cand = np.concatenate([cand, [cand[-1] + 1e-6]])
        correct = [((scores[train] >= t) == same[train]).sum() for t in cand]
        t = cand[int(np.argmax(correct))]
        test = folds == k
        ok = ((scores[test] >= t) == same[test]) & valid[test]  # a missed face is an error
        accs.append(float(ok.mean()))
    return accs


def evaluate(pack: str) -> dict:
    data = lfw_embeddings(pack)
    idx = data.index()
    pairs = read_pairs()
    a = np.array([idx[p[0]] for p in pairs])
    b = np.array([idx[p[1]] for p in pairs])
    same = np.array([p[2] for p in pairs])
    folds = np.array([p[3] for p in pairs])
    valid = data.found[a] & data.found[b]
    one_to_one = "flip_fused" if get_pack(pack).compare_flip else "plain"
    out: dict = {"pack": pack, "pairs": len(pairs), "pairs_with_missed_face": int((~valid).sum()), "compare_templates": one_to_one}
    variants = {"plain": data.emb, "flip_fused": data.fused()}
    for variant, emb in variants.items():
        scores = np.einsum("ij,ij->i", emb[a], emb[b])
        accs = ten_fold(scores, same, valid, folds)
        out[variant] = {"accuracy_mean": round(100 * np.mean(accs), 3), "accuracy_std": round(100 * np.std(accs), 3)}
    # TAR at FAR over the whole of LFW (found faces only; misses are reported above)
    f = data.found
    labels = np.array(data.names)[f]
    n_imp, n_gen, top, gen = pair_scores(variants[one_to_one][f], labels, keep_top=int(2e-3 * f.sum() ** 2 / 2) + 10)
    out["all_vs_all"] = {"impostor_pairs": n_imp, "genuine_pairs": n_gen}
    for name, far in (("1e-3", 1e-3), ("1e-4", 1e-4)):
        thr = threshold_at(top, n_imp, far)
        out["all_vs_all"][f"tar_at_far_{name}"] = round(float((gen >= thr).mean()) * 100, 3)
    out["images_missed"] = int((~data.found).sum())
    out["published_accuracy"] = PUBLISHED.get(pack)
    if data.seconds:
        out["embed_images_per_s"] = round(len(data.paths) / data.seconds, 1)
    return out


def main(packs: list[str]) -> None:
    results = [evaluate(p) for p in packs]
    from rich.console import Console
    from rich.table import Table

    t = Table(title="LFW View-2, official 10-fold protocol (missed faces count as errors)")
    cols = ("pack", "1:1 compare", "templates", "gallery (plain)", "flip-fused", "published", "pairs w/ miss",
            "TAR@FAR1e-3", "TAR@FAR1e-4")  # fmt: skip
    for col in cols:
        t.add_column(col, justify="right")
    for r in results:
        acc = {k: f"{r[k]['accuracy_mean']:.2f} ± {r[k]['accuracy_std']:.2f}%" for k in ("plain", "flip_fused")}
        t.add_row(
            r["pack"],
            acc[r["compare_templates"]],
            r["compare_templates"],
            acc["plain"],
            acc["flip_fused"],
            f"{r['published_accuracy']}%",
            str(r["pairs_with_missed_face"]),
            f"{r['all_vs_all']['tar_at_far_1e-3']:.2f}%",
            f"{r['all_vs_all']['tar_at_far_1e-4']:.2f}%",
        )
    Console(width=140).print(t)
    res_dir = ROOT / "bench" / "results"
    res_dir.mkdir(parents=True, exist_ok=True)
    path = res_dir / "lfw.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    old.update({r["pack"]: r for r in results})
    path.write_text(json.dumps(old, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["arcface-s", "sface", "dlib"])
