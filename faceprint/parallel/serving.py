"""``faceprint serve --processes P``: P uvicorn server processes on one socket, each with its own app.

uvicorn starts each worker with ``spawn`` and builds its app from an import string, so the
settings go to the workers as a file: :func:`serve` writes the :class:`ServiceConfig` (pickled,
mode 0600, removed when the server stops) and names it in ``FACEPRINT_SERVE_CONFIG_FILE``;
:func:`app_factory` reads it in each process. The inference workers (``--workers``) are shared out:
each process gets ``workers // P`` of them (at least 1: then it runs inference itself, on ``cores //
P`` onnxruntime threads unless ``--threads`` says). With SQLite state, each shares the rate limits
and the audit chain with its siblings (:mod:`faceprint.service.processes`).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ErrorReport
from .sizing import cores

STARTUP_FAILURE = 3  # uvicorn.config.STARTUP_FAILURE

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ..service.config import ServiceConfig

CONFIG_ENV = "FACEPRINT_SERVE_CONFIG_FILE"
# uvicorn replaces a worker that does not answer its ping within this (5 s by default): loading the
# models on a busy machine, or a GIL held by a long request, takes longer than that
HEALTHCHECK_S = 120


def worker_config(config: ServiceConfig, processes: int) -> ServiceConfig:
    """The settings each of ``processes`` runs: its share of the inference workers, few intra-op threads unless given."""
    threads = config.threads if config.threads is not None else max(1, cores() // processes)
    return replace(config, threads=threads, workers=max(1, config.workers // processes))


def app_factory() -> FastAPI:
    """Run by uvicorn in each worker process (``factory=True``)."""
    from ..service import create_app
    from ..service.processes import SharedTasks, share_local_state
    from ..service.runtime import Runtime

    with open(os.environ[CONFIG_ENV], "rb") as f:
        config = pickle.load(f)  # noqa: S301 - our own file, written 0600 by the parent a moment ago
    share_local_state()
    try:
        rt = Runtime.build(config)
    except Exception as exc:  # noqa: BLE001 - a bad pack, a cut audit chain...: the same in every worker, so stop them all
        with open(os.environ[CONFIG_ENV] + ".error", "wb") as out:
            pickle.dump(ErrorReport.of(exc), out)
        sys.exit(STARTUP_FAILURE)  # uvicorn's supervisor stops the parent on this exit code
    if not rt.state.shared:  # async task status, readable from every process (PostgreSQL nodes keep theirs apart, as before)
        rt.tasks.close()
        rt.tasks = SharedTasks(rt.data_dir / "tasks.db")
    app: FastAPI = create_app(config, runtime=rt)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[None]:
        async with inner(a):
            yield
        await asyncio.to_thread(rt.close)  # create_app leaves a runtime it was given open

    app.router.lifespan_context = lifespan
    return app


def serve(config: ServiceConfig, processes: int, **uvicorn_options: Any) -> None:
    """Run the service in ``processes`` processes (the parent supervises, binds and restarts them)."""
    import uvicorn

    fd, name = tempfile.mkstemp(prefix="faceprint-serve-", suffix=".config")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(worker_config(config, processes), f)
        os.environ[CONFIG_ENV] = name
        uvicorn.run("faceprint.parallel.serving:app_factory", factory=True, workers=processes, timeout_worker_healthcheck=HEALTHCHECK_S, **uvicorn_options)
        failed = Path(name + ".error")
        if failed.exists():
            with open(failed, "rb") as f:
                report: ErrorReport = pickle.load(f)  # noqa: S301 - written by our own worker, beside the 0600 settings file
            raise report.error()
    finally:
        os.environ.pop(CONFIG_ENV, None)
        for path in (Path(name), Path(name + ".error")):
            path.unlink(missing_ok=True)
