"""URLs with their secrets masked, for logs and messages (database and vector-index addresses)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def mask_url(url: str, *, hide_user: bool = False) -> str:
    """The URL with any password (user part or ``?password=``; with ``hide_user``, the user name too) as ``***``.

    Safe for logs and messages. ``hide_user`` is for URLs whose user part may itself be a secret,
    such as ``milvus://<api token>@host``.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None and not (hide_user and parts.username) and "password=" not in parts.query:
        return url
    query = "&".join("password=***" if q.startswith("password=") else q for q in parts.query.split("&")) if parts.query else ""
    netloc = parts.netloc
    if parts.password is not None or (hide_user and parts.username):
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        user = "***" if hide_user else f"{parts.username or ''}:***"
        netloc = f"{user}@{host}" + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
