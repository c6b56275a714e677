"""``Flat``: exact inner-product search over every vector, held in one contiguous float32 block.

Removal moves the last row into the hole and zeroes the old last row, so the block stays dense and
no removed vector lingers in it. Nothing is written to disk: the store is this index's storage, and
loading it is reading the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import faiss
import numpy as np

from ..specs import IndexSpec
from ..types import Hits, SearchParams, as_queries
from .base import BUILDERS, VectorIndex, set_threads

if TYPE_CHECKING:
    from ...gallery.store.base import VectorSource


class FlatIndex(VectorIndex):
    persistent = False

    def __init__(self, dim: int) -> None:
        self.spec = "Flat"
        self.dim = dim
        self._vecs = np.zeros((0, dim), dtype=np.float32)
        self._ids = np.zeros(0, dtype=np.int64)
        self._n = 0
        self._row: dict[int, int] = {}

    @property
    def ntotal(self) -> int:
        return self._n

    def _reserve(self, n: int) -> None:
        if n <= self._vecs.shape[0]:
            return
        cap = max(n, 2 * self._vecs.shape[0], 1024)
        vecs = np.zeros((cap, self.dim), dtype=np.float32)
        ids = np.zeros(cap, dtype=np.int64)
        vecs[: self._n] = self._vecs[: self._n]
        ids[: self._n] = self._ids[: self._n]
        self._vecs, self._ids = vecs, ids

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        keep = np.fromiter((int(i) not in self._row for i in ids), dtype=bool, count=len(ids))
        ids, vectors = ids[keep], vectors[keep]
        self._reserve(self._n + len(ids))
        end = self._n + len(ids)
        self._vecs[self._n : end] = vectors
        self._ids[self._n : end] = ids
        self._row.update(zip(ids.tolist(), range(self._n, end), strict=True))
        self._n = end

    def remove(self, ids: np.ndarray) -> int:
        gone = 0
        for label in np.asarray(ids, dtype=np.int64).tolist():
            row = self._row.pop(label, None)
            if row is None:
                continue
            last = self._n - 1
            if row != last:
                self._vecs[row] = self._vecs[last]
                self._ids[row] = self._ids[last]
                self._row[int(self._ids[row])] = row
            self._vecs[last] = 0.0
            self._n = last
            gone += 1
        return gone

    def search(self, queries: np.ndarray, k: int, params: SearchParams | None = None) -> list[Hits]:
        q = as_queries(queries, self.dim)
        k = min(k, self._n)
        if k <= 0:
            return [Hits.empty() for _ in range(len(q))]
        set_threads(len(q))
        scores, rows = faiss.knn(q, self._vecs[: self._n], k, metric=faiss.METRIC_INNER_PRODUCT)
        return [Hits(self._ids[r[r >= 0]], s[r >= 0]) for s, r in zip(scores, rows, strict=True)]

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(labels, vectors) as views: for exact baselines and tests."""
        return self._ids[: self._n], self._vecs[: self._n]

    def to_bytes(self) -> bytes:
        raise NotImplementedError("Flat is not written to disk: it loads from the store")

    def load_bytes(self, data: bytes) -> None:
        raise NotImplementedError("Flat is not written to disk: it loads from the store")

    def empty_clone(self) -> FlatIndex:
        return FlatIndex(self.dim)


def _flat(spec: IndexSpec, dim: int, source: VectorSource | None) -> VectorIndex:
    return FlatIndex(dim)


BUILDERS.register("Flat", _flat)
