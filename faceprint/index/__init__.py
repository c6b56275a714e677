"""Gallery vector indexes: one package for the types, the specs, the policy, the backend registry and the backends.

- :mod:`.types`: :class:`Hits` (one query's neighbours) and :class:`SearchParams` (search knobs);
- :mod:`.specs`: the spec strings (``Flat``, ``IVF1024,PQ64x4fs,Refine``) every backend reads;
- :mod:`.policy`: :class:`IndexPolicy`, what ``auto`` resolves to and how hard to search;
- :mod:`.backends`: the :class:`Indexes` interface and the registry of backends, chosen by a URL;
- :mod:`.faiss` (in-process, snapshotted beside the store) and :mod:`.milvus` (a shared server).

The backends import only the neutral modules above, never one another.
"""

from .backends import DEFAULT_INDEX, IndexContext, Indexes, open_indexes, register_indexes
from .policy import IndexPolicy
from .specs import IndexSpec, check_spec, parse_spec
from .types import Hits, SearchParams

__all__ = [
    "DEFAULT_INDEX", "Hits", "IndexContext", "IndexPolicy", "IndexSpec", "Indexes", "SearchParams", "check_spec",
    "open_indexes", "parse_spec", "register_indexes",
]  # fmt: skip
