"""Shared CLI plumbing: JSON or rich tables, and errors rendered as code + message, never a traceback."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..errors import BadInput, FaceprintError

console = Console()
err_console = Console(stderr=True)

EXIT_ERROR = 2


def iso_time(epoch: float) -> str:
    """Seconds since the epoch as ISO-8601 UTC to the second: 2026-12-01T21:40:07Z."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def table(names: Sequence[str], rows: Sequence[Sequence[str]], tokens: Sequence[str] = (), **options: Any) -> Table:
    """A table whose ``tokens`` columns are never wrapped or cut, so a token can be copied whole
    at any terminal width; the other columns fold to make room."""
    out = Table(**options)
    for i, name in enumerate(names):
        if name in tokens:
            width = max([len(name), *(len(r[i]) for r in rows)])
            out.add_column(name, no_wrap=True, min_width=width, overflow="ignore")
        else:
            out.add_column(name, overflow="fold")
    for r in rows:
        out.add_row(*r)
    return out


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
            err_console.print(f"[bold red]{exc.code}[/]: {escape(exc.message)}", soft_wrap=True)
        raise typer.Exit(EXIT_ERROR) from None


T = TypeVar("T")


@dataclass
class Batch(Generic[T]):
    """What a command over many files got: a result per good file, an error per bad one."""

    done: list[tuple[Path, T]] = field(default_factory=list)
    failed: list[tuple[Path, FaceprintError]] = field(default_factory=list)

    def failures(self) -> list[dict[str, object]]:
        return [{"image": str(p), **exc.to_dict()} for p, exc in self.failed]

    def exit_if_failed(self) -> None:
        if self.failed:
            raise typer.Exit(EXIT_ERROR)


def each_file(paths: Sequence[Path], work: Callable[[Path], T], as_json: bool = False) -> Batch[T]:
    """Run ``work`` on every file; a file that fails is reported by name and the batch goes on."""
    batch: Batch[T] = Batch()
    for path in paths:
        try:
            batch.done.append((path, work(path)))
        except FaceprintError as exc:
            exc.about(str(path))
            batch.failed.append((path, exc))
            if not as_json:
                err_console.print(f"[bold red]{exc.code}[/]: {escape(exc.message)}", soft_wrap=True)
    return batch


def confirm(question: str, yes: bool) -> None:
    """Ask before something that cannot be undone; without a terminal, refuse unless --yes was given."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise BadInput("not at a terminal, so nothing was deleted: pass --yes to confirm")
    if not typer.confirm(question, default=False, err=True):
        err_console.print("cancelled: nothing was deleted")
        raise typer.Exit(1)


def engine_factory(pack: str | None, **config: Any) -> Callable[[], Any]:
    def make() -> Any:
        from ..engine import EngineConfig, FaceEngine

        return FaceEngine(pack, EngineConfig(**config))

    return make
