"""The set-up scripts wait for the dpkg lock another apt process holds, and say what they wait for.

A helper process takes apt's own locks (POSIX ``lockf``, as apt and dpkg do: ``flock(1)`` would not
block them) on the real /var/lib/dpkg and /var/lib/apt/lists files for a few seconds, as an
unattended upgrade would. Needs root, as ``make test``'s set-up does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/lib/apt/lists/lock")
HOLD_S = 8.0
APT_RUN = re.compile(r"apt(-get)?\s+(-\S+\s+)*(install|update|upgrade)\b")
HOLDER = """
import fcntl, sys, time
files = [open(p, "a") for p in sys.argv[2:]]
for f in files:
    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("held", flush=True)
time.sleep(float(sys.argv[1]))
"""

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0 or not Path("/var/lib/dpkg").is_dir(), reason="needs root on Debian, as make test"),
    pytest.mark.serial,  # holds the machine's apt locks (and times the wait): run alone, not beside the container test's apt-get
]


@pytest.fixture
def held_lock() -> Iterator[subprocess.Popen[str]]:
    """apt's locks, held by another process for HOLD_S seconds (it waits its turn if apt is busy)."""
    deadline = time.monotonic() + 600
    while True:
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(HOLD_S), *LOCKS], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert holder.stdout is not None
        if holder.stdout.readline().strip() == "held":
            break
        holder.wait()  # somebody's apt holds them right now: try again
        assert time.monotonic() < deadline, "apt's locks stayed busy for 10 minutes"
        time.sleep(2)
    yield holder
    holder.kill()
    holder.wait()


def run(script: str, *args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    out = subprocess.run([str(ROOT / "scripts" / script), *args], check=False, capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=400)  # fmt: skip
    return out, time.monotonic() - start


def test_apt_install_waits_for_the_held_lock_names_its_holder_and_succeeds(held_lock) -> None:
    out, took = run("apt-install.sh", "ca-certificates")  # installed already: apt still needs the locks
    assert out.returncode == 0, out.stderr
    assert "waiting up to 300s" in out.stderr and f"pid {held_lock.pid}" in out.stderr, out.stderr
    assert took >= HOLD_S - 1.5  # it really waited for the holder


def test_without_the_wait_the_same_lock_fails_at_once(held_lock) -> None:
    out, took = run("apt-install.sh", "ca-certificates", APT_LOCK_TIMEOUT="0")
    assert out.returncode != 0 and "lock" in out.stderr.lower(), out.stderr
    assert took < HOLD_S


def test_every_set_up_script_installs_through_the_waiting_helper() -> None:
    """browser-deps.sh, scale-deps.sh and container-test.sh install only when something is missing,
    so under a held lock they would pass by luck on a machine that has it all: read them instead."""
    scripts = sorted((ROOT / "scripts").glob("*.sh"))
    assert {"browser-deps.sh", "scale-deps.sh", "container-test.sh"} <= {p.name for p in scripts}
    for path in scripts:
        if path.name != "apt-install.sh":
            text = path.read_text()
            assert not APT_RUN.search(text), f"{path.name} runs apt-get itself, without the wait"
            assert "apt-install.sh" in text, f"{path.name} does not install through scripts/apt-install.sh"
