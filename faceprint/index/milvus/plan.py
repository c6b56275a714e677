"""How a gallery's spec becomes a Milvus index, and how hard a search looks.

Specs are the strings every backend reads (:mod:`faceprint.index.specs`); each spec kind has a plan
builder registered here:

=================================  =========================================================
``Flat``                           ``FLAT``: exact inner product over every vector
``IVF{n}[_HNSW{M}],PQ{m}x4fs``     ``IVF_PQ`` with ``nlist=n``, ``m=m``, ``nbits=4`` (``m/2``
                                   bytes a face, as in FAISS); Milvus picks its own coarse
                                   quantizer, so ``_HNSW{M}`` changes nothing here
``...,Refine``                     the same, and the top ``k * refine_factor`` candidates are
                                   re-ranked exactly from the store's float32 vectors, so
                                   scores are exact cosines (Milvus has no refine for IVF_PQ)
``auto``                           resolved by :meth:`~faceprint.index.policy.IndexPolicy.choose`
                                   first, as for every backend
=================================  =========================================================

Search knobs come from :class:`~faceprint.index.policy.IndexPolicy`: ``nprobe`` is
``params.nprobe`` if set, else ``nprobe_fraction`` of the lists.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ...errors import InvalidIndexSpec
from ...registry import Registry
from ..policy import IndexPolicy
from ..specs import IndexSpec, ivfpq_spec, parse_spec

MAX_TOPK = 16384  # Milvus's limit on results (and nprobe's range tops out at 65536)
MAX_LISTS = 65536
_CODE = re.compile(r"ivf(?P<nlist>\d+)(?:h(?P<hnsw>\d+))?pq(?P<m>\d+)(?P<refine>r)?\Z")


@dataclass(frozen=True)
class MilvusPlan:
    """How one gallery's vectors are indexed in Milvus."""

    spec: str  # the faceprint spec it realises (canonical spelling)
    index_type: str  # FLAT or IVF_PQ
    params: dict[str, int] = field(default_factory=dict)
    refine: bool = False
    nlist: int = 0

    @property
    def code(self) -> str:
        """The spec in the characters a collection name allows (``flat``, ``ivf1024pq64r``)."""
        s = parse_spec(self.spec)
        if s.kind != "IVFPQ":
            return "flat"
        hnsw = f"h{s.hnsw}" if s.hnsw else ""
        return f"ivf{s.nlist}{hnsw}pq{s.m}" + ("r" if s.refine else "")


PlanBuilder = Callable[[IndexSpec, int], MilvusPlan]
PLANS: Registry[PlanBuilder] = Registry(
    "index spec kind", InvalidIndexSpec, hint="the Milvus backend realises Flat and IVF{n},PQ{m}x4fs[,Refine]", detail="spec",
)  # fmt: skip


def plan_for(spec: str, dim: int) -> MilvusPlan:
    """The Milvus index for a resolved spec (not ``auto``); InvalidIndexSpec for forms it cannot realise."""
    parsed = parse_spec(spec)
    return PLANS.get(parsed.kind, shown=spec)(parsed.check_dim(dim), dim)


def _flat(spec: IndexSpec, dim: int) -> MilvusPlan:
    return MilvusPlan("Flat", "FLAT")


def _ivfpq(spec: IndexSpec, dim: int) -> MilvusPlan:
    if not 1 <= spec.nlist <= MAX_LISTS:
        raise InvalidIndexSpec(f"Milvus takes 1-{MAX_LISTS} IVF lists; got {spec.nlist}", spec=spec.text)
    return MilvusPlan(spec.text, "IVF_PQ", {"nlist": spec.nlist, "m": spec.m, "nbits": 4}, spec.refine, spec.nlist)


PLANS.register("Flat", _flat)
PLANS.register("IVFPQ", _ivfpq)


def spec_from_code(code: str) -> str | None:
    """Inverse of :attr:`MilvusPlan.code`; None if ``code`` is not one."""
    if code == "flat":
        return "Flat"
    m = _CODE.match(code)
    if m is None:
        return None
    return ivfpq_spec(int(m["nlist"]), int(m["m"]), int(m["hnsw"] or 0), bool(m["refine"])).text


def search_params(plan: MilvusPlan, policy: IndexPolicy) -> dict[str, int]:
    if not plan.nlist:
        return {}
    nprobe = policy.search_params(plan.nlist).nprobe or 1
    return {"nprobe": max(1, min(nprobe, plan.nlist, MAX_LISTS))}


def candidates(plan: MilvusPlan, policy: IndexPolicy, k: int) -> int:
    """How many results to ask Milvus for: ``k``, or the re-rank's candidate pool."""
    return min(policy.params.candidates(k) if plan.refine else k, MAX_TOPK)
