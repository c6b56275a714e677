"""``IVF{n}[_HNSW{M}],PQ{m}x4fs[,Refine]``: inverted lists of 4-bit fast-scan PQ codes.

The codes take ``m/2`` bytes a face (32 B at 512-D with m=64), so ten million faces fit in a few
hundred MB. With ``Refine`` the top ``k * refine_factor`` candidates are re-ranked exactly from the
float32 vectors, read by label from a :class:`VectorSource` (the store), so scores are exact
cosines and no second copy of the float vectors is kept in memory or beside the index.

Removal rewrites the affected lists without the removed codes, so after the snapshot is
rewritten no code of a removed face is left in it. The coarse centroids and PQ codebooks are
averages over many faces (training needs ``30 * n`` vectors), not any one face's template.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import faiss
import numpy as np

from ...errors import GalleryError, InvalidIndexSpec
from ..rerank import rerank
from ..specs import IndexSpec, ivfpq_spec
from ..types import Hits, SearchParams, as_queries
from .base import BUILDERS, VectorIndex, set_threads

if TYPE_CHECKING:
    from ...gallery.store.base import VectorSource

TRAIN_PER_LIST = 39  # training vectors per inverted list (FAISS asks for 39)
MIN_TRAIN = 1000  # and enough for the 16 centroids of each PQ sub-quantizer
MAX_TRAIN = 400_000


class IVFPQIndex(VectorIndex):
    def __init__(self, dim: int, nlist: int, hnsw: int, m: int, refine: bool, source: VectorSource | None) -> None:
        if dim % m:
            raise InvalidIndexSpec(f"PQ{m} needs the dimension ({dim}) to be a multiple of {m}")
        self.dim, self.nlist, self.hnsw, self.m, self.refine = dim, nlist, hnsw, m, refine
        quant = f"_HNSW{hnsw}" if hnsw else ""
        self.spec = ivfpq_spec(nlist, m, hnsw, refine).text
        self.source = source
        self.min_train = max(nlist * TRAIN_PER_LIST, MIN_TRAIN)
        self._index = faiss.index_factory(dim, f"IVF{nlist}{quant},PQ{m}x4fs", faiss.METRIC_INNER_PRODUCT)
        self.default_nprobe = max(8, min(nlist // 32, 256))

    @property
    def ntotal(self) -> int:
        return int(self._index.ntotal)

    @property
    def is_trained(self) -> bool:
        return bool(self._index.is_trained)

    def train(self, vectors: np.ndarray) -> None:
        x = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(x) < self.nlist:
            raise InvalidIndexSpec(f"{self.spec} needs at least {self.nlist} vectors to train; got {len(x)}")
        ivf = faiss.extract_index_ivf(self._index)
        ivf.cp.niter = 12
        ivf.cp.max_points_per_centroid = TRAIN_PER_LIST * 2
        set_threads(2)
        self._index.train(x)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            set_threads(len(ids))
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> int:
        """Rewrite each inverted list that holds a removed label without it.

        FAISS's own ``remove_ids`` on fast-scan (block-packed) lists leaves them so that later
        additions are lost (faiss-cpu 1.15.1: about half of what is added after a removal is
        never found again), so lists are unpacked, filtered and re-packed here instead.
        """
        gone = np.unique(np.asarray(ids, dtype=np.int64))
        if not len(gone) or not self.ntotal:
            return 0
        ivf = faiss.extract_index_ivf(self._index)
        lists, packer, removed = ivf.invlists, ivf.get_CodePacker(), 0
        if lists is None:
            raise GalleryError(f"{self.spec} index has no inverted lists to remove from")
        for no in range(ivf.nlist):
            n = lists.list_size(no)
            if not n:
                continue
            labels = faiss.rev_swig_ptr(lists.get_ids(no), n).copy()
            keep = ~np.isin(labels, gone, assume_unique=False)
            if keep.all():
                continue
            codes = _unpack(lists, packer, no, n)[keep]
            lists.resize(no, 0)
            if len(codes):
                packed = _pack(packer, codes)
                lists.add_entries(no, len(codes), faiss.swig_ptr(np.ascontiguousarray(labels[keep])), faiss.swig_ptr(packed))
            removed += int(n - keep.sum())
        ivf.ntotal -= removed
        if self._index is not ivf:  # pragma: no cover - a wrapper around the IVF index
            self._index.ntotal = ivf.ntotal
        return removed

    def _set_nprobe(self, nprobe: int) -> None:
        ivf = faiss.extract_index_ivf(self._index)
        ivf.nprobe = nprobe
        if self.hnsw:
            faiss.downcast_index(ivf.quantizer).hnsw.efSearch = max(2 * nprobe, 64)  # type: ignore[attr-defined]

    def search(self, queries: np.ndarray, k: int, params: SearchParams | None = None) -> list[Hits]:
        p = params or SearchParams()
        q = as_queries(queries, self.dim)
        if self.ntotal == 0 or k <= 0:
            return [Hits.empty() for _ in range(len(q))]
        self._set_nprobe(p.nprobe or self.default_nprobe)
        kk = p.candidates(k) if self.refine and self.source is not None else k
        set_threads(len(q))
        scores, labels = self._index.search(q, min(kk, self.ntotal))
        out = [Hits(lab[lab >= 0], sc[lab >= 0]) for sc, lab in zip(scores, labels, strict=True)]
        if kk == k or self.source is None:
            return out
        return rerank(self.source, q, out, k)

    def to_bytes(self) -> bytes:
        return faiss.serialize_index(self._index).tobytes()

    def load_bytes(self, data: bytes) -> None:
        index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        if index.d != self.dim:
            raise InvalidIndexSpec(f"index file holds {index.d}-D vectors; expected {self.dim}")
        self._index = index

    def empty_clone(self) -> IVFPQIndex:
        twin = IVFPQIndex(self.dim, self.nlist, self.hnsw, self.m, self.refine, self.source)
        if self.is_trained:
            twin._index = faiss.clone_index(self._index)
            twin._index.reset()
        return twin


def _unpack(lists: faiss.InvertedLists, packer: faiss.CodePacker, no: int, n: int) -> np.ndarray:
    """The flat PQ codes of inverted list ``no`` (fast-scan keeps them interleaved in blocks)."""
    nb = (n + packer.nvec - 1) // packer.nvec
    blocks = faiss.rev_swig_ptr(lists.get_codes(no), nb * packer.block_size).copy()
    out = np.zeros((nb * packer.nvec, packer.code_size), np.uint8)
    for b in range(nb):
        packer.unpack_all(faiss.swig_ptr(blocks[b * packer.block_size :]), faiss.swig_ptr(out[b * packer.nvec :]))
    return out[:n]


def _pack(packer: faiss.CodePacker, flat: np.ndarray) -> np.ndarray:
    nb = (len(flat) + packer.nvec - 1) // packer.nvec
    padded = np.zeros((nb * packer.nvec, packer.code_size), np.uint8)
    padded[: len(flat)] = flat
    out = np.zeros(nb * packer.block_size, np.uint8)
    for b in range(nb):
        packer.pack_all(faiss.swig_ptr(padded[b * packer.nvec :]), faiss.swig_ptr(out[b * packer.block_size :]))
    return out


def _ivfpq(spec: IndexSpec, dim: int, source: VectorSource | None) -> VectorIndex:
    return IVFPQIndex(dim, spec.nlist, spec.hnsw, spec.m, spec.refine, source)


BUILDERS.register("IVFPQ", _ivfpq)
