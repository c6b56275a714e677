"""A throwaway PostgreSQL cluster: initdb in a temp directory, pg_ctl on a free loopback port."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise RuntimeError(f"{name} not found: install Debian's postgresql package (scripts/scale-deps.sh)")
    return found


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def postgres_server() -> Iterator[tuple[str, Path]]:
    """Yields (admin URL of the ``postgres`` database, data directory); stops and deletes it after."""
    root = Path(tempfile.mkdtemp(prefix="faceprint-pg-"))
    data = root / "data"
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        _as_owner([pg_bin("initdb"), "-D", str(data), "-U", user, "--auth=trust", "--encoding=UTF8", "--no-sync"]),
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off -c max_connections=200"
    subprocess.run(
        _as_owner([pg_bin("pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "-t", "60", "start"]),
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield f"postgresql://{user}@127.0.0.1:{port}/postgres", data
    finally:
        subprocess.run(_as_owner([pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]), stdout=subprocess.DEVNULL)
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(admin_url: str) -> str:
    """A new empty database on the server; returns its URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name
