"""The ASGI guard in front of the app: time limit and body cap, on a tiny app of our own."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from faceprint.service.app import Guard
from faceprint.service.config import ServiceConfig


async def slow(request: Request) -> JSONResponse:
    await asyncio.sleep(float(request.query_params.get("s", "0")))
    return JSONResponse({"ok": True})


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"n": len(await request.body())})


def _client(**config: object) -> httpx.AsyncClient:
    app = Guard(Starlette(routes=[Route("/slow", slow), Route("/echo", echo, methods=["POST"])]), ServiceConfig(**config))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def test_requests_past_the_time_limit_get_a_clean_500():
    async def go():
        async with _client(request_timeout_s=0.2) as c:
            fast, late = await c.get("/slow?s=0"), await c.get("/slow?s=2")
        return fast, late

    fast, late = asyncio.run(go())
    assert fast.status_code == 200
    assert late.status_code == 500 and late.json()["error_message"] == "INTERNAL_ERROR: timeout"
    assert "Traceback" not in late.text


def test_body_cap_by_header_and_while_streaming():
    async def go():
        async with _client(max_body_bytes=1000) as c:
            ok = await c.post("/echo", content=b"x" * 1000)
            declared = await c.post("/echo", content=b"x" * 1001)

            async def stream():
                for _ in range(5):
                    yield b"x" * 400

            streamed = await c.post("/echo", content=stream())
        return ok, declared, streamed

    ok, declared, streamed = asyncio.run(go())
    assert ok.json() == {"n": 1000}
    assert declared.status_code == streamed.status_code == 413
    assert declared.json()["error_message"] == "REQUEST_ENTITY_TOO_LARGE"
