"""Exact re-ranking of approximate candidates from the store's float32 vectors (``,Refine`` specs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .types import Hits

if TYPE_CHECKING:
    from ..gallery.store.base import VectorSource


def rerank(source: VectorSource, q: np.ndarray, cands: list[Hits], k: int) -> list[Hits]:
    """Exact cosines from the store's float32 vectors for each query's candidates; best ``k`` kept."""
    want = np.unique(np.concatenate([h.ids for h in cands])) if cands else np.zeros(0, np.int64)
    ids, vecs = source.fetch(want) if len(want) else (want, np.zeros((0, q.shape[1]), np.float32))
    row = {int(i): r for r, i in enumerate(ids)}
    out = []
    for qi, h in enumerate(cands):
        rows = np.fromiter((row.get(int(i), -1) for i in h.ids), np.int64, len(h))
        rows = rows[rows >= 0]
        exact = vecs[rows] @ q[qi] if len(rows) else np.zeros(0, np.float32)
        top = np.argsort(-exact, kind="stable")[:k]
        out.append(Hits(ids[rows[top]].astype(np.int64), exact[top].astype(np.float32)))
    return out
