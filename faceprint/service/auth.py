"""The per-request gate: read the form, check ``api_key``/``api_secret``, the scope and the rate.

``call: Call = need(scope, endpoint)`` declares a FastAPI dependency that yields a :class:`Call`;
handlers note what they touched on it (faceset, faces, results) and the dependency appends the
audit line with the outcome when the handler ends, whether it succeeded or failed (or ran out of
time: the append is shielded from cancellation), and before the reply is sent, so a client that
has its answer can find its audit line on any node. Key lookups, rate limits and audit appends may each be a
round trip to a shared database, so they run on worker threads, off the event loop; two things
that cannot wait run on the loop itself, because a thread hop costs more than they do: the failure
limit's check (:meth:`~faceprint.service.keys.KeyStore.admit`, so a refused login flood costs no
thread at all) and an audit append to a local file without fsync (``Audit.inline``).
"""

from __future__ import annotations

import base64
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread
from fastapi import Depends, Request, Response
from starlette.datastructures import UploadFile

from ..errors import FaceprintError
from .errors import AuthenticationError, AuthorizationError
from .facepp import FormValue, Params
from .keys import ApiKey
from .runtime import Runtime, runtime


@dataclass
class Call:
    key: ApiKey
    params: Params
    endpoint: str
    faceset: str | None = None
    faces: int = 0
    results: int = 0
    extra: dict[str, object] = field(default_factory=dict)
    outcome: str | None = None  # what a successful call decided, for the audit line (default "ok")

    @property
    def tenant(self) -> str:
        return self.key.tenant


def basic_credentials(request: Request) -> dict[str, FormValue]:
    """``Authorization: Basic base64(api_key:api_secret)``, as a Prometheus scraper sends it; else nothing."""
    kind, _, value = request.headers.get("authorization", "").partition(" ")
    if kind.lower() != "basic":
        return {}
    try:
        user, colon, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return {}
    return {"api_key": user, "api_secret": password} if colon else {}


async def read_params(request: Request, rt: Runtime) -> Params:
    fields: dict[str, FormValue] = {**basic_credentials(request), **request.query_params}
    if request.method == "POST":
        limit = rt.config.max_body_bytes
        form = await request.form(max_files=16, max_fields=200, max_part_size=limit)
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                fields[name] = await value.read()
            else:
                fields[name] = value
        await form.close()
    return Params(fields)


async def _audit(rt: Runtime, **line: object) -> None:
    append = functools.partial(rt.audit.append, **line)  # type: ignore[arg-type]
    if rt.audit.inline:  # a local file without fsync: a few microseconds, less than a thread hop
        append()
        return
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(append)


def need(scope: str, endpoint: str) -> Any:
    """The parameter default for a handler's :class:`Call` (``scope="function"``: audited before the reply goes out)."""

    async def gate(request: Request, response: Response) -> AsyncIterator[Call]:
        rt = runtime(request)  # (called, not a sync dependency: that would cost every request a thread hop)
        params = await read_params(request, rt)
        api_key = params.text("api_key", limit=128)
        secret = params.text("api_secret", limit=256)
        if api_key is None or secret is None:
            raise AuthenticationError("api_key and api_secret are required")
        try:
            address = request.client.host if request.client is not None else ""
            attempt = rt.keys.admit(api_key, secret, address)  # on the loop, no I/O: a refused flood costs no thread hop
            key = await anyio.to_thread.run_sync(rt.keys.finish, attempt)
        except AuthenticationError as exc:  # a wrong secret, or AUTHENTICATION_RATE_LIMITED
            await _audit(rt, key=api_key[:64], tenant="", endpoint=endpoint, outcome=exc.code)
            raise
        call = Call(key, params, endpoint)
        outcome = "ok"
        try:
            if not key.allows(scope):
                raise AuthorizationError(f"this api_key lacks the {scope!r} scope", param=f"Denied. Needs scope {scope}")
            await anyio.to_thread.run_sync(rt.limiter.check, key.api_key, key.qps)
            request.state.api_key = key.api_key
            response.headers["X-RateLimit-Limit"] = f"{key.qps:g}"  # the console paces itself by it
            yield call
            outcome = call.outcome or "ok"
        except FaceprintError as exc:
            outcome = exc.code
            raise
        except Exception:
            outcome = "INTERNAL_ERROR"
            raise
        finally:
            await _audit(
                rt, key=key.api_key, tenant=key.tenant, endpoint=endpoint, faceset=call.faceset, faces=call.faces,
                results=call.results, outcome=outcome,
            )  # fmt: skip

    return Depends(gate, scope="function")
