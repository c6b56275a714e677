"""`make lint` (strict mypy over faceprint/, ruff over faceprint/, tests/ and bench/) runs first in `make test`.

The checks themselves run on small files written here, with the project's own configuration, so a
config that stopped catching untyped code or a blind ``except`` fails this test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_make_test_runs_lint_before_pytest_and_ci_runs_make_test() -> None:
    if shutil.which("make") is None:
        pytest.skip("needs make")
    plan = subprocess.run(["make", "-n", "test", f"STAMP={ROOT / 'pyproject.toml'}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    lines = plan.splitlines()
    ruff, mypy, pytest_run = (next(i for i, line in enumerate(lines) if what in line) for what in ("-m ruff check", "-m mypy", "-m pytest"))
    assert ruff < mypy < pytest_run, plan
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_linters_are_pinned_in_the_test_extra_at_the_versions_installed() -> None:
    pins = dict(p.split("==") for p in PYPROJECT["project"]["optional-dependencies"]["test"] if "==" in p)
    for name in ("mypy", "ruff"):
        assert pins[name] == metadata.version(name), name
    assert PYPROJECT["tool"]["mypy"]["strict"] is True and PYPROJECT["tool"]["mypy"]["files"] == ["faceprint"]


def _write(tmp_path: Path, source: str) -> Path:
    pkg = tmp_path / "faceprint"  # the per-file rules are keyed on faceprint/...
    pkg.mkdir()
    path = pkg / "probe.py"
    path.write_text(source, encoding="utf-8")
    return path


def test_ruff_with_our_config_rejects_a_blind_except_and_an_assert_in_the_package(tmp_path: Path) -> None:
    path = _write(tmp_path, 'def f(x: int) -> int:\n    assert x > 0\n    try:\n        return 1 // x\n    except Exception:\n        return 0\n')
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--config", str(ROOT / "pyproject.toml"), "--output-format", "concise", str(path)],
                         cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 1 and "S101" in out.stdout and "BLE001" in out.stdout, out.stdout


def test_mypy_with_our_config_rejects_an_untyped_function(tmp_path: Path) -> None:
    path = _write(tmp_path, "def f(x):\n    return x\n")
    out = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--no-incremental", str(path)],
                         cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 1 and "no-untyped-def" in out.stdout, out.stdout
