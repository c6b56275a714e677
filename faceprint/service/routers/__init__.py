"""One router per resource. Each handler parses its form, calls the library and shapes the reply."""

from __future__ import annotations

import time

from fastapi import Request

AUTH = {"api_key": "Your API key", "api_secret": "Its secret"}
IMAGE = {
    "image_file": "Image upload (multipart)",
    "image_base64": "Image as base64 text",
    "image_url": "Image URL (refused unless the server allow-lists its host)",
}


def doc(**fields: str) -> dict[str, object]:
    """OpenAPI for a Face++ form: every field optional text, uploads as binary."""
    props = {}
    for name, text in {**AUTH, **fields}.items():
        spec: dict[str, object] = {"type": "string", "description": text}
        if name.startswith("image_file"):
            spec["format"] = "binary"
        props[name] = spec
    schema = {"type": "object", "properties": props, "required": ["api_key", "api_secret"]}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}, "application/x-www-form-urlencoded": {"schema": schema}}}}


def head(request: Request) -> dict[str, object]:
    """``request_id`` and ``time_used`` (ms since the request arrived), first in every reply."""
    st = request.scope.get("state", {})
    return {"request_id": st.get("request_id", ""), "time_used": int((time.perf_counter() - st.get("start", time.perf_counter())) * 1000)}
