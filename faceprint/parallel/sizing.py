"""How many inference workers: one per core this process may run on, unless told.

``FACEPRINT_WORKERS`` (or ``--workers``) overrides it; each worker runs its models with
``FACEPRINT_WORKER_THREADS`` (default 1) onnxruntime intra-op threads, because these small
models scale across images far better than inside one image (docs/performance.md).
"""

from __future__ import annotations

import os

from ..errors import SettingsError

MAX_WORKERS = 256


def cores() -> int:
    """The cores this process may run on (its affinity mask: ``taskset`` and cgroups count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _positive(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number of workers; got {raw!r}", setting=name) from None
    if not 1 <= value <= MAX_WORKERS:
        raise SettingsError(f"{name} must be between 1 and {MAX_WORKERS}; got {value}", setting=name)
    return value


def default_workers(requested: int | None = None) -> int:
    """``requested`` if given, else ``$FACEPRINT_WORKERS``, else the cores found."""
    if requested is not None:
        return _positive("--workers", str(requested))
    raw = os.environ.get("FACEPRINT_WORKERS", "").strip()
    return _positive("FACEPRINT_WORKERS", raw) if raw else cores()


def worker_threads() -> int:
    """onnxruntime intra-op threads per worker: ``$FACEPRINT_WORKER_THREADS`` or 1."""
    raw = os.environ.get("FACEPRINT_WORKER_THREADS", "").strip()
    return _positive("FACEPRINT_WORKER_THREADS", raw) if raw else 1
