"""Stores behind one abstract base: SQLite now, a server database later."""

from .base import IndexState, Resolved, Store, VectorSource
from .sqlite import SqliteStore

__all__ = ["IndexState", "Resolved", "SqliteStore", "Store", "VectorSource"]
