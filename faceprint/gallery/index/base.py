"""The vector index seam: add, remove, search, to_bytes/from_bytes, and a registry keyed by spec.

A spec is a FAISS-style factory string that names structure only (``"Flat"``,
``"IVF4096,PQ64x4fs,Refine"``); search-time knobs live apart in :class:`SearchParams`. FAISS types
never leave this package: results come back as :class:`Hits`, one per query, without ``-1``
padding. Labels are the store's integer face ids.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...errors import InvalidIndexSpec
from ..store.base import VectorSource


@dataclass(frozen=True)
class Hits:
    """One query's neighbours, best first: labels and inner-product scores."""

    ids: np.ndarray  # (n,) int64
    scores: np.ndarray  # (n,) float32

    def __len__(self) -> int:
        return int(self.ids.shape[0])


@dataclass(frozen=True)
class SearchParams:
    nprobe: int | None = None  # inverted lists visited; None: the index's own default
    refine_factor: int = 10  # candidates re-ranked exactly per result asked for
    min_refine: int = 64  # ...and never fewer than this


class VectorIndex(ABC):
    """An index over L2-normalised float32 vectors; the score is the inner product (cosine)."""

    spec: str
    dim: int
    persistent: bool = True  # False: the store is its storage, nothing is written beside it
    min_train: int = 0  # vectors needed before it can be trained

    @property
    @abstractmethod
    def ntotal(self) -> int: ...

    @property
    def is_trained(self) -> bool:
        return True

    def train(self, vectors: np.ndarray) -> None:
        """Learn the structure from a sample; only indexes with ``min_train > 0`` need it."""

    @abstractmethod
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    @abstractmethod
    def remove(self, ids: np.ndarray) -> int:
        """Remove labels; unknown labels are ignored. Returns how many went."""

    @abstractmethod
    def search(self, queries: np.ndarray, k: int, params: SearchParams | None = None) -> list[Hits]: ...

    @abstractmethod
    def to_bytes(self) -> bytes: ...

    @abstractmethod
    def load_bytes(self, data: bytes) -> None: ...

    def empty_clone(self) -> VectorIndex:
        """A new index with the same trained structure and no vectors."""
        raise NotImplementedError


Factory = Callable[[re.Match[str], int, VectorSource | None], VectorIndex]
_REGISTRY: list[tuple[re.Pattern[str], Factory, str]] = []


def register_index(pattern: str, factory: Factory, example: str) -> None:
    _REGISTRY.append((re.compile(pattern + r"\Z"), factory, example))


def make_index(spec: str, dim: int, source: VectorSource | None = None) -> VectorIndex:
    from . import flat, ivfpq  # noqa: F401  (register the built-in backends)

    for pattern, factory, _ in _REGISTRY:
        m = pattern.match(spec)
        if m:
            return factory(m, dim, source)
    known = ", ".join(ex for _, _, ex in _REGISTRY)
    raise InvalidIndexSpec(f"unknown index spec {spec!r}; known forms: auto, {known}", spec=spec)


def check_spec(spec: str, dim: int) -> str:
    if spec != "auto":
        make_index(spec, dim, None)
    return spec


def as_queries(queries: np.ndarray, dim: int) -> np.ndarray:
    q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
    if q.shape[1] != dim:
        raise InvalidIndexSpec(f"queries have {q.shape[1]} dimensions; the index holds {dim}")
    return q


_MAX_THREADS = os.cpu_count() or 1


def set_threads(nq: int) -> None:
    """One thread for a single query (measured faster here), every core for a batch."""
    import faiss

    faiss.omp_set_num_threads(1 if nq <= 1 else _MAX_THREADS)
