"""Vector index backends behind one interface, chosen per gallery by a FAISS-style spec string."""

from .base import Hits, SearchParams, VectorIndex, make_index, register_index

__all__ = ["Hits", "SearchParams", "VectorIndex", "make_index", "register_index"]
