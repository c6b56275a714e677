"""The in-process index seam of the FAISS backend: add, remove, search, to_bytes/load_bytes, and its builders.

Each spec kind (:mod:`faceprint.index.specs`) is built by a builder registered under that kind;
the built-in builders live in their own modules (``flat``, ``ivfpq``) and are imported on first
use. FAISS types never leave this package: results come back as :class:`~faceprint.index.types.Hits`.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ...errors import InvalidIndexSpec
from ...registry import Registry
from ..specs import IndexSpec, parse_spec
from ..types import Hits, SearchParams

if TYPE_CHECKING:
    from ...gallery.store.base import VectorSource


class VectorIndex(ABC):
    """An index over L2-normalised float32 vectors; the score is the inner product (cosine)."""

    spec: str
    dim: int
    nlist: int = 0  # inverted lists (0: not an IVF index)
    persistent: bool = True  # False: the store is its storage, nothing is written beside it
    min_train: int = 0  # vectors needed before it can be trained

    @property
    @abstractmethod
    def ntotal(self) -> int: ...

    @property
    def is_trained(self) -> bool:
        return True

    def train(self, vectors: np.ndarray) -> None:  # noqa: B027 - an optional hook
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


Builder = Callable[[IndexSpec, int, "VectorSource | None"], VectorIndex]
BUILDERS: Registry[Builder] = Registry(
    "index spec kind", InvalidIndexSpec, builtin={"Flat": "faceprint.index.faiss.flat", "IVFPQ": "faceprint.index.faiss.ivfpq"},
    hint="the faiss backend builds Flat and IVF{n}[_HNSW{M}],PQ{m}x4fs[,Refine]",
)  # fmt: skip


def make_index(spec: str, dim: int, source: VectorSource | None = None) -> VectorIndex:
    """A new, empty index of ``spec`` (``auto`` resolved first) over ``dim``-D vectors."""
    parsed = parse_spec(spec)
    return BUILDERS.get(parsed.kind, shown=spec)(parsed.check_dim(dim), dim, source)


_MAX_THREADS = os.cpu_count() or 1


def set_threads(nq: int) -> None:
    """One thread for a single query (measured faster here), every core for a batch."""
    import faiss

    faiss.omp_set_num_threads(1 if nq <= 1 else _MAX_THREADS)
