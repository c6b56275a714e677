"""Helpers shared by the gallery tests: a stand-in calibration, synthetic templates, a service."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faceprint.compare import Calibration
from faceprint.gallery import GalleryConfig, GalleryService, IndexPolicy, NewFace, NewFaceSet

# thresholds.json is calibrated elsewhere; these cosine knots are typical of ArcFace-family packs
SIMS = {"1e-3": 0.30, "1e-4": 0.36, "1e-5": 0.42}


def calibration(pack: str) -> Calibration:
    return Calibration(pack=pack, similarity_at_far=dict(SIMS), source="test stand-in")


def unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def batch_vectors(seed: int, batch: int, n: int, dim: int) -> np.ndarray:
    """Deterministic vectors for batch ``batch`` of a run seeded ``seed`` (a child process and its parent agree)."""
    return unit(np.random.default_rng([seed, batch]), n, dim)


def service(data: Path, *, key: bytes | None = None, policy: IndexPolicy | None = None, engine=None) -> GalleryService:
    cfg = GalleryConfig(data_dir=data, key=key, policy=policy or IndexPolicy())
    return GalleryService(cfg, engine=engine, calibrations=calibration)


def synthetic_gallery(svc: GalleryService, name: str, dim: int = 64, spec: str = "auto") -> str:
    return svc.create_for(NewFaceSet(pack="synthetic", dim=dim, outer_id=name, index_spec=spec)).token


def faces(vectors: np.ndarray, subject_prefix: str = "s", start: int = 0) -> list[NewFace]:
    return [NewFace(embedding=v, subject=f"{subject_prefix}{start + i}") for i, v in enumerate(vectors)]


def all_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in all_files(root) if needle in p.read_bytes()]
