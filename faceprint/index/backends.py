"""Where galleries' vectors are searched: a registry of index backends, chosen by a URL.

- ``faiss`` (the default): an index per gallery in this process's memory, snapshotted beside the
  store (:class:`~faceprint.index.faiss.manager.IndexManager`).
- ``milvus://host:19530``: one shared Milvus collection per gallery, for galleries that outgrow a
  machine and for several stateless API nodes (:mod:`faceprint.index.milvus`).

Every backend follows the store: the store is written first and is the truth; :meth:`Indexes.sync`
brings the gallery's index up to the store's generation before the write call returns, so a face
is searchable as soon as its enrol call returns. A backend imports only this package's neutral
modules (types, specs, policy, rerank), never another backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..registry import SchemeRegistry
from .policy import IndexPolicy
from .specs import check_spec
from .types import Hits

if TYPE_CHECKING:
    from ..gallery.crypto import Cipher
    from ..gallery.store.base import Store
    from ..gallery.types import FaceSet

DEFAULT_INDEX = "faiss"


class Indexes(ABC):
    """The vector side of every gallery of one store."""

    # True: the index lives outside this process and outlives it (a Milvus cluster). Deleting a
    # gallery then drops its index before the store's rows, so an unreachable index fails the call
    # with nothing deleted instead of leaving vectors that no gallery points at.
    shared: bool = False

    def check_spec(self, spec: str, dim: int) -> None:
        """Refuse (INVALID_INDEX_SPEC) a gallery spec this backend could not build, before any face is stored."""
        check_spec(spec, dim)

    @abstractmethod
    def sync(self, faceset: FaceSet, fresh: bool = False) -> object:
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

    def wait(self, token: str | None = None) -> None:  # noqa: B027 - an optional hook
        """Block until background work (of one gallery, or all) is done."""

    @abstractmethod
    def close(self) -> None: ...


@dataclass(frozen=True)
class IndexContext:
    """What a backend may use: the store (the truth), the data directory, the at-rest cipher and the policy."""

    store: Store
    data_dir: Path
    cipher: Cipher
    policy: IndexPolicy


Factory = Callable[[str, IndexContext], Indexes]
BACKENDS: SchemeRegistry[Factory] = SchemeRegistry(
    "index", "use faiss or milvus://host:19530",
    builtin={"faiss": "faceprint.index.faiss.manager", "milvus": "faceprint.index.milvus.backend",
             "milvus+https": "faceprint.index.milvus.backend"},
)  # fmt: skip
register_indexes = BACKENDS.register


def open_indexes(url: str | None, context: IndexContext) -> Indexes:
    """``faiss`` or ``milvus://host:port`` (see the module doc)."""
    url = url or DEFAULT_INDEX
    return BACKENDS.factory(url)(url, context)
