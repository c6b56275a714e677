"""Every face the product's detector finds in every LFW image, with raw (pre-normalisation)
templates of the face and its mirror image, cached for the primary-face and non-face studies.

The cache is keyed by the pack and a hash of the detector/embedder/engine source, so a code or
model change recomputes it. Benchmarks that report the product path call ``FaceEngine.compare``
themselves; this cache only feeds rule studies and all-vs-all statistics.

    python bench/lfw_faces.py            -> bench/.cache/lfw_faces_<pack>_<hash>.npz
"""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from faceprint import FaceEngine
from faceprint.align import align_crop, mirror
from lfw_data import CACHE, LFW, ROOT, lfw_images, read_pairs

SOURCES = ("detect", "align", "models/packs.py")  # what decides the faces and their raw templates (_raw runs the model itself)


def code_hash(pack: str) -> str:
    h = hashlib.sha1(pack.encode(), usedforsecurity=False)
    for name in SOURCES:
        p = ROOT / "faceprint" / name
        for f in sorted(p.rglob("*.py")) if p.is_dir() else [p] if p.exists() else []:
            h.update(f.read_bytes())
    return h.hexdigest()[:10]


@dataclass
class LfwFaces:
    paths: list[str]
    owner: np.ndarray  # (F,) image index of each face
    bbox: np.ndarray  # (F, 4)
    score: np.ndarray  # (F,)
    kps: np.ndarray  # (F, 5, 2)
    raw: np.ndarray  # (F, D) embedder output before L2 normalisation
    raw_flip: np.ndarray  # (F, D) the same for the mirrored face

    def faces_of(self, i: int) -> np.ndarray:
        return np.flatnonzero(self.owner == i)


def _raw(engine: FaceEngine, crops: np.ndarray) -> np.ndarray:
    emb = engine.embedder
    x = crops[..., ::-1] if emb.rgb else crops  # type: ignore[attr-defined]
    blob = ((x.astype(np.float32) - emb.mean) / emb.std).transpose(0, 3, 1, 2)  # type: ignore[attr-defined]
    return np.asarray(emb.session.run(None, {emb.input_name: np.ascontiguousarray(blob)})[0])  # type: ignore[attr-defined]


def pair_images_first() -> list[str]:
    seen: dict[str, None] = {}
    for a, b, _, _ in read_pairs():
        seen.setdefault(a)
        seen.setdefault(b)
    for p in lfw_images():
        seen.setdefault(p)
    return list(seen)


CHUNK = 500  # images per cache file: a long run keeps what it has done


def lfw_faces(pack: str = "arcface-s", limit: int | None = None) -> LfwFaces:
    """Every face of the first ``limit`` images (pairs' images first; None: all of LFW)."""
    paths = pair_images_first()[:limit]
    key = code_hash(pack)
    parts = []
    for start in range(0, len(paths), CHUNK):
        path = CACHE / f"lfw_faces_{pack}_{key}_{start:05d}.npz"
        if not path.exists():
            _compute(pack, paths, start, path)
        parts.append(np.load(path, allow_pickle=False))
    cols = {k: np.concatenate([z[k] for z in parts]) for k in ("owner", "bbox", "score", "kps", "raw", "raw_flip")}
    keep = cols["owner"] < len(paths)
    return LfwFaces(paths, *(cols[k][keep] for k in ("owner", "bbox", "score", "kps", "raw", "raw_flip")))


_ENGINES: dict[str, FaceEngine] = {}


def _compute(pack: str, paths: list[str], start: int, path: Path) -> None:
    engine = _ENGINES.setdefault(pack, FaceEngine(pack))
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("owner", "bbox", "score", "kps", "raw", "raw_flip")}
    t0 = time.perf_counter()
    for i in range(start, min(start + CHUNK, len(paths))):
        img = engine.load(LFW / "images" / paths[i])
        faces = engine.detector.detect(img)  # raw detections: no engine-side filter or gate
        if faces:
            crops = np.stack([align_crop(img, f.kps, engine.embedder.size) for f in faces])  # type: ignore[attr-defined]
            mirrored = [mirror(img, f.kps, f.bbox) for f in faces]
            m_crops = np.stack([align_crop(m, k, engine.embedder.size) for m, k, _ in mirrored])  # type: ignore[attr-defined]
            cols["raw"].append(_raw(engine, crops))
            cols["raw_flip"].append(_raw(engine, m_crops))
            cols["owner"].append(np.full(len(faces), i))
            cols["bbox"].append(np.stack([f.bbox for f in faces]))
            cols["score"].append(np.array([f.score for f in faces]))
            cols["kps"].append(np.stack([f.kps for f in faces]))
    np.savez(path, **{k: np.concatenate(v) for k, v in cols.items()})
    print(f"images {start}-{start + CHUNK} of {len(paths)}: {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    f = lfw_faces("arcface-s", int(sys.argv[1]) if len(sys.argv) > 1 else None)
    print(f"{len(f.paths)} images, {len(f.owner)} faces, {len(set(f.owner.tolist()))} images with a face")
