"""The app factory: ``create_app(ServiceConfig)`` -> FastAPI, with Face++ errors, limits and metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import console
from ..budget import holding
from ..errors import BadInput, FaceprintError
from . import faceid as faceid_service
from . import video_jobs
from .config import ServiceConfig
from .errors import ApiNotFound, RequestTimeout, RequestTooLarge
from .facepp import error_body, new_request_id
from .routers import admin, compare, detect, face, faceid, faceset, identify, ops, passive, search, video
from .runtime import Runtime

log = logging.getLogger("faceprint.service")
access = logging.getLogger("faceprint.access")


def _state(request: Request) -> tuple[str, int]:
    st = request.scope.get("state", {})
    start = st.get("start", time.perf_counter())
    return st.get("request_id", new_request_id()), int((time.perf_counter() - start) * 1000)


def error_response(request: Request, exc: FaceprintError, status: int | None = None) -> JSONResponse:
    """``exc`` as Face++'s JSON error body, with its class's HTTP status unless ``status`` is given."""
    rid, used = _state(request)
    return JSONResponse(error_body(exc, rid, used, request.url.path), status_code=exc.http_status if status is None else status)


class Guard:
    """Pure ASGI: request id and clock, body cap (413), time limit, metrics and one JSON log line."""

    def __init__(self, app: ASGIApp, config: ServiceConfig) -> None:
        self.app, self.config = app, config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        rid = new_request_id()
        scope.setdefault("state", {}).update(start=start, request_id=rid)
        status = {"code": 500, "started": False}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["started"] = message["status"], True
            await send(message)

        cut = {"off": False}

        async def app_send(message: Message) -> None:
            if not cut["off"]:  # once the body is cut off, the 413 below is the only answer
                await send_wrapper(message)

        length = dict(scope.get("headers", [])).get(b"content-length")
        limit = self.config.max_body_bytes
        try:
            declared = int(length) if length is not None else None
        except ValueError:
            declared = None
        if declared is not None and declared > limit:
            await self._reply(scope, send_wrapper, RequestTooLarge(f"request body is over {limit} bytes"), rid, start)
            self._record(scope, status["code"], start, rid)
            return
        seen = 0

        async def capped_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    cut["off"] = True
                    raise RequestTooLarge(f"request body is over {limit} bytes")
            return message

        try:
            with holding():  # decoded images stay on the decode budget until the request ends
                await asyncio.wait_for(self.app(scope, capped_receive, app_send), self.config.request_timeout_s)
        except TimeoutError:
            log.error("request timed out", extra={"request_id": rid, "path": scope.get("path")})
            if not status["started"]:
                await self._reply(scope, send_wrapper, RequestTimeout(f"no answer within {self.config.request_timeout_s:g} s", param="timeout"), rid, start)
        except Exception:  # a bug or a broken store: the traceback goes to the log, the request_id to both
            if not cut["off"]:  # (a body cut off at the cap is answered with 413 below)
                log.exception("unhandled error", extra={"request_id": rid, "method": scope.get("method"), "path": scope.get("path")})
            if not status["started"] and not cut["off"]:
                await self._reply(scope, send_wrapper, FaceprintError(f"internal error; see the server log for request_id {rid}"), rid, start)
        if cut["off"] and not status["started"]:
            await self._reply(scope, send_wrapper, RequestTooLarge(f"request body is over {limit} bytes"), rid, start)
        self._record(scope, status["code"], start, rid)

    async def _reply(self, scope: Scope, send: Send, exc: FaceprintError, rid: str, start: float) -> None:
        body = json.dumps(error_body(exc, rid, int((time.perf_counter() - start) * 1000), scope.get("path", ""))).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if isinstance(exc, RequestTooLarge):
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": exc.http_status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _record(self, scope: Scope, status: int, start: float, rid: str) -> None:
        seconds = time.perf_counter() - start
        route = scope.get("route")
        endpoint = getattr(route, "path", None) or "unmatched"
        app = scope.get("app")
        rt: Runtime | None = None if app is None else getattr(app.state, "runtime", None)
        if rt is not None:
            rt.metrics.requests.labels(endpoint, str(status)).inc()
            rt.metrics.latency.labels(endpoint).observe(seconds)
        st = scope.get("state", {})
        access.info(
            "request",
            extra={"request_id": rid, "method": scope.get("method"), "path": scope.get("path"), "status": status,
                   "ms": round(seconds * 1000, 1), "api_key": st.get("api_key")},
        )  # fmt: skip


def create_app(config: ServiceConfig | None = None, runtime: Runtime | None = None) -> FastAPI:
    """The service. ``runtime`` lets a caller share one already-built runtime (engine, stores)."""
    cfg = config or ServiceConfig()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime if runtime is not None else await asyncio.to_thread(Runtime.build, cfg)
        app.state.runtime = rt
        await asyncio.to_thread(video_jobs.start, rt)  # resumes jobs a previous run left unfinished
        purger = await asyncio.to_thread(faceid_service.start_purger, rt)  # liveness references erased as sessions expire
        app.state.ready = True
        try:
            yield
        finally:
            app.state.ready = False
            await asyncio.to_thread(purger.stop)
            await asyncio.to_thread(video_jobs.stop, rt)
            if runtime is None:
                await asyncio.to_thread(rt.close)

    app = FastAPIOffline(  # /docs: Swagger UI served from the package, never a CDN
        title="faceprint",
        redoc_url=None,  # ReDoc still fetches its logo from cdn.redoc.ly
        summary="Self-hosted face recognition with a Face++ v3-compatible API",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.ready = False

    @app.exception_handler(FaceprintError)
    async def on_error(request: Request, exc: FaceprintError) -> JSONResponse:
        if exc.http_status >= 500:
            log.error("request failed: %s: %s", exc.code, exc.message, extra={"request_id": _state(request)[0]})
        return error_response(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code in (404, 405):
            return error_response(request, ApiNotFound(f"no API at {request.method} {request.url.path}"))
        if exc.status_code == 400:  # e.g. a malformed multipart body
            return error_response(request, BadInput(f"cannot read the request: {exc.detail}", param="request body"))
        if exc.status_code == 413:
            return error_response(request, RequestTooLarge(str(exc.detail)))
        return error_response(request, FaceprintError(str(exc.detail)), status=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        loc = [str(p) for e in exc.errors() for p in e.get("loc", ())[1:]]
        return error_response(request, BadInput("invalid arguments", param=", ".join(loc) or "request"))

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - Guard answers first
        rid = _state(request)[0]
        log.error("unhandled error", exc_info=exc, extra={"request_id": rid})
        return error_response(request, FaceprintError(f"internal error; see the server log for request_id {rid}"))

    for module in (detect, compare, search, identify, faceset, face, faceid, passive, video, admin, ops):
        app.include_router(module.router)
    console.mount(app)  # the web console at / (static files; no Node.js at run time)
    app.add_middleware(Guard, config=cfg)
    if cfg.cors_origins:  # outermost, so that Guard's own answers (413, timeout) carry the CORS headers too
        app.add_middleware(CORSMiddleware, allow_origins=list(cfg.cors_origins), allow_methods=["GET", "POST"], allow_headers=["*"], max_age=600)
    return app
