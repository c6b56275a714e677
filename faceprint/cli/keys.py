"""``faceprint keys create|list|revoke``: API keys of the REST service (in --data, or the --store database)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .output import console, handled, print_json, table
from .state import DataOpt, StoreOpt, open_service_state

if TYPE_CHECKING:
    from ..service.keys import KeyStore

keys_app = typer.Typer(no_args_is_help=True, help="API keys for `faceprint serve`.")


@contextmanager
def _keys(data: Path | None, store: str | None) -> Iterator[KeyStore]:
    from ..service.keys import KeyStore

    state = open_service_state(data, store)
    keys = KeyStore(state)
    try:
        yield keys
    finally:
        keys.close()
        state.close()


@keys_app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="Who or what the key is for."),
    scopes: str = typer.Option(..., "--scopes", help="Comma list of detect, compare, faceset:read, faceset:write, admin, metrics (GET /metrics: every tenant's figures)."),
    qps: float = typer.Option(10.0, "--qps", help="Requests per second (token bucket)."),
    tenant: str | None = typer.Option(None, "--tenant", help="Share another key's tenant (its facesets); default: a tenant of its own."),
    data: Path | None = DataOpt,
    store: str | None = StoreOpt,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Create a key and print its secret. The secret is shown once and stored only as a hash."""
    from ..service.keys import parse_scopes

    with handled(as_json):
        with _keys(data, store) as ks:
            key, secret = ks.create(name, parse_scopes(scopes), qps, tenant)
        typer.echo(f"faceprint: the key sees tenant {key.tenant!r} (galleries made with `faceprint gallery ... --tenant {key.tenant}`)", err=True)
        if as_json:
            print_json({**key.to_dict(), "api_secret": secret})
            return
        console.print(f"api_key:    {key.api_key}\napi_secret: {secret}\nscopes:     {','.join(key.scopes)}  qps: {key.qps:g}  tenant: {key.tenant}")
        console.print("[yellow]The secret is not stored anywhere; keep it now.[/]")


@keys_app.command("list")
def list_(data: Path | None = DataOpt, store: str | None = StoreOpt, as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List keys (never their secrets)."""
    with handled(as_json):
        with _keys(data, store) as ks:
            keys = ks.list()
        if as_json:
            print_json([k.to_dict() for k in keys])
            return
        rows = [(k.api_key, k.name, ",".join(k.scopes), f"{k.qps:g}", k.tenant, "yes" if k.revoked else "") for k in keys]
        names = ("api_key", "name", "scopes", "qps", "tenant", "revoked")
        console.print(table(names, rows, tokens=("api_key",), title=f"{len(keys)} key(s)"))


@keys_app.command("revoke")
def revoke(api_key: str = typer.Argument(..., help="The api_key to revoke (see `faceprint keys list`)."), data: Path | None = DataOpt, store: str | None = StoreOpt) -> None:
    """Revoke a key; running servers refuse it from their next request."""
    with handled(), _keys(data, store) as ks:
        ok = ks.revoke(api_key)
    if not ok:
        console.print(f"[red]NOT_FOUND[/]: no active key {api_key}")
        raise typer.Exit(2)
    console.print(f"revoked {api_key}")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
