"""Write docs/benchmarks.md from the benchmarks' JSON (bench/results/), so quoted figures are measured ones.

    python bench/report.py      -> docs/benchmarks.md, and prints the README's LFW line

The results quoted are kept in docs/benchmarks.json (bench/results/ is not committed); the README
quotes the LFW line printed here, and tests/test_bench_report.py checks both.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
OUT = ROOT / "docs" / "benchmarks.md"
SNAPSHOT = ROOT / "docs" / "benchmarks.json"  # the results quoted, committed beside the page (bench/results/ is not)
LEVELS = ("1e-3", "1e-4", "1e-5")


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def readme_lfw_line(lfw: dict, pack: str = "arcface-s") -> str:
    """The README's LFW figure: the product path's, exactly as bench/lfw.py wrote it."""
    p = lfw[pack]["product_path"]
    return (f"{p['accuracy_mean']:.2f} ± {p['accuracy_std']:.2f}% through `FaceEngine.compare` on whole images "
            f"({p['pairs']} pairs, {p['pairs_with_missed_face']} with a missed face); TAR {p['tar_at_calibrated']['1e-4']:.2f}% "
            f"at the calibrated FAR 1e-4 threshold")  # fmt: skip


def lfw_section(lfw: dict) -> list[str]:
    out = ["## LFW verification (`bench/lfw.py`)", "",
           "Official View-2 pairs, 10-fold (threshold on 9 folds, accuracy on the 10th); no pair is skipped.", "",
           "| pack | protocol | 10-fold accuracy | pairs with a missed face | TAR at the calibrated FAR 1e-3 / 1e-4 / 1e-5 | all-vs-all TAR@FAR 1e-3 / 1e-4 |",
           "|---|---|---|---|---|---|"]  # fmt: skip
    for pack, r in lfw.items():
        p, c = r["product_path"], r["centre_face"]
        tar = " / ".join(f"{p['tar_at_calibrated'][k]:.2f}%" for k in LEVELS)
        ava = p["all_vs_all"]
        out.append(f"| {pack} | 1. product path: `FaceEngine.compare(a, b)` | {p['accuracy_mean']:.2f} ± {p['accuracy_std']:.2f}% | "
                   f"{p['pairs_with_missed_face']} | {tar} | {ava['tar_at_far_1e-3']:.2f}% / {ava['tar_at_far_1e-4']:.2f}% "
                   f"({ava['images']:,} images, {ava['impostor_pairs']:,} impostor pairs) |")  # fmt: skip
        out.append(f"| {pack} | 2. centre face (the face nearest the image centre) | {c['accuracy_mean']:.2f} ± {c['accuracy_std']:.2f}% | | | |")
    return [*out, ""]


def primary_section(pf: dict) -> list[str]:
    out = ["## Primary-face rules (`bench/primary_face.py`)", "", pf["protocol"].replace("\n", " "), "",
           "| rule | LFW 10-fold | prominent face on multi-face photos | a real face (dlib ground truth) |", "|---|---|---|---|"]  # fmt: skip
    for name, r in pf["rules"].items():
        acc, ph = r["lfw"], r["photos"]
        out.append(f"| {name} | {acc['accuracy_mean']:.2f} ± {acc['accuracy_std']:.2f}% | {ph['prominent']}/{ph['photos']} | "
                   f"{ph['real_face']}/{ph['with_truth']} |")  # fmt: skip
    return [*out, ""]


def nonface_section(nf: dict) -> list[str]:
    n, lf = nf["nonface"], nf["lfw"]
    return ["## Non-face gate (`bench/nonface.py`)", "", nf["protocol"].replace("\n", " "), "",
            "| measure | figure |", "|---|---|",
            f"| non-face images (dogs.jpg, scikit-image and scikit-learn photos, mirrored, halved, cropped) | {n['images']} |",
            f"| false faces the detector finds without the gate | {n['false_faces_without_gate']} ({', '.join(n['false_faces'])}) |",
            f"| false faces rejected by the gate | {n['false_faces_rejected_pct']}% |",
            f"| non-face images giving no face | {n['images_clean_with_gate_pct']}% |",
            f"| LFW faces lost (pair images) | {lf['faces_lost']} of {lf['faces_without_gate']} ({lf['face_loss_pct']}%) |", ""]  # fmt: skip


def main() -> None:
    old = json.loads(SNAPSHOT.read_text()) if SNAPSHOT.exists() else {}
    snap = {name: _load(name) or old.get(name) for name in ("lfw", "primary_face", "nonface")}
    lfw, pf, nf = snap["lfw"], snap["primary_face"], snap["nonface"]
    if lfw is None:
        sys.exit("no bench/results/lfw.json: run bench/lfw.py first")
    SNAPSHOT.write_text(json.dumps({k: v for k, v in snap.items() if v is not None}, indent=2) + "\n")
    lines = ["# Benchmarks", "", "Written by `bench/report.py` from `bench/results/*.json`; do not edit by hand.", ""]
    lines += lfw_section(lfw)
    if pf:
        lines += primary_section(pf)
    if nf:
        lines += nonface_section(nf)
    OUT.write_text("\n".join(lines))
    print(f"wrote {OUT}")
    print("README LFW line:", readme_lfw_line(lfw))


if __name__ == "__main__":
    main()
