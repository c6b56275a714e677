"""``image_url``: refused unless the host is allow-listed, and never to a private address by accident.

A URL is fetched only when its host is in ``UrlPolicy.allow_hosts``. Every address the host
resolves to must be public (not loopback, link-local, private, multicast, reserved or
unspecified) unless that address itself is allow-listed, or ``allow_private`` is set. Plain
``http`` connects to the address that was checked (no DNS rebinding between check and use);
redirects are not followed; the body is cut off at ``max_bytes`` and the whole fetch at
``timeout_s``.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

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
    addrs = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for ip in addrs:
        if _is_private(ip) and not policy.allow_private and str(ip) not in allowed:
            raise InvalidImageUrl(f"{host!r} resolves to a non-public address; allow-list {ip} itself to permit it", param=param)
    if parts.scheme == "http":
        ip = addrs[0]
        netloc = (f"[{ip}]" if ip.version == 6 else str(ip)) + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), parts.netloc.rsplit("@", 1)[-1]
    return url, parts.netloc


def fetch(url: str, policy: UrlPolicy, param: str = "image_url") -> bytes:
    target, host = check_url(url, policy, param)
    try:
        with httpx.Client(timeout=policy.timeout_s, follow_redirects=False, trust_env=False) as client:
            with client.stream("GET", target, headers={"Host": host}) as resp:
                if resp.status_code != 200:
                    raise InvalidImageUrl(f"image_url answered HTTP {resp.status_code}", param=param)
                data = bytearray()
                for chunk in resp.iter_bytes():
                    data += chunk
                    if len(data) > policy.max_bytes:
                        raise ImageTooLarge(f"image at image_url is over {policy.max_bytes} bytes", param=param)
                return bytes(data)
    except httpx.TimeoutException:
        raise ImageDownloadTimeout(f"image_url took longer than {policy.timeout_s:g} s", param=param) from None
    except httpx.HTTPError as exc:
        raise InvalidImageUrl(f"cannot fetch image_url ({type(exc).__name__})", param=param) from None
