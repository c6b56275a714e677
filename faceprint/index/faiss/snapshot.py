"""Index snapshot files: one data file and a ``meta.json`` naming it, written atomically.

A snapshot records the store generation it reflects and how many vectors it holds, so a process
that opens it can tell whether it is stale. Writing goes data file, fsync, rename; then meta, fsync,
rename; then the directory is fsynced and every other data file is unlinked, so once :func:`write`
returns the only index file left is the new one. With a key the data file is sealed whole.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import EncryptionKeyError

if TYPE_CHECKING:
    from ...gallery.crypto import Cipher

META = "meta.json"
LOCK = ".lock"


@dataclass(frozen=True)
class SnapshotMeta:
    spec: str
    dim: int
    generation: int
    count: int
    file: str


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write(folder: Path, meta: SnapshotMeta, data: bytes, cipher: Cipher, aad: bytes) -> SnapshotMeta:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"index-{meta.generation}-{secrets.token_hex(4)}.bin"
    meta = SnapshotMeta(meta.spec, meta.dim, meta.generation, meta.count, name)
    _write_file(folder / name, cipher.seal(data, aad))
    _write_file(folder / META, json.dumps(asdict(meta)).encode())
    _fsync_dir(folder)
    for other in folder.iterdir():
        if other.name not in (name, META, LOCK):
            other.unlink(missing_ok=True)
    _fsync_dir(folder)
    return meta


def read(folder: Path, cipher: Cipher, aad: bytes) -> tuple[SnapshotMeta, bytes] | None:
    """The current snapshot, or None when there is none or it cannot be read (it will be rebuilt)."""
    try:
        meta = SnapshotMeta(**json.loads((folder / META).read_text()))
        blob = (folder / meta.file).read_bytes()
    except (OSError, ValueError, TypeError):
        return None
    try:
        return meta, cipher.open(blob, aad)
    except EncryptionKeyError:
        return None


def clear(folder: Path) -> None:
    """Remove every index file of a gallery (its store rows are the truth)."""
    if not folder.exists():
        return
    for other in folder.iterdir():
        if other.name != LOCK:
            other.unlink(missing_ok=True)


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
