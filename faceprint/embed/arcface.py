"""ArcFace-style embedders on onnxruntime: align to the 112x112 template, small batched calls.

Speed notes, measured on a 2-core EPYC (w600k_mbf): one face costs about 11.4 ms on one core
in batches of 1-3, 12.0 ms in batches of 4 and 14 ms in a batch of 24, because a big batch's
activations spill out of the 2 MB L2 cache. So faces go in chunks of ``max_batch`` (2), one
call after another. Running the chunks side by side on single-threaded sessions, one per core,
was tried and dropped: on the shared bench machine it got 0.35-0.89x the throughput of
chunks split op by op across the cores, for the same CPU time.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..align import align_crop, align_mirrored
from ..models.onnx import make_session
from ..types import Face
from .base import Embedder, l2_normalize

ALIGNED = 112  # the side of the crop quality is measured on; an embedder of this input size takes it as it is


class ArcFaceONNX(Embedder):
    """Any 112x112 ArcFace-template recogniser. ``mean``/``std`` normalise the RGB input."""

    def __init__(
        self,
        model: Path | bytes,
        *,
        name: str,
        mean: float = 127.5,
        std: float = 127.5,
        rgb: bool = True,
        threads: int | None = None,
        max_batch: int = 2,
    ) -> None:
        self.session = make_session(model, threads)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.size = int(inp.shape[2]) if isinstance(inp.shape[2], int) else 112
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.name = name
        self.mean, self.std, self.rgb = mean, std, rgb
        self.max_batch = max_batch

    def crops(self, items: Sequence[tuple[np.ndarray, Face]], ready: Sequence[np.ndarray | None] = ()) -> np.ndarray:
        """The aligned crop of each face: ``ready[i]`` where given (a 112x112 crop warped for quality)."""
        have = list(ready) if self.size == ALIGNED else []
        have += [None] * (len(items) - len(have))
        return np.stack([align_crop(img, face.kps, self.size) if c is None else c for (img, face), c in zip(items, have, strict=True)])

    def embed_crops(self, crops: np.ndarray) -> np.ndarray:
        """(N, size, size, 3) BGR uint8 aligned crops -> (N, dim) unit vectors."""
        return l2_normalize(self.raw_crops(crops))

    def gate_features(self, items: Sequence[tuple[np.ndarray, Face]], crops: Sequence[np.ndarray | None] = ()) -> tuple[np.ndarray, np.ndarray]:
        """What the non-face gate reads, per face: the network's feature norm before normalisation
        (it tracks how face-like and how good the crop is, as MagFace shows), and the crop's
        template, so that a kept face is not embedded again."""
        if not items:
            return np.zeros(0, np.float32), np.zeros((0, self.dim), np.float32)
        raw = self.raw_crops(self.crops(items, crops))
        return np.linalg.norm(raw, axis=1), l2_normalize(raw)

    def mirror_norms(self, items: Sequence[tuple[np.ndarray, Face]]) -> np.ndarray:
        """The feature norm of each face's mirror image (the gate reads the smaller of the two)."""
        if not items:
            return np.zeros(0, np.float32)
        norms: np.ndarray = np.linalg.norm(self.raw_crops(self.mirrored_crops(items)), axis=1)
        return norms

    def mirrored_crops(self, items: Sequence[tuple[np.ndarray, Face]]) -> np.ndarray:
        return np.stack([align_mirrored(img, face.kps, self.size) for img, face in items])

    def raw_crops(self, crops: np.ndarray) -> np.ndarray:
        """(N, size, size, 3) BGR uint8 aligned crops -> (N, dim) features as the network gives them."""
        n = len(crops)
        out = np.empty((n, self.dim), dtype=np.float32)
        chunks = -(-n // self.max_batch)
        bounds = [round(i * n / chunks) for i in range(chunks + 1)] if n else [0]
        for start, stop in itertools.pairwise(bounds):  # balanced: 5 faces -> 3 + 2, not 4 + 1
            x = crops[start:stop, ..., ::-1] if self.rgb else crops[start:stop]
            blob = ((x.astype(np.float32) - self.mean) / self.std).transpose(0, 3, 1, 2)
            out[start:stop] = self.session.run(None, {self.input_name: np.ascontiguousarray(blob)})[0]
        return out

    def embed(self, items: Sequence[tuple[np.ndarray, Face]]) -> np.ndarray:
        return self.embed_aligned(items, ())

    def embed_aligned(self, items: Sequence[tuple[np.ndarray, Face]], crops: Sequence[np.ndarray | None]) -> np.ndarray:
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.embed_crops(self.crops(items, crops))

    def embed_mirrored(self, items: Sequence[tuple[np.ndarray, Face]]) -> np.ndarray:
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.embed_crops(self.mirrored_crops(items))
