"""faceprint serve: a Face++ v3-compatible REST service.

    from faceprint.service import ServiceConfig, create_app
    app = create_app(ServiceConfig(data_dir=Path("data")))   # then run it with uvicorn

Layout: ``config`` (one object holding every limit), ``errors`` (Face++ codes with their HTTP
status), ``keys``/``auth``/``ratelimit`` (API keys, scopes, token buckets), ``audit`` (hash
chain), ``batching`` (micro-batcher in front of the engine), ``tokens`` (face tokens minted by
detect, with expiry), ``recognition``/``facesets`` (what each endpoint does, as plain functions
over the library), ``facepp`` (Face++ request parsing and response shaping), ``routers/``.
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
