"""Where galleries' vectors are searched: a registry of index backends, chosen by a URL.

- ``faiss`` (the default): an index per gallery in this process's memory, snapshotted beside the
  store (:class:`~faceprint.gallery.indexing.IndexManager`).
- ``milvus://host:19530``: one shared Milvus collection per gallery, for galleries that outgrow a
  machine and for several stateless API nodes (:mod:`faceprint.gallery.milvus`).

Every backend follows the store: the store is written first and is the truth; :meth:`Indexes.sync`
brings the gallery's index up to the store's generation before the write call returns, so a face
is searchable as soon as its enrol call returns.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..registry import SchemeRegistry
from .crypto import Cipher
from .index.base import Hits
from .store.base import Store
from .types import FaceSet

DEFAULT_INDEX = "faiss"


class Indexes(ABC):
    """The vector side of every gallery of one store."""

    # True: the index lives outside this process and outlives it (a Milvus cluster). Deleting a
    # gallery then drops its index before the store's rows, so an unreachable index fails the call
    # with nothing deleted instead of leaving vectors that no gallery points at.
    shared: bool = False

    def check_spec(self, spec: str, dim: int) -> None:
        """Refuse (INVALID_INDEX_SPEC) a gallery spec this backend could not build, before any face is stored."""
        from .index.base import check_spec

        check_spec(spec, dim)

    @abstractmethod
    def sync(self, faceset: FaceSet, fresh: bool = False) -> None:
        """Catch up with every write to the gallery so far (this process's or another's).

        ``fresh``: ``faceset`` was just read from the store (or returned by its write); a backend may
        catch up to its generation without reading the store again."""

    @abstractmethod
    def erase(self, faceset: FaceSet) -> None:
        """After a removal: catch up, and leave no copy of the removed vectors behind."""

    @abstractmethod
    def drop(self, token: str) -> None:
        """The gallery was deleted from the store: delete its index for good."""

    @abstractmethod
    def search(self, faceset: FaceSet, queries: np.ndarray, k: int) -> list[Hits]: ...

    def wait(self, token: str | None = None) -> None:
        """Block until background work (of one gallery, or all) is done."""

    @abstractmethod
    def close(self) -> None: ...


@dataclass(frozen=True)
class IndexContext:
    """What a backend may use: the store (the truth), the data directory and the at-rest cipher."""

    store: Store
    data_dir: Path
    cipher: Cipher
    policy: object  # IndexPolicy; typed loosely to keep this module free of the FAISS backend


Factory = Callable[[str, IndexContext], Indexes]
_BACKENDS: SchemeRegistry[Factory] = SchemeRegistry(
    "index", "use faiss or milvus://host:19530",
    builtin={"faiss": "faceprint.gallery.indexing", "milvus": "faceprint.gallery.milvus", "milvus+https": "faceprint.gallery.milvus"},
)  # fmt: skip
register_indexes = _BACKENDS.register


def open_indexes(url: str | None, context: IndexContext) -> Indexes:
    """``faiss`` or ``milvus://host:port`` (see the module doc)."""
    url = url or DEFAULT_INDEX
    return _BACKENDS.factory(url)(url, context)
