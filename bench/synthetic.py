"""Synthetic ArcFace-like templates for search benchmarks, generated in chunks from a seed.

The model, written down:

- Each identity ``i`` has a centre ``c_i``: a standard normal vector in D dimensions, normalised,
  so centres are uniform on the unit sphere and two centres have cosine ~ N(0, 1/D) (about 0.0).
- A sample of identity ``i`` is ``x = a*c_i + sqrt(1 - a^2)*u`` normalised, where ``u`` is another
  uniform unit vector and ``a = sqrt(rho)``, ``rho ~ N(0.55, 0.08)`` clipped to [0.2, 0.9], drawn
  per sample (a per-image "quality"). Two samples of one person then have cosine ``a1*a2``: about
  0.55 on average, 0.4-0.7 typically; samples of different people have cosine about 0.0 (sd 0.044
  at 512-D). That matches ArcFace-family statistics on LFW (genuine ~0.5-0.6, impostor ~0.0).
- The gallery holds one sample of each of ``n`` identities; face label ``i`` is identity ``i``.
  Probes are fresh samples of gallery identities (mated searches).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

BLOCK = 1000  # identity centres are drawn in blocks of this many, each block from its own seed


@dataclass(frozen=True)
class Synthetic:
    n: int
    dim: int = 512
    seed: int = 0
    mated_mean: float = 0.55
    mated_sd: float = 0.08

    def centres(self, block: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 0, block])
        c = rng.standard_normal((BLOCK, self.dim), dtype=np.float32)
        return c / np.linalg.norm(c, axis=1, keepdims=True)

    def _sample(self, centres: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        rho = np.clip(rng.normal(self.mated_mean, self.mated_sd, len(centres)), 0.2, 0.9).astype(np.float32)
        u = rng.standard_normal(centres.shape, dtype=np.float32)
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        x = np.sqrt(rho)[:, None] * centres + np.sqrt(1 - rho)[:, None] * u
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    def gallery(self, chunk: int = 100 * BLOCK) -> Iterator[tuple[int, np.ndarray]]:
        """(first label, vectors) chunks covering labels 0..n-1."""
        for start in range(0, self.n, chunk):
            stop = min(start + chunk, self.n)
            blocks = range(start // BLOCK, (stop - 1) // BLOCK + 1)
            c = np.concatenate([self.centres(b) for b in blocks])[start - blocks[0] * BLOCK : stop - blocks[0] * BLOCK]
            yield start, self._sample(c, np.random.default_rng([self.seed, 1, start]))

    def probes(self, nq: int) -> tuple[np.ndarray, np.ndarray]:
        """(identities, probe vectors): fresh samples of ``nq`` distinct gallery identities."""
        rng = np.random.default_rng([self.seed, 2])
        ids = np.sort(rng.choice(self.n, size=nq, replace=False))
        cache: dict[int, np.ndarray] = {}
        c = np.stack([(cache.setdefault(int(i) // BLOCK, self.centres(int(i) // BLOCK)))[int(i) % BLOCK] for i in ids])
        return ids.astype(np.int64), self._sample(c, rng)
