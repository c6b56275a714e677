"""The metadata-and-vector store behind galleries: one small abstract base over SQLite and PostgreSQL.

A face has one home, a row of this store. ``detect`` stores it with an expiry and no faceset
(:meth:`Store.detect_faces`); its face token is that row's token. :meth:`Store.assign_faces` moves
such faces into a faceset in one transaction that holds the faceset's row lock and checks its
capacity; expired faces that never found a faceset are erased (:meth:`Store.purge_detected`).

Every call that names a gallery or a face by its token takes the ``tenant`` it acts for, and a
tenant never sees another's galleries or faces; the calls the index makes take what
:meth:`Store.faceset_id` returned for (tenant, token), or face labels. Faces carry an integer ``id`` that is never reused: it is the label
the vector index stores. Each write bumps the gallery's ``generation``; an index that records the
generation it reflects can catch up from :meth:`Store.added_since` and :meth:`Store.removed_since`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..types import FaceRecord, FaceSet, FaceSetUpdate, NewFace, NewFaceSet, Page


@dataclass(frozen=True)
class IndexState:
    """What an index needs to know to tell whether it is stale."""

    generation: int
    count: int
    removed_floor: int  # removals at or below this generation are no longer listed


@dataclass(frozen=True)
class Resolved:
    """What a search result needs about a stored face."""

    face_token: str
    subject: str
    faceset_token: str


@dataclass(frozen=True)
class StoreStats:
    """Totals across every tenant (for metrics; no call that acts for a tenant sees these)."""

    galleries: int
    faces: int


@dataclass
class Marker:
    """The generation an external (shared) index of one gallery reflects; -1: never filled.

    Read and advanced only inside :meth:`Store.index_marker`, which holds a lock that every process
    (and, for a server database, every machine) sharing the store respects.
    """

    generation: int = -1


@dataclass(frozen=True)
class HeldFace:
    """A face of the store, with its template: detected (no faceset yet, ``expires`` set) or in a faceset."""

    token: str
    tenant: str
    pack: str
    faceset_token: str | None
    subject: str
    bbox: tuple[float, float, float, float] | None
    quality: float | None
    embedding: np.ndarray
    analysis: bytes | None  # what detect found (None for faces enrolled through the library)
    expires: float | None


@dataclass(frozen=True)
class Assignment:
    """What :meth:`Store.assign_faces` did: the faceset after it, and why each refused token was refused."""

    faceset: FaceSet
    added: tuple[str, ...]
    failures: tuple[tuple[str, str], ...]  # (face token, reason: INVALID_FACE_TOKEN, PACK_MISMATCH, QUOTA_EXCEEDED)


class VectorSource(ABC):
    """Where exact float32 vectors are read from, by label, for an exact re-rank."""

    @abstractmethod
    def fetch(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids found, (n, D) float32 vectors). Labels that no longer exist are left out."""


