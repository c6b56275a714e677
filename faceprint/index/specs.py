"""Index specs: the FAISS-style strings that name a gallery index's structure, read once for every backend.

A spec names structure only (``"Flat"``, ``"IVF4096,PQ64x4fs,Refine"``); search-time knobs live
apart in :class:`~faceprint.index.types.SearchParams`. :func:`parse_spec` turns a spec into an
:class:`IndexSpec` whose ``kind`` each backend looks up in its own registry (the FAISS builders,
the Milvus plans). ``auto`` is not a structure: the :class:`~faceprint.index.policy.IndexPolicy`
resolves it to one of these by the gallery's size.

=================================  ===========================================================
``Flat``                           exact inner product over every vector
``IVF{n}[_HNSW{M}],PQ{m}x4fs``     ``n`` inverted lists (an HNSW coarse quantizer with ``M``
                                   links, in FAISS), 4-bit PQ codes of ``m`` sub-vectors
``...,Refine``                     the same, the top ``k * refine_factor`` candidates re-ranked
                                   exactly from the store's float32 vectors
=================================  ===========================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InvalidIndexSpec
from ..registry import Registry

AUTO = "auto"
MAX_LISTS = 1 << 20


@dataclass(frozen=True)
class IndexSpec:
    """A parsed spec: ``kind`` names the form (``Flat``, ``IVFPQ``), ``text`` its canonical spelling."""

    text: str
    kind: str
    nlist: int = 0
    hnsw: int = 0
    m: int = 0
    refine: bool = False

    def check_dim(self, dim: int) -> IndexSpec:
        if self.m and dim % self.m:
            raise InvalidIndexSpec(f"PQ{self.m} needs the dimension ({dim}) to be a multiple of {self.m}", spec=self.text)
        return self


@dataclass(frozen=True)
class SpecForm:
    pattern: re.Pattern[str]
    parse: Callable[[re.Match[str]], IndexSpec]
    example: str


FORMS: Registry[SpecForm] = Registry("index spec form", InvalidIndexSpec)


def register_form(kind: str, pattern: str, parse: Callable[[re.Match[str]], IndexSpec], example: str) -> SpecForm:
    """A new spec form: ``pattern`` must match the whole spec; ``parse`` builds its IndexSpec (of ``kind``)."""
    return FORMS.register(kind, SpecForm(re.compile(pattern + r"\Z"), parse, example))


def parse_spec(spec: str) -> IndexSpec:
    """The structure ``spec`` names; INVALID_INDEX_SPEC if no form matches it (``auto`` included: resolve it first)."""
    forms = FORMS.items().values()
    for form in forms:
        m = form.pattern.match(spec)
        if m:
            return form.parse(m)
    known = ", ".join(f.example for f in forms)
    raise InvalidIndexSpec(f"unknown index spec {spec!r}; known forms: {AUTO}, {known}", spec=spec)


def check_spec(spec: str, dim: int) -> str:
    """``spec`` if a gallery of ``dim``-D templates can be indexed with it (``auto`` always can)."""
    if spec != AUTO:
        parse_spec(spec).check_dim(dim)
    return spec


def ivfpq_spec(nlist: int, m: int, hnsw: int = 0, refine: bool = False) -> IndexSpec:
    quant = f"_HNSW{hnsw}" if hnsw else ""
    return IndexSpec(f"IVF{nlist}{quant},PQ{m}x4fs" + (",Refine" if refine else ""), "IVFPQ", nlist, hnsw, m, refine)


def _ivfpq(m: re.Match[str]) -> IndexSpec:
    nlist, hnsw, pq = int(m["nlist"]), int(m["hnsw"] or 0), int(m["m"])
    if not (1 <= nlist <= MAX_LISTS) or pq < 1:
        raise InvalidIndexSpec(f"bad IVF/PQ sizes in {m.string!r}", spec=m.string)
    return ivfpq_spec(nlist, pq, hnsw, bool(m["refine"]))


register_form("Flat", r"Flat", lambda m: IndexSpec("Flat", "Flat"), "Flat")
register_form("IVFPQ", r"IVF(?P<nlist>\d+)(?:_HNSW(?P<hnsw>\d+))?,PQ(?P<m>\d+)x4fs(?P<refine>,Refine)?", _ivfpq, "IVF1024,PQ64x4fs,Refine")
