"""Stores behind one abstract base, chosen by a URL: ``sqlite:///path`` (the default) or ``postgresql://...``.

SQLite URLs follow SQLAlchemy's form: ``sqlite:///relative/path.db`` and ``sqlite:////absolute/path.db``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...errors import BadInput
from ..crypto import Cipher
from .base import IndexState, Marker, Resolved, Store, VectorSource
from .sqlite import SqliteStore


@dataclass(frozen=True)
class StoreOptions:
    cipher: Cipher
    synchronous: str = "FULL"  # SQLite only: FULL survives power loss, NORMAL only process crashes


Factory = Callable[[str, StoreOptions], Store]
_STORES: dict[str, Factory] = {}
_BUILTIN = {"postgresql": "faceprint.gallery.store.postgres"}  # imported on first use


def register_store(scheme: str, factory: Factory) -> None:
    _STORES[scheme] = factory


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{path}"


def open_store(url: str, options: StoreOptions) -> Store:
    scheme = url.split("://", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    if scheme not in _STORES and scheme in _BUILTIN:
        importlib.import_module(_BUILTIN[scheme])
    factory = _STORES.get(scheme)
    if factory is None:
        raise BadInput(f"unknown store {url!r}; use sqlite:///path or postgresql://user@host/db", store=url)
    return factory(url, options)


def _open_sqlite(url: str, options: StoreOptions) -> Store:
    if not url.startswith("sqlite:///") or len(url) <= len("sqlite:///"):
        raise BadInput(f"a SQLite store URL is sqlite:///relative.db or sqlite:////absolute.db; got {url!r}", store=url)
    return SqliteStore(url[len("sqlite:///") :], options.cipher, synchronous=options.synchronous)


register_store("sqlite", _open_sqlite)

__all__ = [
    "IndexState", "Marker", "Resolved", "SqliteStore", "Store", "StoreOptions", "VectorSource", "open_store",
    "register_store", "sqlite_url",
]  # fmt: skip
