"""``image_url``: refused unless the host is allow-listed, and never to a private address by accident.

A URL is fetched only when its host is in ``UrlPolicy.allow_hosts``. Every address the host
resolves to must be public (not loopback, link-local, private, multicast, reserved or
unspecified) unless that address itself is allow-listed, or ``allow_private`` is set. Plain
``http`` connects to the address that was checked (no DNS rebinding between check and use);
redirects are not followed.

Three limits hold at once: ``timeout_s`` for each connect, read and write; ``deadline_s`` for the
whole fetch, from the first connect to the last body byte (a peer that drips one byte every few
seconds never trips a per-read timeout, so every socket operation waits at most for what is left
of the deadline); and ``max_bytes`` for the whole body, counted as it arrives.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpcore
import httpx

from ..errors import ImageTooLarge
from .config import UrlPolicy
from .errors import ImageDownloadTimeout, InvalidImageUrl


def _is_private(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(
        ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


def check_url(url: str, policy: UrlPolicy, param: str = "image_url") -> tuple[str, str]:
    """(URL to connect to, Host header) after every check, or INVALID_IMAGE_URL."""
    if not policy.enabled:
        raise InvalidImageUrl("image_url is disabled on this server (see --allow-url-host)", param=param)
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise InvalidImageUrl("image_url must be an http(s) URL with a host and no credentials", param=param)
    allowed = {h.lower().strip("[]") for h in policy.allow_hosts}
    if host not in allowed:
        raise InvalidImageUrl(f"host {host!r} is not on this server's allow-list", param=param)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError):
        raise InvalidImageUrl(f"cannot resolve {host!r}", param=param) from None
    addrs = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for ip in addrs:
        if _is_private(ip) and not policy.allow_private and str(ip) not in allowed:
            raise InvalidImageUrl(f"{host!r} resolves to a non-public address; allow-list {ip} itself to permit it", param=param)
    if parts.scheme == "http":
        ip = addrs[0]
        netloc = (f"[{ip}]" if ip.version == 6 else str(ip)) + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), parts.netloc.rsplit("@", 1)[-1]
    return url, parts.netloc


class _Deadline:
    """What is left of one fetch's total time; every socket operation waits at most that long."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self, timeout: float | None) -> float:
        remaining = self.at - time.monotonic()
        if remaining <= 0:
            raise httpcore.ReadTimeout(f"total deadline of {self.seconds:g} s")
        return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self.inner, self.deadline = inner, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self.deadline.left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self.deadline.left(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self.inner.start_tls(ssl_context, server_hostname, self.deadline.left(timeout)), self.deadline)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, deadline: _Deadline) -> None:
        self.inner, self.deadline = httpcore.SyncBackend(), deadline

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:  # fmt: skip
        stream = self.inner.connect_tcp(host, port, self.deadline.left(timeout), local_address, socket_options)
        return _DeadlineStream(stream, self.deadline)

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


_NETWORK_ERRORS = (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol, httpcore.ConnectionNotAvailable)


def fetch(url: str, policy: UrlPolicy, param: str = "image_url") -> bytes:
    """The body at an allow-listed URL, within ``policy``'s per-operation timeout, total deadline and byte cap."""
    target, host = check_url(url, policy, param)
    deadline = _Deadline(policy.deadline_s)
    t = policy.timeout_s
    timeouts = {"connect": t, "read": t, "write": t, "pool": t}
    try:
        pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(), network_backend=_DeadlineBackend(deadline))
        with pool, pool.stream("GET", target, headers=[(b"Host", host.encode("idna"))], extensions={"timeout": timeouts}) as resp:
            if resp.status != 200:
                raise InvalidImageUrl(f"image_url answered HTTP {resp.status}", param=param)
            data = bytearray()
            for chunk in resp.iter_stream():
                data += chunk
                if len(data) > policy.max_bytes:
                    raise ImageTooLarge(f"image at image_url is over {policy.max_bytes} bytes", param=param)
            return bytes(data)
    except httpcore.TimeoutException:
        took = "its total deadline" if deadline.at <= time.monotonic() else "its per-read timeout"
        raise ImageDownloadTimeout(
            f"image_url took longer than {policy.timeout_s:g} s per read or {policy.deadline_s:g} s in all ({took})", param=param
        ) from None
    except (*_NETWORK_ERRORS, UnicodeError) as exc:
        raise InvalidImageUrl(f"cannot fetch image_url ({type(exc).__name__})", param=param) from None
