"""``faceprint keys create|list|revoke``: API keys of the REST service."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .output import console, handled, print_json

DataOpt = typer.Option(None, "--data", envvar="FACEPRINT_DATA", help="Data directory (default ./faceprint-data).")
keys_app = typer.Typer(no_args_is_help=True, help="API keys for `faceprint serve`.")


def _store(data: Optional[Path]):
    from ..gallery.service import default_data_dir
    from ..service.keys import KeyStore

    return KeyStore(Path(data or default_data_dir()))


@keys_app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="Who or what the key is for."),
    scopes: str = typer.Option(..., "--scopes", help="Comma list of detect, compare, faceset:read, faceset:write, admin."),
    qps: float = typer.Option(10.0, "--qps", help="Requests per second (token bucket)."),
    tenant: Optional[str] = typer.Option(None, "--tenant", help="Share another key's tenant (its facesets); default: a tenant of its own."),
    data: Optional[Path] = DataOpt,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a key and print its secret. The secret is shown once and stored only as a hash."""
    from ..service.keys import parse_scopes

    with handled(as_json):
        store = _store(data)
        key, secret = store.create(name, parse_scopes(scopes), qps, tenant)
        store.close()
        if as_json:
            print_json({**key.to_dict(), "api_secret": secret})
            return
        console.print(f"api_key:    {key.api_key}\napi_secret: {secret}\nscopes:     {','.join(key.scopes)}  qps: {key.qps:g}  tenant: {key.tenant}")
        console.print("[yellow]The secret is not stored anywhere; keep it now.[/]")


@keys_app.command("list")
def list_(data: Optional[Path] = DataOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """List keys (never their secrets)."""
    with handled(as_json):
        store = _store(data)
        keys = store.list()
        store.close()
        if as_json:
            print_json([k.to_dict() for k in keys])
            return
        table = Table(title=f"{len(keys)} key(s)")
        for col in ("api_key", "name", "scopes", "qps", "tenant", "revoked"):
            table.add_column(col)
        for k in keys:
            table.add_row(k.api_key, k.name, ",".join(k.scopes), f"{k.qps:g}", k.tenant, "yes" if k.revoked else "")
        console.print(table)


@keys_app.command("revoke")
def revoke(api_key: str = typer.Argument(...), data: Optional[Path] = DataOpt) -> None:
    """Revoke a key; a running server refuses it from its next request."""
    store = _store(data)
    ok = store.revoke(api_key)
    store.close()
    if not ok:
        console.print(f"[red]NOT_FOUND[/]: no active key {api_key}")
        raise typer.Exit(2)
    console.print(f"revoked {api_key}")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
