"""LFW (deep-funneled, 250x250) through the full faceprint pipeline, cached per pack.

Every image is detected on its own 250x250 pixels, aligned and embedded; where several faces
are found, the one nearest the image centre is the labelled person (LFW's own convention).
An image with no face keeps a zero row and ``found=False``: benchmarks count it as an error.

Cache: bench/.cache/lfw_<pack>.npz (delete it to recompute).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faceprint import EngineConfig, FaceEngine  # noqa: E402
from faceprint.align import mirror  # noqa: E402
from faceprint.types import Face  # noqa: E402

DATA = Path(os.environ.get("FACEPRINT_SHARED_DATA", ROOT.parent / "shared" / "data"))
LFW = DATA / "lfw"
CACHE = ROOT / "bench" / ".cache"


@dataclass
class LfwEmbeddings:
    pack: str
    paths: list[str]  # "Name/Name_0001.jpg"
    names: list[str]
    emb: np.ndarray  # (N, D) float32 unit rows; zero where not found
    emb_flip: np.ndarray  # (N, D) template of the mirrored aligned face (= emb for packs in NO_FLIP)
    found: np.ndarray  # (N,) bool
    seconds: float  # wall time spent computing (0 when loaded from cache)

    def index(self) -> dict[str, int]:
        return {p: i for i, p in enumerate(self.paths)}

    def fused(self) -> np.ndarray:
        """Original + mirrored template, renormalised (test-time flip augmentation)."""
        f = self.emb + self.emb_flip
        return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)


def lfw_images() -> list[str]:
    root = LFW / "images"
    return sorted(str(p.relative_to(root)) for p in root.glob("*/*.jpg"))


def _centre_face(faces: list[Face], w: int, h: int) -> Face | None:
    if not faces:
        return None
    c = np.array([w / 2.0, h / 2.0])
    return min(faces, key=lambda f: float(np.linalg.norm((f.bbox[:2] + f.bbox[2:]) / 2.0 - c)))


NO_FLIP = {"dlib"}  # its ResNet costs ~110 ms a face on a CPU: mirrored templates would double an hour's run


def lfw_embeddings(pack: str, *, batch: int = 32, progress: bool = True, shard: tuple[int, int] = (0, 1)) -> LfwEmbeddings:
    """``shard=(i, n)`` computes every n-th image from the i-th into its own file; once all n exist,
    a call without ``shard`` merges them (run slow packs as n processes: ``lfw_data.py dlib --shards 3``)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    i_shard, n_shard = shard
    cache = CACHE / (f"lfw_{pack}.npz" if n_shard == 1 else f"lfw_{pack}.{i_shard}of{n_shard}.npz")
    if n_shard == 1 and not cache.exists():
        _merge_shards(pack, cache)
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        paths = [str(p) for p in z["paths"]]
        return LfwEmbeddings(pack, paths, [p.split("/")[0] for p in paths], z["emb"], z["emb_flip"], z["found"], 0.0)
    engine = FaceEngine(pack, EngineConfig(min_face=0))
    paths = lfw_images()[i_shard::n_shard]
    n, d = len(paths), engine.dim
    emb = np.zeros((n, d), np.float32)
    emb_flip = np.zeros((n, d), np.float32)
    found = np.zeros(n, bool)
    t0 = time.perf_counter()
    from rich.progress import Progress

    with Progress(disable=not progress) as bar:
        task = bar.add_task(f"LFW {pack}", total=n)
        for start in range(0, n, batch):
            chunk = paths[start : start + batch]
            imgs = [engine.load(LFW / "images" / p) for p in chunk]
            dets = engine.detector.detect_batch(imgs)
            picked = [_centre_face(f, im.shape[1], im.shape[0]) for f, im in zip(dets, imgs, strict=True)]
            items = [(i, im, f) for i, (im, f) in enumerate(zip(imgs, picked, strict=True)) if f is not None]
            if items:
                vec = engine.embedder.embed([(im, f) for _, im, f in items])
                vec_f = vec if pack in NO_FLIP else engine.embedder.embed([_mirror(im, f) for _, im, f in items])
                for (i, _, _), v, vf in zip(items, vec, vec_f, strict=True):
                    emb[start + i], emb_flip[start + i], found[start + i] = v, vf, True
            bar.advance(task, len(chunk))
    seconds = time.perf_counter() - t0
    np.savez(cache, paths=np.array(paths), emb=emb, emb_flip=emb_flip, found=found)
    return LfwEmbeddings(pack, paths, [p.split("/")[0] for p in paths], emb, emb_flip, found, seconds)


def _merge_shards(pack: str, target: Path) -> None:
    parts = sorted(CACHE.glob(f"lfw_{pack}.*of*.npz"))
    if not parts or len(parts) != int(parts[0].stem.rsplit("of", 1)[1]):
        return
    zs = [np.load(p, allow_pickle=False) for p in parts]
    paths = np.concatenate([z["paths"] for z in zs])
    order = np.argsort(paths)
    cols = {k: np.concatenate([z[k] for z in zs])[order] for k in ("emb", "emb_flip", "found")}
    np.savez(target, paths=paths[order], **cols)


def _mirror(img: np.ndarray, face: Face) -> tuple[np.ndarray, Face]:
    m_img, kps, bbox = mirror(img, face.kps, face.bbox)
    return m_img, face.with_(kps=kps, bbox=bbox)


def read_pairs() -> list[tuple[str, str, bool, int]]:
    """The official View-2 pairs: (path_a, path_b, same, fold)."""
    lines = (LFW / "pairs.txt").read_text().split("\n")
    folds, per = (int(v) for v in lines[0].split())
    out = []
    for k, line in enumerate(x for x in lines[1:] if x.strip()):
        parts = line.split("\t") if "\t" in line else line.split()
        fold = k // (2 * per)
        if len(parts) == 3:
            a = f"{parts[0]}/{parts[0]}_{int(parts[1]):04d}.jpg"
            b = f"{parts[0]}/{parts[0]}_{int(parts[2]):04d}.jpg"
            out.append((a, b, True, fold))
        else:
            a = f"{parts[0]}/{parts[0]}_{int(parts[1]):04d}.jpg"
            b = f"{parts[2]}/{parts[2]}_{int(parts[3]):04d}.jpg"
            out.append((a, b, False, fold))
    assert len(out) == folds * 2 * per, len(out)
    return out


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Embed all of LFW for each pack (cached in bench/.cache).")
    ap.add_argument("packs", nargs="*", default=["arcface-s"])
    ap.add_argument("--shard", default="0/1", help="i/n: compute every n-th image from the i-th")
    args = ap.parse_args()
    i, n = (int(v) for v in args.shard.split("/"))
    for name in args.packs:
        e = lfw_embeddings(name, shard=(i, n))
        print(f"{name} shard {i}/{n}: {int(e.found.sum())}/{len(e.found)} faces found in {e.seconds:.0f} s")