class Store(ABC):
    # -- galleries ----------------------------------------------------------------------------
    @abstractmethod
    def create_faceset(self, new: NewFaceSet) -> FaceSet: ...

    @abstractmethod
    def get_faceset(self, tenant: str, token: str | None = None, outer_id: str | None = None) -> FaceSet: ...

    @abstractmethod
    def list_facesets(self, tenant: str, start: int = 0, limit: int = 100, tag: str | None = None) -> Page: ...

    def tenants(self) -> list[str]:
        """Every tenant that owns a gallery (for administration: moving a whole store)."""
        raise NotImplementedError

    def get_thumbnail(self, tenant: str, face_token: str) -> bytes | None:
        """The face's stored thumbnail, if one was kept (none is by default)."""
        return None

    @abstractmethod
    def update_faceset(self, tenant: str, token: str, update: FaceSetUpdate) -> FaceSet: ...

    @abstractmethod
    def delete_faceset(self, tenant: str, token: str) -> int:
        """Delete the gallery and every face in it, erased; returns how many faces went."""

    # -- faces --------------------------------------------------------------------------------
    @abstractmethod
    def add_faces(self, tenant: str, token: str, faces: Sequence[NewFace]) -> list[FaceRecord]:
        """Store faces in one transaction; once this returns they survive a crash."""

    @abstractmethod
    def remove_faces(self, tenant: str, token: str, face_tokens: Sequence[str]) -> int: ...

    @abstractmethod
    def remove_subject(self, tenant: str, token: str, subject: str) -> int: ...

    @abstractmethod
    def list_faces(self, tenant: str, token: str, start: int = 0, limit: int = 100, subject: str | None = None) -> Page: ...

    @abstractmethod
    def get_face(self, tenant: str, face_token: str) -> FaceRecord: ...

    @abstractmethod
    def get_embedding(self, tenant: str, face_token: str) -> np.ndarray: ...

    @abstractmethod
    def known_images(self, tenant: str, token: str, sha256s: Sequence[str]) -> set[str]:
        """Which of these source-image hashes already gave a face to the gallery."""

    # -- detected faces (face tokens) -----------------------------------------------------------
    @abstractmethod
    def detect_faces(self, tenant: str, pack: str, faces: Sequence[NewFace], expires: float) -> list[str]:
        """Store faces with no faceset that are erased at ``expires`` unless assigned; their tokens."""

    @abstractmethod
    def held_face(self, tenant: str, face_token: str, now: float) -> HeldFace:
        """The tenant's face, detected and unexpired or in a faceset; else INVALID_FACE_TOKEN."""

    @abstractmethod
    def assign_faces(
        self, tenant: str, faceset: tuple[str | None, str | None], face_tokens: Sequence[str], capacity: int, now: float
    ) -> Assignment:
        """One transaction under the faceset's row lock: (faceset_token, outer_id) names the faceset; faces
        already in it are skipped, the others join it (their expiry cleared) while it has room."""

    @abstractmethod
    def set_subject(self, tenant: str, face_token: str, subject: str, now: float) -> None:
        """The face's one user_id (INVALID_FACE_TOKEN if it is not the tenant's, or expired)."""

    @abstractmethod
    def purge_detected(self, now: float) -> int:
        """Erase detected faces whose expiry passed; returns how many went."""

    @abstractmethod
    def detected_count(self) -> int:
        """Detected faces not yet in a faceset, all tenants (for metrics)."""

    # -- what the index reads -----------------------------------------------------------------
    @abstractmethod
    def faceset_id(self, tenant: str, token: str) -> int: ...

    @abstractmethod
    def index_state(self, faceset_id: int) -> IndexState: ...

    @abstractmethod
    def added_since(
        self, faceset_id: int, generation: int, chunk: int = 20000, upto: int | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, vectors) chunks of faces still present that were added in (generation, upto]."""

    @abstractmethod
    def removed_since(self, faceset_id: int, generation: int, upto: int | None = None) -> np.ndarray:
        """Labels of faces removed in (generation, upto]."""

    @abstractmethod
    def index_marker(self, faceset_id: int, name: str) -> AbstractContextManager[Marker]:
        """Lock (gallery, index ``name``) across processes and machines; yields its :class:`Marker`.

        A new ``generation`` set on the marker is saved when the block exits without an error.
        Deleting the gallery deletes its markers.
        """

    @abstractmethod
    def fetch_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids found, (n, D) float32 templates) of these labels; labels no longer stored are left out."""

    def vector_source(self) -> VectorSource:
        return _StoreVectors(self)

    @abstractmethod
    def resolve(self, ids: np.ndarray) -> dict[int, Resolved]: ...

    @abstractmethod
    def stats(self) -> StoreStats:
        """How many galleries and faces the store holds, all tenants together."""

    @abstractmethod
    def close(self) -> None: ...


class _StoreVectors(VectorSource):
    """A store's templates as the exact re-rank reads them."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def fetch(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._store.fetch_vectors(ids)


FACESET_COLS = (
    "id, token, tenant, outer_id, display_name, tags, user_data, pack, dim, index_spec, face_count, generation, created,"
    " updated, removed_floor"
)


def faceset_from_row(row: Sequence[Any], tags: Sequence[str]) -> FaceSet:
    """A FaceSet from :data:`FACESET_COLS`."""
    return FaceSet(
        token=row[1], tenant=row[2], outer_id=row[3], display_name=row[4], tags=tuple(tags), user_data=row[6],
        pack=row[7], dim=row[8], index_spec=row[9], face_count=row[10], generation=row[11], created=row[12],
        updated=row[13], id=int(row[0]), removed_floor=int(row[14]),
    )  # fmt: skip


def face_from_row(row: Sequence[Any]) -> FaceRecord:
    """A FaceRecord from ``token, faceset token, subject, x1, y1, x2, y2, quality, image_sha256, created, has_thumbnail``."""
    box = None if row[3] is None else (row[3], row[4], row[5], row[6])
    return FaceRecord(
        token=row[0], faceset_token=row[1], subject=row[2], bbox=box, quality=row[7], image_sha256=row[8],
        created=row[9], has_thumbnail=bool(row[10]),
    )  # fmt: skip
