"""One registry mechanism: a name -> item table, with built-ins imported by module path on first use.

Every plug-in point of faceprint is a :class:`Registry`: model packs, PAD detectors, index spec
forms, the FAISS index builders, Milvus plans, and (as :class:`SchemeRegistry`, keyed by a URL's
scheme) stores, index backends and service state. A built-in lives in its own module, which
registers itself when imported; the registry names that module as a string and imports it only
when the name is asked for, so the registry never imports its plug-ins and no import circle forms.

    PACKS: Registry[Pack] = Registry("model pack", ModelNotFound, builtin={"sface": "faceprint.models.sface"})
    PACKS.get("sface")        # imports faceprint.models.sface, which calls PACKS.register(...)
    PACKS.get("nope")         # ModelNotFound: unknown model pack 'nope'; known: sface
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Generic, TypeVar

from .errors import BadInput, FaceprintError
from .redact import mask_url

T = TypeVar("T")


class Registry(Generic[T]):
    """``name -> T``; an unknown name raises ``error`` naming every name that is available.

    ``builtin``: name -> the module that registers it when imported. ``aliases``: other spellings.
    ``hint``: what the error says instead of listing the names. ``detail``: the error's detail key
    for the name asked for; ``details``: fixed details every such error carries (``param="pad"``).
    """

    def __init__(
        self, kind: str, error: type[FaceprintError] = BadInput, *, builtin: Mapping[str, str] | None = None,
        aliases: Mapping[str, str] | None = None, hint: str | None = None, detail: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:  # fmt: skip
        self.kind = kind
        self.error = error
        self.hint = hint
        self.detail = detail
        self.details = dict(details or {})
        self._builtin = dict(builtin or {})
        self._aliases = dict(aliases or {})
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        self._items[name] = item
        return item

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)

    def canonical(self, name: str) -> str:
        return self._aliases.get(name, name)

    def find(self, name: str) -> T | None:
        """The item under ``name`` (a built-in's module imported on first use), or None."""
        name = self.canonical(name)
        if name not in self._items and name in self._builtin:
            importlib.import_module(self._builtin[name])
        return self._items.get(name)

    def get(self, name: str, shown: str | None = None) -> T:
        """The item under ``name``; ``shown``: how the error quotes what was asked for (default ``name``)."""
        item = self.find(name)
        if item is None:
            raise self.unknown(name if shown is None else shown)
        return item

    def names(self) -> list[str]:
        """Every name, built-ins included (none of them is imported)."""
        return sorted(set(self._items) | set(self._builtin))

    def items(self) -> dict[str, T]:
        """Every item: the built-ins (each module imported) in the order they are declared, then the others."""
        for module in dict.fromkeys(self._builtin.values()):
            importlib.import_module(module)
        first = {n: self._items[n] for n in self._builtin if n in self._items}
        return {**first, **self._items}

    def unknown(self, shown: str) -> FaceprintError:
        hint = self.hint or f"known: {', '.join(self.names())}"
        details = {**self.details, **({self.detail: shown} if self.detail else {})}
        return self.error(f"unknown {self.kind} {shown!r}; {hint}", **details)


class SchemeRegistry(Registry[T]):
    """A registry keyed by a URL's scheme (``sqlite:///x.db`` -> ``sqlite``); errors show the URL without its password."""

    def __init__(self, kind: str, usage: str, builtin: Mapping[str, str] | None = None, aliases: Mapping[str, str] | None = None) -> None:
        super().__init__(kind, BadInput, builtin=builtin, aliases=aliases, hint=usage, detail=kind)

    def scheme(self, url: str) -> str:
        return self.canonical(url.split("://", 1)[0])

    def factory(self, url: str) -> T:
        """The factory for ``url``'s scheme; an unknown one is BAD_ARGUMENTS."""
        return self.get(self.scheme(url), shown=mask_url(url, hide_user=True))
