"""How the Milvus backend realises each spec, names its collections and sizes its searches (no server needed)."""

from __future__ import annotations

import pytest

from faceprint.errors import InvalidIndexSpec
from faceprint.index import IndexPolicy, SearchParams
from faceprint.index.milvus.client import alias_of, spec_of
from faceprint.index.milvus.plan import MAX_TOPK, candidates, plan_for, search_params, spec_from_code


def test_spec_mapping() -> None:
    assert (plan_for("Flat", 512).index_type, plan_for("Flat", 512).params) == ("FLAT", {})
    p = plan_for("IVF1024,PQ64x4fs,Refine", 512)
    assert (p.index_type, p.params, p.refine, p.nlist, p.code) == ("IVF_PQ", {"nlist": 1024, "m": 64, "nbits": 4}, True, 1024, "ivf1024pq64r")
    q = plan_for("IVF64_HNSW32,PQ16x4fs", 128)
    assert (q.index_type, q.params["nlist"], q.refine, q.code) == ("IVF_PQ", 64, False, "ivf64h32pq16")
    for spec in ("Flat", "IVF1024,PQ64x4fs,Refine", "IVF64_HNSW32,PQ16x4fs"):
        assert spec_from_code(plan_for(spec, 512).code) == spec
    for bad, dim in (("HNSW32", 512), ("IVF0,PQ8x4fs", 512), ("IVF8,PQ7x4fs", 512), ("IVF99999,PQ8x4fs", 512), ("auto", 512)):
        with pytest.raises(InvalidIndexSpec) as exc:
            plan_for(bad, dim)
        assert exc.value.code == "INVALID_INDEX_SPEC"
    ivf = IndexPolicy(exact_limit=1000).choose("auto", 1000, 64, "Flat")
    assert spec_of(alias_of("ab12") + "__ivf16pq8r__00ff00ff") == ivf and spec_of("other__flat__1") is None
    assert spec_from_code("hnsw32") is None


def test_search_knobs_follow_the_policy() -> None:
    ivf, flat = plan_for("IVF64,PQ8x4fs,Refine", 64), plan_for("Flat", 64)
    pol = IndexPolicy(nprobe_fraction=0.5)
    assert search_params(flat, pol) == {} and search_params(ivf, pol) == {"nprobe": 32}
    assert search_params(ivf, IndexPolicy(params=SearchParams(nprobe=1000))) == {"nprobe": 64}  # never more lists than there are
    assert candidates(ivf, pol, 10) == 100 and candidates(ivf, pol, 1) == 64  # the re-rank's pool: k * 10, at least 64
    assert candidates(plan_for("IVF64,PQ8x4fs", 64), pol, 10) == 10 and candidates(ivf, pol, 10_000) == MAX_TOPK
