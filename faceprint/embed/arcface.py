"""ArcFace-style embedders on onnxruntime: align to the 112x112 template, one batched call."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..align import align_crop
from ..models.onnx import make_session
from ..types import Face
from .base import Embedder, l2_normalize


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
        max_batch: int = 32,
    ) -> None:
        self.session = make_session(model, threads)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.size = int(inp.shape[2]) if isinstance(inp.shape[2], int) else 112
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.name = name
        self.mean, self.std, self.rgb = mean, std, rgb
        self.max_batch = max_batch

    def crops(self, items: Sequence[tuple[np.ndarray, Face]]) -> np.ndarray:
        return np.stack([align_crop(img, face.kps, self.size) for img, face in items])

    def embed_crops(self, crops: np.ndarray) -> np.ndarray:
        """(N, size, size, 3) BGR uint8 aligned crops -> (N, dim) unit vectors."""
        out = np.empty((len(crops), self.dim), dtype=np.float32)
        for start in range(0, len(crops), self.max_batch):
            chunk = crops[start : start + self.max_batch]
            x = chunk[..., ::-1] if self.rgb else chunk
            blob = ((x.astype(np.float32) - self.mean) / self.std).transpose(0, 3, 1, 2)
            out[start : start + len(chunk)] = self.session.run(None, {self.input_name: np.ascontiguousarray(blob)})[0]
        return l2_normalize(out)

    def embed(self, items: Sequence[tuple[np.ndarray, Face]]) -> np.ndarray:
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.embed_crops(self.crops(items))
