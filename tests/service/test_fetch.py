"""image_url fetches against real loopback peers: a total deadline, a total byte cap, a plain success."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from faceprint.errors import ImageTooLarge
from faceprint.service.config import UrlPolicy
from faceprint.service.errors import ImageDownloadTimeout
from faceprint.service.fetch import fetch

POLICY = UrlPolicy(allow_hosts=("127.0.0.1",), allow_private=True, timeout_s=5.0, deadline_s=4.0, max_bytes=64 * 1024)


def _peer(reply) -> Iterator[int]:
    """A loopback TCP server that hands each connection to ``reply(conn)``; yields its port."""
    srv = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            threading.Thread(target=_talk, args=(conn, reply), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join()
    srv.close()


def _talk(conn: socket.socket, reply) -> None:
    with conn:
        conn.recv(65536)  # the request (one small GET)
        with contextlib.suppress(OSError):  # the client hung up: what a cut fetch looks like from here
            reply(conn)


def _drip(data: bytes, every_s: float = 3.0):
    def reply(conn: socket.socket) -> None:
        for i in range(len(data)):
            conn.sendall(data[i : i + 1])
            time.sleep(every_s)

    return reply


@pytest.fixture()
def body_drip() -> Iterator[int]:
    """Headers at once, then the body one byte every 3 s: no single read ever waits 5 s."""

    def reply(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        _drip(b"x" * 100)(conn)

    yield from _peer(reply)


@pytest.fixture()
def header_drip() -> Iterator[int]:
    """Even the status line comes one byte every 3 s."""
    yield from _peer(_drip(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"))


@pytest.fixture()
def firehose() -> Iterator[int]:
    """No Content-Length, chunks as fast as the socket takes them, for ever."""

    def reply(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        while True:
            conn.sendall(b"\0" * 16384)

    yield from _peer(reply)


@pytest.fixture()
def photo() -> Iterator[int]:
    def reply(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")

    yield from _peer(reply)


@pytest.mark.parametrize("peer", ["body_drip", "header_drip"])
@pytest.mark.serial  # a wall-clock bound: run alone (Makefile, docs/development.md)
def test_a_drip_feeding_peer_is_cut_at_the_total_deadline(request, peer):
    port = request.getfixturevalue(peer)
    start = time.monotonic()
    with pytest.raises(ImageDownloadTimeout) as err:
        fetch(f"http://127.0.0.1:{port}/slow.jpg", POLICY)
    took = time.monotonic() - start
    assert POLICY.deadline_s - 0.1 <= took <= POLICY.deadline_s + 0.5, took
    assert err.value.code == "IMAGE_DOWNLOAD_TIMEOUT" and "total deadline" in err.value.message


def test_the_body_is_cut_at_the_byte_limit(firehose):
    start = time.monotonic()
    with pytest.raises(ImageTooLarge):
        fetch(f"http://127.0.0.1:{firehose}/big.jpg", POLICY)
    assert time.monotonic() - start < 2


def test_a_prompt_peer_is_read_whole(photo):
    assert fetch(f"http://127.0.0.1:{photo}/ok.jpg", POLICY) == b"hello"
