"""How galleries are indexed, whatever the backend: ``auto``'s size lines, snapshots, and search knobs.

With ``index_spec="auto"`` a gallery is exact (``Flat``) below ``exact_limit`` faces and IVF-PQ
fast-scan with exact re-rank above it. It goes back to exact only below half the limit, and an IVF
index is kept while its list count is within 4x of the ideal, so a gallery near a line is not
rebuilt back and forth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .specs import AUTO, ivfpq_spec, parse_spec
from .types import SearchParams


@dataclass(frozen=True)
class IndexPolicy:
    exact_limit: int = 200_000  # "auto": exact search below this many faces, IVF-PQ at or above
    save_every: int = 50_000  # a written index is re-snapshotted after this many unsaved changes (FAISS)
    background: bool = True  # rebuilds after crossing a size run in a thread (FAISS)
    params: SearchParams = field(default_factory=SearchParams)
    nprobe_fraction: float = 0.75  # IVF lists visited by default (uniform-ish data needs most)

    def choose(self, requested: str, count: int, dim: int, current: str | None = None) -> str:
        """The spec a gallery of ``count`` faces should be indexed with, given the one it has (``current``)."""
        if requested != AUTO:
            return requested
        cur_nlist = parse_spec(current).nlist if current is not None else 0
        if count < self.exact_limit and not (cur_nlist and count >= self.exact_limit // 2):
            return "Flat"
        nlist = int(2 ** round(math.log2(max(math.sqrt(count), 1))))  # ~sqrt(n) lists...
        nlist = max(1, min(nlist, 65536, 2 ** int(math.log2(max(count // 40, 1)))))  # ...each trained on 30+ faces
        if current is not None and cur_nlist and nlist / 4 <= cur_nlist <= nlist * 4:
            return current
        m = dim // 8 if dim % 8 == 0 else dim // 4
        return ivfpq_spec(nlist, m, refine=True).text

    def search_params(self, nlist: int) -> SearchParams:
        """The knobs for an index of ``nlist`` inverted lists (0: not an IVF index)."""
        if not nlist or self.params.nprobe:
            return self.params
        nprobe = max(1, math.ceil(nlist * self.nprobe_fraction))
        return SearchParams(nprobe, self.params.refine_factor, self.params.min_refine)
