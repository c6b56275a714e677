"""The worker process: builds its own FaceEngine once, then runs tasks sent over its pipe.

Started by :class:`~faceprint.parallel.pool.EnginePool` with the ``spawn`` method (a fresh
interpreter: no onnxruntime threads inherited from a fork). Messages on the pipe:

    parent -> worker   Task(id, fn, item), or None to stop
    worker -> parent   Ready(WorkerInfo) once the models are loaded, or Broken(ErrorReport);
                       then Done(id, value, error) per task, in the order the tasks came

``fn(engine, item)`` is any module-level function (pickled by name); the item is a path or a
small value, so images are decoded here, not shipped as pixels.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from .errors import ErrorReport

if TYPE_CHECKING:
    from ..engine import EngineConfig, FaceEngine

TaskFn = Callable[["FaceEngine", Any], Any]


@dataclass(frozen=True)
class WorkerInfo:
    pid: int
    threads: int
    rss_mb: float  # resident memory once the models are loaded
    model_mb: float  # what loading the engine added to it (weights, sessions, arenas)


@dataclass(frozen=True)
class Task:
    id: int
    fn: TaskFn
    item: Any


@dataclass(frozen=True)
class Ready:
    info: WorkerInfo


@dataclass(frozen=True)
class Broken:
    error: ErrorReport


@dataclass(frozen=True)
class Done:
    id: int
    value: Any = None
    error: ErrorReport | None = None


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process, from /proc (0.0 where there is none)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main(conn: Connection, config: EngineConfig) -> None:
    """The worker's whole life; the parent handles Ctrl-C and tells it when to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import cv2

    from ..engine import FaceEngine

    cv2.setNumThreads(config.threads or 1)
    before = rss_mb()
    try:
        engine = FaceEngine(config.pack, config)
    except BaseException as exc:  # noqa: BLE001 - whatever stops the models loading goes back to the parent as its error
        conn.send(Broken(ErrorReport.of(exc)))
        return
    after = rss_mb()
    conn.send(Ready(WorkerInfo(os.getpid(), config.threads or 1, round(after, 1), round(after - before, 1))))
    while True:
        try:
            task = conn.recv()
        except EOFError:  # the parent went away
            return
        if task is None:
            return
        try:
            conn.send(Done(task.id, value=task.fn(engine, task.item)))
        except Exception as exc:  # noqa: BLE001 - every failure is this item's answer; the worker serves on
            conn.send(Done(task.id, error=ErrorReport.of(exc)))
