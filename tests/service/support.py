"""A real ``faceprint serve`` process on a free loopback port, and keys made with the real CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "faceprint.cli.main", *args], capture_output=True, text=True, check=check, cwd=ROOT)


@dataclass(frozen=True)
class Key:
    api_key: str
    api_secret: str
    tenant: str

    @property
    def auth(self) -> dict[str, str]:
        return {"api_key": self.api_key, "api_secret": self.api_secret}


def make_key(data: Path, scopes: str, qps: float = 1000, tenant: str | None = None) -> Key:
    args = ["keys", "create", "--name", "test", "--scopes", scopes, "--qps", str(qps), "--data", str(data), "--json"]
    if tenant:
        args += ["--tenant", tenant]
    out = json.loads(cli(*args).stdout)
    return Key(out["api_key"], out["api_secret"], out["tenant"])


class Server:
    def __init__(self, data: Path, *flags: str, env: dict[str, str] | None = None) -> None:
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data / "server.log"
        data.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "faceprint.cli.main", "serve", "--data", str(data), "--port", str(self.port), *flags]
        with open(self.log, "wb") as log:  # the server writes its own copy; ours closes here
            env = {**os.environ, "FACEPRINT_WORKERS": "1", **(env or {})}  # one process unless a test asks (tests/parallel/test_serving.py)
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
        self._wait()

    def _wait(self, timeout: float = 120.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not become ready")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
