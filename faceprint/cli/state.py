"""The ``--data`` and ``--store`` options shared by the admin commands, and the state they open."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from ..service.state import ServiceState

DataOpt = typer.Option(None, "--data", envvar="FACEPRINT_DATA", help="Data directory (default ./faceprint-data).")
StoreOpt = typer.Option(
    None, "--store", envvar="FACEPRINT_STORE", show_envvar=False,
    help="Store: sqlite:///path (default: SQLite in --data) or postgresql://user@host/db (galleries, and the server's keys,"
    " face tokens, rate limits and audit; shared by several servers).",
)  # fmt: skip


def open_service_state(data: Path | None, store: str | None) -> ServiceState:
    """Where `faceprint serve` with these flags keeps keys and the audit chain."""
    from ..gallery.service import default_data_dir
    from ..service.state import open_state

    return open_state(store, Path(data or default_data_dir()))
