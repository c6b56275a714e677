"""A throwaway Milvus Lite server (``milvus-lite server``) on a free loopback port."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .postgres import free_port


def _wait_ready(uri: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    from pymilvus import MilvusClient

    end = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"milvus-lite server exited: {log.read_text()[-2000:]}")
        try:
            MilvusClient(uri=uri, timeout=2).list_collections()
            return
        except Exception:  # not listening yet
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


@contextmanager
def milvus_server() -> Iterator[tuple[str, Path, int]]:
    """Yields (``http://127.0.0.1:PORT``, data directory, server pid); stops and deletes it after."""
    root = Path(tempfile.mkdtemp(prefix="faceprint-milvus-"))
    port = free_port()
    exe = Path(sys.executable).with_name("milvus-lite")
    log = root / "log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [str(exe), "server", "--data-dir", str(root / "data"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=fh, stderr=subprocess.STDOUT,
        )  # fmt: skip
    uri = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(uri, proc, log)
        yield uri, root / "data", proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)
