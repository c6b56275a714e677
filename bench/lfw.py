"""LFW verification: first what a user gets (``FaceEngine.compare`` on the whole images), then the
centre-face protocol as a labelled second row.

Protocol: the official View-2 pairs.txt, 10-fold cross-validation (threshold chosen on 9 folds,
accuracy measured on the 10th; mean ± std). No pair is skipped: a pair where compare finds no face
counts as an error.

Row 1, "product path": every one of the 6,000 pairs is one ``FaceEngine.compare(path_a, path_b)``
call, so the product's own face choice (the primary-face rule), its 1:1 flip-fused templates and its
calibrated thresholds are what is measured. The engine keeps each image's template in memory
(``MemoEngine``: ``template`` of a path is computed once, by the product's own code) and on disk in
bench/.cache, keyed by a hash of the code and models. TAR at the calibrated thresholds is the share of
the 3,000 same pairs that ``Verdict.match(level)`` accepts. Then TAR@FAR all-vs-all on the product
path's templates of the 7,701 images the pairs use (every different-identity pair is an impostor).

Row 2, "centre face": the face nearest the image centre (LFW's own labelling convention, the old
bench/lfw_data.py protocol), from the bench/lfw_faces.py cache of every detected face.

    python bench/lfw.py         -> prints the table, writes bench/results/lfw.json
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from faceprint import FaceEngine
from faceprint.choose import PRIMARY, FaceChoice
from faceprint.compare import FAR_LEVELS
from faceprint.errors import NoFaceFound
from faceprint.image import ImageInput
from faceprint.types import Face
from far import pair_scores, threshold_at
from lfw_data import CACHE, LFW, ROOT, read_pairs

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


TEMPLATE_CODE = ("engine.py", "choose.py", "gate.py", "image.py", "quality.py", "pose.py", "types.py",
                 "detect", "embed", "align", "models")  # fmt: skip


def code_hash(pack: str) -> str:
    """What decides a 1:1 template: the code of these modules and the pack's name (thresholds
    are not part of a template: compare applies the current ones to the cached templates)."""
    h = hashlib.sha1(pack.encode(), usedforsecurity=False)
    for name in TEMPLATE_CODE:
        p = ROOT / "faceprint" / name
        for f in sorted(p.rglob("*.py")) if p.is_dir() else [p]:
            h.update(f.read_bytes())
    return h.hexdigest()[:10]


class MemoEngine(FaceEngine):
    """The product's engine; ``template`` of the same path is computed once (and kept on disk)."""

    def __init__(self, pack: str) -> None:
        super().__init__(pack)
        self.path = CACHE / f"lfw_product_{pack}_{code_hash(pack)}.npz"
        self.memo: dict[str, tuple[np.ndarray | None, int]] = {}
        if self.path.exists():
            z = np.load(self.path, allow_pickle=False)
            for p, e, n in zip(z["paths"], z["emb"], z["faces"], strict=True):
                self.memo[str(p)] = (e if n > 0 else None, int(n))

    def template(self, image: ImageInput, *, one_to_one: bool = True, face: FaceChoice = PRIMARY) -> tuple[Face, int]:
        key = str(image)
        if key not in self.memo:
            try:
                f, n = super().template(image, one_to_one=one_to_one, face=face)
                self.memo[key] = (f.embedding, n)
            except NoFaceFound:
                self.memo[key] = (None, 0)
        emb, n = self.memo[key]
        if emb is None:
            raise NoFaceFound("no face found in the image")
        return Face(bbox=np.zeros(4, np.float32), score=1.0, kps=np.zeros((5, 2), np.float32), embedding=emb), n

    def spot_check(self, n: int = 10) -> int:
        """Recompute ``n`` cached templates with the product's code: the cache must be what it would give."""
        keys = sorted(p for p in self.memo if self.memo[p][0] is not None)[:: max(1, len(self.memo) // n)][:n]
        for key in keys:
            fresh, _ = super().template(key)
            cached = self.memo[key][0]
            assert fresh.embedding is not None and cached is not None
            if float(fresh.embedding @ cached) < 0.9999:
                raise SystemExit(f"stale cache {self.path}: {key} differs; delete it")
        return len(keys)

    def save(self) -> None:
        paths = sorted(self.memo)
        dim = self.dim
        emb = np.stack([self.memo[p][0] if self.memo[p][0] is not None else np.zeros(dim, np.float32) for p in paths])
        np.savez(self.path, paths=np.array(paths), emb=emb, faces=np.array([self.memo[p][1] for p in paths]))


def product_path(pack: str) -> dict:
    engine = MemoEngine(pack)
    checked = engine.spot_check() if engine.memo else 0
    pairs = read_pairs()
    scores = np.full(len(pairs), -2.0)
    valid = np.zeros(len(pairs), bool)
    matched = {k: np.zeros(len(pairs), bool) for k in FAR_LEVELS}
    t0 = time.perf_counter()
    for i, (a, b, _, _) in enumerate(pairs):
        try:
            v = engine.compare(LFW / "images" / a, LFW / "images" / b)
        except NoFaceFound:
            continue  # counted as an error below, never skipped
        scores[i], valid[i] = v.similarity, True
        for k in FAR_LEVELS:
            matched[k][i] = v.match(k)
        if i % 500 == 499:
            engine.save()
            print(f"{i + 1}/{len(pairs)} pairs, {time.perf_counter() - t0:.0f} s", flush=True)
    engine.save()
    same = np.array([p[2] for p in pairs])
    folds = np.array([p[3] for p in pairs])
    accs = ten_fold(scores, same, valid, folds)
    out: dict = {
        "protocol": "FaceEngine.compare(path_a, path_b) on each official pair: primary-face rule, 1:1 templates",
        "pairs": len(pairs),
        "pairs_with_missed_face": int((~valid).sum()),
        "cached_templates_rechecked": checked,
        "accuracy_mean": round(100 * float(np.mean(accs)), 3),
        "accuracy_std": round(100 * float(np.std(accs)), 3),
        "tar_at_calibrated": {k: round(100 * float((matched[k] & same).sum() / same.sum()), 3) for k in FAR_LEVELS},
        "far_on_listed_pairs": {k: round(100 * float((matched[k] & ~same).sum() / (~same).sum()), 3) for k in FAR_LEVELS},
    }
    keys = sorted(p for p in engine.memo if engine.memo[p][0] is not None)
    x = np.stack([engine.memo[p][0] for p in keys])  # type: ignore[misc]
    out["all_vs_all"] = all_vs_all(x, np.array([Path(p).parent.name for p in keys]))
    out["all_vs_all"]["images"] = len(keys)
    return out


def all_vs_all(x: np.ndarray, labels: np.ndarray) -> dict:
    n_imp, n_gen, top, gen = pair_scores(x, labels, keep_top=int(2e-3 * len(x) ** 2 / 2) + 10)
    out: dict = {"impostor_pairs": n_imp, "genuine_pairs": n_gen}
    for name in ("1e-3", "1e-4"):
        thr = threshold_at(top, n_imp, float(name))
        out[f"tar_at_far_{name}"] = round(float((gen >= thr).mean()) * 100, 3)
    return out


def centre_face(pack: str) -> dict:
    from lfw_faces import lfw_faces
    from primary_face import RULES, lfw_accuracy

    data = lfw_faces(pack, limit=7701)
    acc = lfw_accuracy(data, RULES["nearest the centre (lfw_data protocol)"])
    return {"protocol": "the detected face nearest the image centre (LFW's labelling convention), flip-fused", **acc}


def main(packs: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    results = {p: {"product_path": product_path(p), "centre_face": centre_face(p), "published_accuracy": PUBLISHED.get(p)} for p in packs}
    t = Table(title="LFW View-2, official 10-fold protocol (missed faces count as errors)")
    for col in ("pack", "protocol", "10-fold accuracy", "pairs w/ miss", "TAR@calibrated 1e-3/1e-4/1e-5", "all-vs-all TAR@FAR 1e-3/1e-4"):
        t.add_column(col, justify="right")
    for pack, r in results.items():
        p, c = r["product_path"], r["centre_face"]
        tar = "/".join(f"{p['tar_at_calibrated'][k]:.2f}" for k in FAR_LEVELS) + "%"
        ava = f"{p['all_vs_all']['tar_at_far_1e-3']:.2f}/{p['all_vs_all']['tar_at_far_1e-4']:.2f}%"
        t.add_row(pack, "1. product path: FaceEngine.compare", f"{p['accuracy_mean']:.2f} ± {p['accuracy_std']:.2f}%",
                  str(p["pairs_with_missed_face"]), tar, ava)  # fmt: skip
        t.add_row(pack, "2. centre face (lfw_data protocol)", f"{c['accuracy_mean']:.2f} ± {c['accuracy_std']:.2f}%", "", "", "")
    Console(width=160).print(t)
    res_dir = ROOT / "bench" / "results"
    res_dir.mkdir(parents=True, exist_ok=True)
    path = res_dir / "lfw.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["arcface-s"])
