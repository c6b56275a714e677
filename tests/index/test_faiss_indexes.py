"""The FAISS backend's in-process indexes: one suite run over every spec kind, plus what is particular to each."""

import numpy as np
import pytest

from faceprint.errors import InvalidIndexSpec
from faceprint.gallery.store.base import VectorSource
from faceprint.index import SearchParams
from faceprint.index.faiss.base import make_index
from gallery_support import unit

DIM = 64
SPECS = ["Flat", "IVF16,PQ16x4fs,Refine", "IVF16_HNSW8,PQ8x4fs,Refine"]


class Memory(VectorSource):
    def __init__(self):
        self.rows = {}

    def fetch(self, ids):
        ids = np.array([i for i in ids if int(i) in self.rows], dtype=np.int64)
        return ids, np.array([self.rows[int(i)] for i in ids], dtype=np.float32).reshape(len(ids), DIM)


def built(spec, n=1200, seed=0):
    src = Memory()
    x = unit(np.random.default_rng(seed), n, DIM)
    ids = np.arange(n, dtype=np.int64) * 7 + 3  # labels are not row numbers
    src.rows.update(zip(ids.tolist(), x, strict=True))
    index = make_index(spec, DIM, src)
    if not index.is_trained:
        index.train(x)
    index.add(ids, x)
    return index, ids, x, src


@pytest.mark.parametrize("spec", SPECS)
def test_finds_itself_with_exact_scores(spec):
    index, ids, x, _ = built(spec)
    assert index.ntotal == len(ids)
    hits = index.search(x[:50], 5, SearchParams(nprobe=16))
    assert [h.ids[0] for h in hits] == ids[:50].tolist()
    for h, q in zip(hits, x[:50], strict=True):
        assert len(h) == 5 and np.all(np.diff(h.scores) <= 1e-6)
        exact = {int(i): float(x[(int(i) - 3) // 7] @ q) for i in h.ids}
        np.testing.assert_allclose(h.scores, [exact[int(i)] for i in h.ids], atol=1e-5)  # re-ranked: exact cosines


@pytest.mark.parametrize("spec", SPECS)
def test_removed_vectors_are_never_returned(spec):
    index, ids, x, src = built(spec)
    gone = ids[:100]
    assert index.remove(gone) == 100 and index.remove(gone) == 0
    assert index.ntotal == len(ids) - 100
    for i in gone.tolist():
        src.rows.pop(i)
    hits = index.search(x[:100], 10, SearchParams(nprobe=16))
    assert not set(np.concatenate([h.ids for h in hits]).tolist()) & set(gone.tolist())
    index.add(ids[:1], x[:1])  # a label can come back
    src.rows[int(ids[0])] = x[0]
    assert index.search(x[:1], 1, SearchParams(nprobe=16))[0].ids[0] == ids[0]


@pytest.mark.parametrize("spec", SPECS)
def test_empty_and_oversized_k(spec):
    index = make_index(spec, DIM, Memory())
    q = unit(np.random.default_rng(3), 2, DIM)
    assert [len(h) for h in index.search(q, 5)] == [0, 0]
    small, _, x, _ = built(spec, n=1200)
    h = small.search(x[0], 2000, SearchParams(nprobe=16, refine_factor=1, min_refine=1))[0]
    assert 0 < len(h) <= 1200 and np.all(h.ids >= 0)
    with pytest.raises(InvalidIndexSpec):
        small.search(np.ones((1, DIM + 1), np.float32), 1)


@pytest.mark.parametrize("spec", SPECS)
def test_additions_after_a_removal_are_all_found(spec):
    index, ids, x, src = built(spec, n=1500)
    index.remove(ids[::3])
    new = unit(np.random.default_rng(9), 400, DIM)
    labels = np.arange(400, dtype=np.int64) + 100_000
    src.rows.update(zip(labels.tolist(), new, strict=True))
    index.add(labels, new)
    assert index.ntotal == 1500 - 500 + 400
    hits = index.search(np.concatenate([new, x[1::3]]), 1, SearchParams(nprobe=16))
    assert [h.ids[0] for h in hits] == labels.tolist() + ids[1::3].tolist()


def test_ivf_round_trips_through_bytes():
    index, _, x, src = built("IVF16,PQ16x4fs,Refine")
    twin = make_index(index.spec, DIM, src)
    twin.load_bytes(index.to_bytes())
    a = index.search(x[:20], 3, SearchParams(nprobe=4))
    b = twin.search(x[:20], 3, SearchParams(nprobe=4))
    assert all(np.array_equal(p.ids, q.ids) for p, q in zip(a, b, strict=True))
    clone = index.empty_clone()
    assert clone.is_trained and clone.ntotal == 0


def test_flat_removal_leaves_no_copy_in_its_block():
    index, ids, x, _ = built("Flat", n=10)
    index.remove(ids[[3, 9]])
    _, vecs = index.vectors()
    block = index._vecs.tobytes()
    assert x[3].tobytes() not in block and x[9].tobytes() not in block and len(vecs) == 8


def test_specs_are_checked():
    for bad in ("HNSW32", "IVF16,PQ7x4fs", "Flat,Refine", "flat"):
        with pytest.raises(InvalidIndexSpec):
            make_index(bad, DIM)
    with pytest.raises(InvalidIndexSpec):
        make_index("IVF64,PQ16x4fs", DIM).train(unit(np.random.default_rng(0), 10, DIM))
