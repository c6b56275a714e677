"""GET /health and /ready (no credentials, nothing about any tenant's data) and /metrics (a ``metrics`` key).

``/metrics`` counts requests, faces and galleries across every tenant, so it answers only a key with
the operator's ``metrics`` scope (``faceprint keys create --scopes metrics``), given as HTTP Basic
credentials (``api_key:api_secret``, what a Prometheus ``basic_auth`` block sends) or as
``api_key``/``api_secret`` parameters. Without one: 401 AUTHENTICATION_ERROR; another key: 403.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from ..auth import Call, need
from ..runtime import Runtime, runtime

router = APIRouter(tags=["operations"])


@router.get("/health", summary="The process is up")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="Models loaded and stores open")
async def ready(request: Request) -> JSONResponse:
    ok = bool(getattr(request.app.state, "ready", False))
    body = {"status": "ready" if ok else "starting"}
    if ok:
        body["pack"] = request.app.state.runtime.engine.pack.name
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics", summary="Prometheus metrics (all tenants): a key with the operator's metrics scope, as HTTP Basic")
async def metrics(call: Call = need("metrics", "metrics"), rt: Runtime = Depends(runtime)) -> Response:
    return Response(rt.metrics.render(), media_type=CONTENT_TYPE_LATEST)
