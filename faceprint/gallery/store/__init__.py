"""Stores behind one abstract base, chosen by a URL: ``sqlite:///path`` (the default) or ``postgresql://...``.

SQLite URLs follow SQLAlchemy's form: ``sqlite:///relative/path.db`` and ``sqlite:////absolute/path.db``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...errors import BadInput
from ...registry import SchemeRegistry
from ..crypto import Cipher
from .base import IndexState, Marker, Resolved, Store, VectorSource
from .sqlite import SqliteStore


@dataclass(frozen=True)
class StoreOptions:
    cipher: Cipher
    synchronous: str = "FULL"  # SQLite only: FULL survives power loss, NORMAL only process crashes


Factory = Callable[[str, StoreOptions], Store]
_STORES: SchemeRegistry[Factory] = SchemeRegistry(
    "store", "use sqlite:///path or postgresql://user@host/db",
    builtin={"postgresql": "faceprint.gallery.store.postgres"}, aliases={"postgres": "postgresql"},
)  # fmt: skip
register_store = _STORES.register


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{path}"


def open_store(url: str, options: StoreOptions) -> Store:
    return _STORES.factory(url)(url, options)


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL; None for any other store."""
    prefix = "sqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) and len(url) > len(prefix) else None


def _open_sqlite(url: str, options: StoreOptions) -> Store:
    path = sqlite_path(url)
    if path is None:
        raise BadInput(f"a SQLite store URL is sqlite:///relative.db or sqlite:////absolute.db; got {url!r}", store=url)
    return SqliteStore(path, options.cipher, synchronous=options.synchronous)


register_store("sqlite", _open_sqlite)

__all__ = [
    "IndexState", "Marker", "Resolved", "SqliteStore", "Store", "StoreOptions", "VectorSource", "open_store",
    "register_store", "sqlite_path", "sqlite_url",
]  # fmt: skip
