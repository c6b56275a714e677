"""Default worker counts: the cores this process may use, FACEPRINT_WORKERS over them, bad values refused by code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from faceprint.errors import SettingsError
from faceprint.parallel import cores, default_workers, worker_threads

ROOT = Path(__file__).resolve().parents[2]


def test_default_is_the_affinity_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FACEPRINT_WORKERS", raising=False)
    assert default_workers() == cores() == len(os.sched_getaffinity(0))
    pinned = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c", "from faceprint.parallel import default_workers; print(default_workers())"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True,
    )  # fmt: skip
    assert pinned.stdout.strip() == "1"


def test_flag_then_environment_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEPRINT_WORKERS", "3")
    assert default_workers() == 3
    assert default_workers(5) == 5
    monkeypatch.setenv("FACEPRINT_WORKER_THREADS", "2")
    assert worker_threads() == 2


@pytest.mark.parametrize("raw", ["0", "-2", "many", "1000"])
def test_bad_values_are_settings_errors(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("FACEPRINT_WORKERS", raw)
    with pytest.raises(SettingsError) as err:
        default_workers()
    assert err.value.code == "SETTINGS_ERROR" and "FACEPRINT_WORKERS" in err.value.message
