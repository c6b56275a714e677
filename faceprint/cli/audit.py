"""``faceprint audit [show]`` and ``faceprint audit verify``: read and check the service's audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .output import console, print_json

DataOpt = typer.Option(None, "--data", envvar="FACEPRINT_DATA", help="Data directory (default ./faceprint-data).")
audit_app = typer.Typer(help="The tamper-evident audit log of `faceprint serve`.", invoke_without_command=True)


def _dir(data: Optional[Path]) -> Path:
    from ..gallery.service import default_data_dir

    return Path(data or default_data_dir())


@audit_app.callback()
def main(
    ctx: typer.Context,
    data: Optional[Path] = DataOpt,
    tenant: Optional[str] = typer.Option(None, "--tenant"),
    key: Optional[str] = typer.Option(None, "--key"),
    start: int = typer.Option(0, "--start", help="Lines after this sequence number."),
    limit: int = typer.Option(100, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Without a command: print audit lines (as ``show``)."""
    if ctx.invoked_subcommand is None:
        show(data=data, tenant=tenant, key=key, start=start, limit=limit, as_json=as_json)


@audit_app.command("show")
def show(
    data: Optional[Path] = DataOpt,
    tenant: Optional[str] = typer.Option(None, "--tenant"),
    key: Optional[str] = typer.Option(None, "--key"),
    start: int = typer.Option(0, "--start", help="Lines after this sequence number."),
    limit: int = typer.Option(100, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Print audit lines, oldest first."""
    from ..service.audit import AuditLog

    log = AuditLog(_dir(data))
    entries = log.read(tenant=tenant, key=key, start=start, limit=limit)
    log.close()
    if as_json:
        print_json(entries)
        return
    table = Table(title=f"{len(entries)} audit line(s)")
    for col in ("seq", "time", "key", "endpoint", "faceset", "faces", "results", "outcome"):
        table.add_column(col)
    for e in entries:
        table.add_row(*(str(e.get(c) if e.get(c) is not None else "") for c in ("seq", "time", "key", "endpoint", "faceset", "faces", "results", "outcome")))
    console.print(table)


@audit_app.command("verify")
def verify(data: Optional[Path] = DataOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """Check the hash chain; exit 1 and name the first bad line if anything was edited, removed or cut."""
    from ..service.audit import verify as check

    verdict = check(_dir(data))
    if as_json:
        print_json(verdict.to_dict())
    elif verdict.ok:
        console.print(f"audit log intact: {verdict.lines} line(s)")
    else:
        where = f"line {verdict.bad_line}: " if verdict.bad_line else ""
        console.print(f"[bold red]AUDIT_LOG_TAMPERED[/]: {where}{verdict.reason}")
    if not verdict.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
