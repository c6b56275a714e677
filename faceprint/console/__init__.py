"""The web console: static ES modules served at ``/`` (page) and ``/console/`` (assets); no Node.js at run time.

The page talks to the service's own API with the user's key. Every console response carries a
strict Content-Security-Policy (scripts and connections to this origin only, no inline script,
no framing) and ``Referrer-Policy: no-referrer``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

STATIC = Path(__file__).resolve().parent / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
}


class _Secured:
    """Adds the console's security headers to every asset reply."""

    def __init__(self, app: StaticFiles) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *((k.lower().encode(), v.encode()) for k, v in HEADERS.items())]
            await send(message)

        await self.app(scope, receive, with_headers)


def mount(app: FastAPI) -> None:
    """``GET /``: the console page; ``/console/...``: its scripts and styles."""
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=HEADERS)

    @router.get("/favicon.ico")
    def favicon() -> FileResponse:  # browsers ask for it whatever the page's <link rel=icon> says
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml", headers=HEADERS)

    app.include_router(router)
    app.mount("/console", _Secured(StaticFiles(directory=STATIC)), name="console")
