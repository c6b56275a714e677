"""Micro-batching: concurrent requests share one detector and one embedder call.

Requests hand decoded images to :class:`MicroBatcher`; a worker thread takes the first, waits up
to ``window_ms`` for more (at most ``max_batch``), then runs the whole group through
:func:`analyse` (one detector call per input size, one landmark call per image, one embedder
call for every face) and hands each request its faces. ``workers`` threads (default 2) do this
side by side, so one group computes while the next one gathers. With batching off, :func:`analyse` runs
per request in the thread pool instead. Either way inference never runs on the event loop.
``bench/server_load.py`` measures one against the other.

Given an :class:`~faceprint.parallel.EnginePool` (``faceprint serve --workers N``), each request is
one task for the first free worker process: every core computes, and no request waits behind a
busy process while another is idle, whichever connection it came on. Requests are not grouped
then: on CPU a group gained nothing (0.94x, bench/server_load.py), and a group in one worker would
leave the others idle.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace

import anyio.to_thread
import numpy as np

from .. import pipeline
from ..engine import FaceEngine
from ..parallel import EnginePool
from ..types import Face
from .config import BatchPolicy

log = logging.getLogger(__name__)


def analyse(engine: FaceEngine, imgs: Sequence[np.ndarray], detect_together: bool = True) -> list[list[Face]]:
    """Every face of every image, largest first, with pose, quality, 106 landmarks and embedding.

    ``detect_together``: one detector call for all same-size images; else one call per image
    (on small CPUs a big detector batch is slower per image than single calls: see the bench).
    The embedder always gets every face of the group at once (it chunks as suits the hardware).
    """
    steps = replace(engine.steps(landmarks=True), detect_together=detect_together)
    return pipeline.analyse(engine.models, [engine.load(img) for img in imgs], steps)  # load: the size limits


def _analyse_in_worker(engine: FaceEngine, job: tuple[list[np.ndarray], bool]) -> list[list[Face]]:
    """:func:`analyse` in a pool worker, on its own engine."""
    imgs, together = job
    return analyse(engine, imgs, together)


@dataclass
class _Job:
    img: np.ndarray
    future: Future[list[Face]]


class MicroBatcher:
    def __init__(
        self, engine: FaceEngine, policy: BatchPolicy, on_batch: Callable[[int], None] | None = None, pool: EnginePool | None = None
    ) -> None:
        self.engine = engine
        self.policy = policy
        self.pool = pool
        self._on_batch = on_batch
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._workers: list[threading.Thread] = []
        if policy.enabled and pool is None:
            for i in range(max(1, policy.workers)):
                worker = threading.Thread(target=self._run, name=f"faceprint-batcher-{i}", daemon=True)
                worker.start()
                self._workers.append(worker)

    async def faces(self, img: np.ndarray) -> list[Face]:
        if self.pool is not None:
            if self._on_batch is not None:
                self._on_batch(1)
            return (await asyncio.wrap_future(self.pool.submit(_analyse_in_worker, ([img], self.policy.detect_together))))[0]
        if not self._workers:
            return (await anyio.to_thread.run_sync(analyse, self.engine, [img]))[0]
        fut: Future[list[Face]] = Future()
        self._queue.put(_Job(img, fut))
        return await asyncio.wrap_future(fut)

    def close(self) -> None:
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            worker.join(timeout=10)
        self._workers = []

    def _collect(self, first: _Job) -> tuple[list[_Job], bool]:
        batch, stop = [first], False
        deadline = time.monotonic() + self.policy.window_ms / 1000.0
        while len(batch) < self.policy.max_batch:
            left = deadline - time.monotonic()
            try:
                job = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                stop = True
                break
            batch.append(job)
        return batch, stop

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = self._collect(first)
            self._process(batch)
            if stop:
                return

    def _process(self, batch: list[_Job]) -> None:
        if self._on_batch is not None:
            self._on_batch(len(batch))
        try:
            results = analyse(self.engine, [j.img for j in batch], self.policy.detect_together)
        except Exception as exc:  # noqa: BLE001 - handed to the waiting request's future; one bad input must not fail its neighbours: retry them one by one
            if len(batch) > 1:
                for job in batch:
                    self._process([job])
            else:
                batch[0].future.set_exception(exc)
            return
        for job, faces in zip(batch, results, strict=True):
            job.future.set_result(faces)
