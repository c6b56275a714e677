"""``python -m faceprint.service.healthcheck`` (the image's HEALTHCHECK) against a real server and a closed port."""

from __future__ import annotations

import os
import subprocess
import sys

from .support import ROOT, Server, free_port


def check(port: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FACEPRINT_PORT": str(port)}
    return subprocess.run([sys.executable, "-m", "faceprint.service.healthcheck"], check=False, capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=30)  # fmt: skip


def test_healthy_while_the_server_is_ready(server: Server) -> None:
    out = check(server.port)
    assert out.returncode == 0 and "ok" in out.stdout, out.stdout + out.stderr


def test_unhealthy_when_nothing_answers() -> None:
    out = check(free_port())
    assert out.returncode == 1 and "not ready" in out.stdout, out.stdout + out.stderr
