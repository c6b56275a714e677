"""The ``faiss`` index backend: each gallery's index in this process's memory, snapshotted beside the store.

- :mod:`.base`: the :class:`~.base.VectorIndex` seam and the builders of each spec kind;
- :mod:`.flat` (exact) and :mod:`.ivfpq` (IVF-PQ fast-scan, optional exact re-rank);
- :mod:`.snapshot`: atomic, optionally sealed index files;
- :mod:`.manager`: :class:`~.manager.IndexManager`, which keeps each index in step with the store.
"""
