"""Where the Milvus backend connects: the server's address, parsed from the index URL.

Address: ``milvus://host:port[/database][?timeout=S&write_timeout=S&erase=compact|rewrite]``, or
``milvus+https://`` for TLS. ``timeout`` bounds searches and metadata calls (default 10 s),
``write_timeout`` writes, flushes and compactions (default 120 s: Milvus Lite flushes inside the
insert call that fills its memtable). Credentials come from ``$FACEPRINT_MILVUS_TOKEN`` (``user:password`` or an API key), or from
the URL's user part (``milvus://user:password@host:19530``); prefer the variable, since URLs end up
in logs and process listings.

How a gallery's spec becomes a Milvus index is :mod:`faceprint.index.milvus.plan`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from ...errors import InvalidIndexSpec

TOKEN_ENV = "FACEPRINT_MILVUS_TOKEN"  # noqa: S105 - the name of the variable holding the token, not a token
DEFAULT_PORT = 19530
ERASE_MODES = ("compact", "rewrite")


@dataclass(frozen=True)
class MilvusAddress:
    uri: str  # what pymilvus connects to: http(s)://host:port
    token: str = field(default="", repr=False)
    db_name: str = ""
    timeout: float = 10.0  # seconds per search or metadata call
    write_timeout: float = 120.0  # seconds per insert, upsert, delete, flush, compaction or DDL call
    erase: str | None = None  # None: "rewrite" on Milvus Lite, "compact" elsewhere (see the backend's doc)


def parse_address(url: str, environ: dict[str, str] | None = None) -> MilvusAddress:
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    scheme = {"milvus": "http", "milvus+https": "https"}.get(parts.scheme)
    if scheme is None or not parts.hostname:
        raise InvalidIndexSpec(f"a Milvus index URL is milvus://host:port or milvus+https://host:port; got {url!r}", index=url)
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise InvalidIndexSpec(f"bad port in {url!r}", index=url) from None
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = set(query) - {"timeout", "write_timeout", "erase"}
    if unknown:
        raise InvalidIndexSpec(f"unknown Milvus URL options {sorted(unknown)}; known: timeout, write_timeout, erase", index=url)
    timeout = _seconds(query, "timeout", 10.0, url)
    write_timeout = _seconds(query, "write_timeout", 120.0, url)
    erase = query.get("erase")
    if erase is not None and erase not in ERASE_MODES:
        raise InvalidIndexSpec(f"erase must be one of {', '.join(ERASE_MODES)}; got {erase!r}", index=url)
    token = env.get(TOKEN_ENV, "")
    if not token and parts.username:
        token = unquote(parts.username) + (f":{unquote(parts.password)}" if parts.password is not None else "")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    db = parts.path.strip("/")
    if db and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,254}", db):
        raise InvalidIndexSpec(f"bad Milvus database name {db!r}", index=url)
    return MilvusAddress(f"{scheme}://{host}:{port}", token, db, timeout, write_timeout, erase)


def _seconds(query: dict[str, str], key: str, default: float, url: str) -> float:
    try:
        value = float(query.get(key, default))
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise InvalidIndexSpec(f"{key} must be 0-3600 seconds; got {query[key]!r}", index=url)
    return value
