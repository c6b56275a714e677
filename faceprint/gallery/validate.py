"""Checks on what callers name and attach to galleries and faces, with Face++'s limits."""

from __future__ import annotations

import re

from ..errors import BadInput, InvalidOuterId
from .types import MAX_USER_DATA

_OUTER_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,255}$")
_FORBIDDEN = set("^@,&=*'\"")


def outer_id(value: str | None) -> str | None:
    if value is None:
        return None
    if not _OUTER_ID.match(value):
        raise InvalidOuterId(f"outer_id must be 1-255 letters, digits, '-', '_' or '.': {value!r}")
    return value


def _text(kind: str, value: str, limit: int) -> str:
    if len(value) > limit or any(ch in _FORBIDDEN or ord(ch) < 32 for ch in value):
        raise BadInput(f"{kind} must be at most {limit} characters without control characters or ^@,&=*'\": {value!r}")
    return value


def subject(value: str) -> str:
    return _text("user_id", value, 255)


def tags(values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    out = tuple(_text("tag", t, 64) for t in values if t)
    if len(out) > 32:
        raise BadInput("at most 32 tags")
    return out


def display_name(value: str) -> str:
    return _text("display_name", value, 256)


def user_data(value: str) -> str:
    if len(value.encode("utf-8")) > MAX_USER_DATA:
        raise BadInput(f"user_data is limited to {MAX_USER_DATA} bytes")
    return value
