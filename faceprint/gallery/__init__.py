"""Galleries (FaceSets): enrol, search, identify and remove faces, per tenant.

The truth is a store (:mod:`.store`: SQLite in the data directory, or a PostgreSQL server); a face
has one home there, a row whose token is its face token (a detected face waits in it with an
expiry until a faceset takes it). Vector indexes (FAISS in the process, or a Milvus server) are
built from the store and catch up with it; they never hold the only copy of a face.
:class:`GalleryService` is the entry point, :class:`Gallery` one gallery's handle (its name and
tenant given once), and :class:`Cipher` encrypts the templates at rest when a key is given.
"""

from ..index.policy import IndexPolicy
from .crypto import Cipher, new_key
from .enrol import EnrolItem, EnrolOptions
from .search import SearchOptions
from .service import Gallery, GalleryConfig, GalleryService
from .types import EnrolReport, FaceRecord, FaceSet, FaceSetUpdate, Match, NewFace, NewFaceSet, Page, Rejected, SearchResult

__all__ = [
    "Cipher",
    "EnrolItem",
    "EnrolOptions",
    "EnrolReport",
    "FaceRecord",
    "FaceSet",
    "FaceSetUpdate",
    "Gallery",
    "GalleryConfig",
    "GalleryService",
    "IndexPolicy",
    "Match",
    "NewFace",
    "NewFaceSet",
    "Page",
    "Rejected",
    "SearchOptions",
    "SearchResult",
    "new_key",
]  # fmt: skip
