"""Install without make: the wheel ``pip wheel .`` builds, in a fresh venv outside the checkout.

The venv gets faceprint from the built wheel alone (``pip install --no-deps``); its dependencies
are the test environment's own installed packages, linked in one by one (every entry but
faceprint's), so the test takes seconds instead of a 1 GB download and still runs the wheel's code:
the commands below run from a directory outside the checkout, with no PYTHONPATH, and the test
checks that ``faceprint`` is imported from the new venv.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from service.support import free_port

ROOT = Path(__file__).resolve().parents[1]
OURS = ("faceprint", "__editable__", "_faceprint", "__pycache__")


@dataclass(frozen=True)
class Venv:
    bin: Path
    cwd: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.bin / args[0]), *args[1:]], check=False, capture_output=True, text=True,
                              cwd=self.cwd, env=self.env, timeout=timeout)  # fmt: skip


def link_dependencies(site: Path, into: Path) -> None:
    """Every installed distribution of this environment except faceprint, as symlinks in ``into``."""
    into.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(OURS) and entry.suffix != ".pth":
            (into / entry.name).symlink_to(entry)
    (site / "test-dependencies.pth").write_text(f"{into}\n")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venv]:
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT), "-w", str(dist)],
                           check=False, capture_output=True, text=True, cwd=tmp, timeout=300)  # fmt: skip
    assert built.returncode == 0, built.stderr
    wheel = next(dist.glob("faceprint-*.whl"))
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(tmp / "venv")], check=True, timeout=120)  # type: ignore[attr-defined]
    site = next((tmp / "venv" / "lib").glob("python3*/site-packages"))
    link_dependencies(site, tmp / "deps")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("FACEPRINT_")}
    env["PATH"] = f"{tmp / 'venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    work = tmp / "elsewhere"
    work.mkdir()
    v = Venv(tmp / "venv" / "bin", work, env)
    installed = v.run("python", "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel))
    assert installed.returncode == 0, installed.stderr
    yield v


def test_the_wheel_is_what_runs(venv: Venv) -> None:
    out = venv.run("python", "-c", "import faceprint, importlib.metadata as m, json; "
                   "print(json.dumps([faceprint.__file__, m.distribution('faceprint').read_text('direct_url.json')]))")  # fmt: skip
    assert out.returncode == 0, out.stderr
    where, direct_url = json.loads(out.stdout)
    assert Path(where).is_relative_to(venv.bin.parent) and not Path(where).is_relative_to(ROOT)
    assert json.loads(direct_url)["url"].endswith(".whl")


def test_models_and_compare_run_from_the_wheel(venv: Venv, photos: Path) -> None:
    models = venv.run("faceprint", "models")
    assert models.returncode == 0, models.stderr
    assert "arcface-s" in models.stdout and "sface" in models.stdout
    same = venv.run("faceprint", "compare", str(photos / "obama.jpg"), str(photos / "obama2.jpg"), "--json")
    assert same.returncode == 0, same.stderr  # exit 0: the same person
    other = venv.run("faceprint", "compare", str(photos / "obama.jpg"), str(photos / "biden.jpg"))
    assert other.returncode == 1, other.stderr  # exit 1: not the same person


def test_serve_runs_from_the_wheel_with_its_console_and_docs(venv: Venv, photos: Path) -> None:
    data, port = venv.cwd / "data", free_port()
    made = venv.run("faceprint", "keys", "create", "--name", "wheel", "--scopes", "detect", "--data", str(data), "--json")
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    log = (venv.cwd / "serve.log").open("wb")
    proc = subprocess.Popen([str(venv.bin / "faceprint"), "serve", "--data", str(data), "--port", str(port)],
                            cwd=venv.cwd, env=venv.env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (venv.cwd / "serve.log").read_text()[-2000:]
            try:
                if httpx.get(url + "/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "faceprint serve from the wheel was not ready within 120 s"
            time.sleep(0.3)
        photo = (photos / "obama.jpg").read_bytes()
        r = httpx.post(url + "/facepp/v3/detect", data={"api_key": key["api_key"], "api_secret": key["api_secret"]},
                       files={"image_file": ("obama.jpg", photo, "image/jpeg")}, timeout=60)  # fmt: skip
        assert r.status_code == 200 and len(r.json()["faces"]) == 1, r.text
        assert httpx.get(url + "/", timeout=10).status_code == 200  # the console's static files are in the wheel
        assert "swagger-ui-bundle.js" in httpx.get(url + "/docs", timeout=10).text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
