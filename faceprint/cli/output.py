"""Shared CLI plumbing: JSON or rich tables, and errors rendered as code + message, never a traceback."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

from ..errors import FaceprintError

console = Console()
err_console = Console(stderr=True)

EXIT_ERROR = 2


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


@contextmanager
def handled(as_json: bool = False) -> Iterator[None]:
    """Turn any FaceprintError into a stable code on stderr (or JSON on stdout) and exit 2."""
    try:
        yield
    except FaceprintError as exc:
        if as_json:
            print_json(exc.to_dict())
        else:
            err_console.print(f"[bold red]{exc.code}[/]: {exc.message}")
        raise typer.Exit(EXIT_ERROR) from None


def engine_factory(pack: str | None, **config: Any) -> Callable[[], Any]:
    def make() -> Any:
        from ..engine import EngineConfig, FaceEngine

        return FaceEngine(pack, EngineConfig(**config))

    return make
