"""What every index backend hands back and is tuned by: :class:`Hits` and :class:`SearchParams`.

Results come back as one :class:`Hits` per query, best first, without FAISS's ``-1`` padding or
Milvus's result objects. Labels are the store's integer face ids; scores are inner products of
L2-normalised templates (cosines).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidIndexSpec


@dataclass(frozen=True)
class Hits:
    """One query's neighbours, best first: labels and inner-product scores."""

    ids: np.ndarray  # (n,) int64
    scores: np.ndarray  # (n,) float32

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @staticmethod
    def empty() -> Hits:
        return Hits(np.zeros(0, np.int64), np.zeros(0, np.float32))


@dataclass(frozen=True)
class SearchParams:
    """Search-time knobs, kept apart from the structure a spec names."""

    nprobe: int | None = None  # inverted lists visited; None: the index's own default
    refine_factor: int = 10  # candidates re-ranked exactly per result asked for
    min_refine: int = 64  # ...and never fewer than this

    def candidates(self, k: int) -> int:
        """How many approximate results an exact re-rank to the best ``k`` starts from."""
        return max(k * self.refine_factor, self.min_refine)


def as_queries(queries: np.ndarray, dim: int) -> np.ndarray:
    """Queries as a contiguous (n, dim) float32 block; INVALID_INDEX_SPEC for the wrong dimension."""
    q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
    if q.shape[1] != dim:
        raise InvalidIndexSpec(f"queries have {q.shape[1]} dimensions; the index holds {dim}")
    return q
