"""Helpers shared by the video tests: the reference gallery and bad-input files made on the fly."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faceprint.engine import FaceEngine

STILLS = {"lin-manuel-miranda.png": "Lin-Manuel Miranda", "alex-lacamoire.png": "Alex Lacamoire", "obama.jpg": "Barack Obama"}


def distractor_images(lfw: Path, n: int) -> list[Path]:
    """The first image of ``n`` LFW people spread over the alphabet (every 5th person)."""
    people = sorted(p for p in (lfw / "images").iterdir() if p.is_dir())[::5]
    return [min(p.glob("*.jpg")) for p in people[:n]]


def embed_distractors(engine: FaceEngine, paths: list[Path], batch: int = 32) -> tuple[list[str], np.ndarray]:
    """Subject names and templates of the face nearest each image's centre (LFW's convention)."""
    names, vecs = [], []
    for start in range(0, len(paths), batch):
        chunk = paths[start : start + batch]
        imgs = [engine.load(p) for p in chunk]
        picked = []
        for p, img, faces in zip(chunk, imgs, engine.detect_batch(imgs)):
            if not faces:
                continue
            c = np.array([img.shape[1] / 2, img.shape[0] / 2])
            picked.append((p, img, min(faces, key=lambda f: float(np.linalg.norm((f.bbox[:2] + f.bbox[2:]) / 2 - c)))))
        embedded = engine.embed_faces([im for _, im, _ in picked], [[f] for _, _, f in picked])
        for (p, _, _), (face,) in zip(picked, embedded):
            names.append(p.parent.name)
            vecs.append(face.embedding)
    return names, np.stack(vecs).astype(np.float32)
