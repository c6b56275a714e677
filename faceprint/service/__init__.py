"""faceprint serve: a Face++ v3-compatible REST service.

    from faceprint.service import ServiceConfig, create_app
    app = create_app(ServiceConfig(data_dir=Path("data")))   # then run it with uvicorn

Layout: ``config`` (one object holding every limit), ``keys``/``auth``/``ratelimit`` (API keys,
scopes, token buckets), ``audit`` (hash chain), ``state``/``db`` (where a node keeps keys, sessions
and the chain), ``batching`` (micro-batcher in front of the engine), ``tokens`` (face tokens minted
by detect: rows of the gallery store, with an expiry), ``recognition``, ``facesets``, ``faceid``,
``passive``, ``video_jobs`` and ``tenant_admin`` (what the endpoints do, over the library),
``facepp`` (Face++ request parsing and response shaping) and ``routers/`` (one per resource: parse,
call, shape). Errors, with their Face++ codes and HTTP status, are the one tree in
:mod:`faceprint.errors`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ServiceConfig", "create_app"]


def __getattr__(name: str) -> Any:  # lazy: importing a submodule must not build the web app
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "ServiceConfig":
        from .config import ServiceConfig

        return ServiceConfig
    raise AttributeError(name)
