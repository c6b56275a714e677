"""``faceprint audit [show]``, ``audit head`` and ``audit verify``: read, export and check the service's audit log.

The log is ``audit.log`` in --data, or the one chain every server on a ``--store postgresql://...`` shares.
Its lines are sealed with the audit key (``FACEPRINT_AUDIT_KEY`` / ``FACEPRINT_AUDIT_KEY_FILE``, else
``~/.config/faceprint/audit.key``); ``head`` and ``verify`` need that key and never make one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import BadInput
from ..service.audit_key import audit_key
from .output import console, handled, iso_time, print_json, table
from .state import DataOpt, StoreOpt, open_service_state

if TYPE_CHECKING:
    from ..service.audit import Audit

audit_app = typer.Typer(help="The tamper-evident audit log of `faceprint serve`.", invoke_without_command=True)


@contextmanager
def _log(data: Path | None, store: str | None) -> Iterator[Audit]:
    state = open_service_state(data, store)
    log = state.audit()
    try:
        yield log
    finally:
        log.close()
        state.close()


TenantOpt = typer.Option(None, "--tenant", help="Only this tenant's lines.")
KeyOpt = typer.Option(None, "--key", help="Only lines of this api_key.")
StartOpt = typer.Option(0, "--start", help="Lines after this sequence number.")
LimitOpt = typer.Option(100, "--limit", min=1, help="Most lines to print.")
JsonOpt = typer.Option(False, "--json", help="Machine-readable output (times as epoch seconds, as stored).")
COLUMNS = ("seq", "time", "key", "endpoint", "faceset", "faces", "results", "outcome")


@audit_app.callback()
def main(
    ctx: typer.Context,
    data: Path | None = DataOpt,
    store: str | None = StoreOpt,
    tenant: str | None = TenantOpt,
    key: str | None = KeyOpt,
    start: int = StartOpt,
    limit: int = LimitOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Without a command: print audit lines (as ``show``)."""
    if ctx.invoked_subcommand is None:
        show(data=data, store=store, tenant=tenant, key=key, start=start, limit=limit, as_json=as_json)


@audit_app.command("show")
def show(
    data: Path | None = DataOpt,
    store: str | None = StoreOpt,
    tenant: str | None = TenantOpt,
    key: str | None = KeyOpt,
    start: int = StartOpt,
    limit: int = LimitOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Print audit lines, oldest first, with ISO-8601 UTC times."""
    with handled(as_json), _log(data, store) as log:
        entries = log.read(tenant=tenant, key=key, start=start, limit=limit)
    if as_json:
        print_json(entries)
        return
    rows = [[_cell(c, e.get(c)) for c in COLUMNS] for e in entries]
    console.print(table(COLUMNS, rows, tokens=("seq", "time", "key"), title=f"{len(entries)} audit line(s)"))


def _cell(column: str, value: object) -> str:
    if value is None:
        return ""
    if column == "time" and isinstance(value, (int, float)):
        return iso_time(float(value))
    return str(value)


def _need_key(data: Path | None) -> None:
    audit_key(data.resolve() if data else None, create=False)  # AUDIT_KEY_ERROR rather than a fresh key that fits nothing


def _exported(path: Path) -> dict[str, object]:
    try:
        head = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read an exported head from {path}: {exc}", param="--head") from None
    if not isinstance(head, dict):
        raise BadInput(f"{path} does not hold an exported head", param="--head")
    return head


@audit_app.command("head")
def head(
    data: Path | None = DataOpt,
    store: str | None = StoreOpt,
    out: Path | None = typer.Option(None, "--out", help="Also write it to this file (keep it off the server: another host, WORM storage)."),
) -> None:
    """Print the chain's head (last line and hash, sealed with the audit key), to keep elsewhere for `verify --head`."""
    with handled(False):
        _need_key(data)
        with _log(data, store) as log:
            sealed = log.head()
    text = json.dumps(sealed)
    if out is not None:
        out.write_text(text + "\n")
    print(text)


@audit_app.command("verify")
def verify(
    data: Path | None = DataOpt,
    store: str | None = StoreOpt,
    exported: Path | None = typer.Option(None, "--head", help="A head saved earlier by `faceprint audit head`: the log must still reach it unchanged."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Check the keyed chain; exit 1 and name the first bad line if anything was edited, removed or cut."""
    with handled(as_json):
        _need_key(data)
        saved = _exported(exported) if exported is not None else None
        with _log(data, store) as log:
            verdict = log.verify(saved)
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
