"""Factories chosen by a URL's scheme (stores, vector indexes, service state), built-ins imported on first use."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Generic, TypeVar

from .errors import BadInput
from .redact import mask_url

F = TypeVar("F")


class SchemeRegistry(Generic[F]):
    def __init__(self, kind: str, usage: str, builtin: Mapping[str, str] = (), aliases: Mapping[str, str] = ()) -> None:
        self.kind, self.usage = kind, usage  # kind: the error's detail key ("store", "index"); usage: how to write one
        self._builtin = dict(builtin)  # scheme -> module that registers it when imported
        self._aliases = dict(aliases)
        self._factories: dict[str, F] = {}

    def register(self, scheme: str, factory: F) -> None:
        self._factories[scheme] = factory

    def scheme(self, url: str) -> str:
        scheme = url.split("://", 1)[0]
        return self._aliases.get(scheme, scheme)

    def factory(self, url: str) -> F:
        """The factory for ``url``'s scheme; an unknown one is BAD_ARGUMENTS (the URL shown without its password)."""
        scheme = self.scheme(url)
        if scheme not in self._factories and scheme in self._builtin:
            importlib.import_module(self._builtin[scheme])
        factory = self._factories.get(scheme)
        if factory is None:
            shown = mask_url(url, hide_user=True)
            raise BadInput(f"unknown {self.kind} {shown!r}; {self.usage}", **{self.kind: shown})
        return factory
