"""Galleries (FaceSets): enrol, remove and search faces, with SQLite as the truth and FAISS indexes."""

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
