"""A pool of inference processes, each with its own FaceEngine: parallelism across images.

    with EnginePool(PoolConfig(workers=4)) as pool:          # default: one worker per core
        for outcome in pool.map(embed_path, paths):           # in input order
            faces = outcome.get()                             # raises that item's error

    pool.submit(fn, item)   # or from any thread: a concurrent.futures.Future, answered as soon as done

onnxruntime parallelises these small models poorly inside one image (two threads gave +3% on
portraits); separate processes with one intra-op thread each scale with the cores. Workers are
started with ``spawn`` (never ``fork`` after onnxruntime made threads) and fed by the parent from
one queue, one task each at a time, so that no task waits behind a busy worker while another is
idle (``submit``: a dispatcher thread feeds them and answers the futures). A
worker that dies fails the item it was on with ``WORKER_CRASHED`` (the items queued behind it go
to the others) and is replaced; Ctrl-C in the parent stops every worker; ``close`` leaves no
process behind.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Generic, Self, TypeVar

from ..engine import EngineConfig, FaceEngine
from ..errors import FaceprintError
from . import worker
from .errors import PoolClosed, WorkerCrashed
from .sizing import default_workers, worker_threads
from .worker import Broken, Done, Ready, Task, WorkerInfo

T = TypeVar("T")
R = TypeVar("R")

_ENV_LOCK = threading.Lock()
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class PoolConfig:
    workers: int | None = None  # None: $FACEPRINT_WORKERS, else one per core
    threads: int | None = None  # onnxruntime intra-op threads per worker; None: $FACEPRINT_WORKER_THREADS, else 1
    engine: EngineConfig = field(default_factory=EngineConfig)  # what each worker builds (its threads are overridden)
    # Tasks a worker holds at once in ``map``. 1: the next one is sent as an answer comes back. Two
    # ahead saved nothing measurable (the round trip is well under a millisecond) and at the end of
    # a pass left one worker holding two images while the other idled: groups 13.3-13.5 images/s
    # against 14.0-14.3 with 1, same run (2 cores).
    depth: int = 1
    start_timeout_s: float = 180.0  # loading the models in a worker


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """One item's answer: its value, or the error that stopped it (with its stable code)."""

    value: R | None = None
    error: FaceprintError | None = None

    def get(self) -> R:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


@contextmanager
def _child_env(threads: int) -> Iterator[None]:
    """BLAS/OpenMP thread counts for a spawned child: they are read at its import, from the environment."""
    with _ENV_LOCK:
        saved = {k: os.environ.get(k) for k in _THREAD_VARS}
        os.environ.update({k: str(threads) for k in _THREAD_VARS})
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def _call(engine: FaceEngine, job: tuple[Callable[[FaceEngine, Any], Any], Any]) -> Any:
    """A submitted task as the worker runs it: ``fn(engine, item)``."""
    fn, item = job
    return fn(engine, item)


@dataclass
class _Slot:
    proc: BaseProcess
    conn: Connection
    info: WorkerInfo | None = None
    inflight: deque[int] = field(default_factory=deque)


class EnginePool:
    def __init__(self, config: PoolConfig | None = None) -> None:
        self.config = config or PoolConfig()
        self.size = default_workers(self.config.workers)
        threads = self.config.threads or worker_threads()
        self._engine_config = replace(self.config.engine, threads=threads)
        self._ctx = multiprocessing.get_context("spawn")
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._slots: list[_Slot] = []
        self.crashes = 0
        self._jobs: queue.SimpleQueue[tuple[Callable[[FaceEngine, Any], Any], Any, Future[Any]] | None] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()  # a submit wakes the dispatcher out of its wait on the workers
        os.set_blocking(self._wake_w, False)  # a full pipe is awake enough
        self._dispatcher: threading.Thread | None = None
        self._submit_lock = threading.Lock()
        self._closed = False
        try:
            for _ in range(self.size):
                self._slots.append(self._start())
            for slot in self._slots:
                self._ready(slot)
        except BaseException:
            self.close()
            raise

    # -- workers --------------------------------------------------------------------------------
    def _start(self) -> _Slot:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=worker.main, args=(child, self._engine_config), name="faceprint-worker", daemon=True)
        with _child_env(self._engine_config.threads or 1):
            proc.start()
        child.close()
        return _Slot(proc, parent)

    def _ready(self, slot: _Slot) -> _Slot:
        """Wait for the worker's models to load; its error (a bad pack...) is the pool's."""
        if not slot.conn.poll(self.config.start_timeout_s):
            raise WorkerCrashed(f"a worker did not load its models within {self.config.start_timeout_s:g} s")
        try:
            msg = slot.conn.recv()
        except (EOFError, OSError):
            raise WorkerCrashed(f"a worker died while loading its models (exit {slot.proc.exitcode})") from None
        if isinstance(msg, Broken):
            raise msg.error.error()
        if not isinstance(msg, Ready):
            raise WorkerCrashed(f"a worker answered {type(msg).__name__} while loading its models")
        slot.info = msg.info
        return slot

    @property
    def infos(self) -> list[WorkerInfo]:
        """Each live worker's pid, threads and memory (RSS after loading, and the models' share of it)."""
        return [s.info for s in self._slots if s.info is not None]

    def rss_mb(self) -> list[float]:
        """Each worker's resident memory now."""
        return [worker.rss_mb(s.proc.pid or 0) for s in self._slots]

    # -- work -----------------------------------------------------------------------------------
    def map(self, fn: Callable[[FaceEngine, T], R], items: Iterable[T]) -> Iterator[Outcome[R]]:
        """``fn(engine, item)`` for every item in the workers, answered in input order.

        ``fn`` must be a module-level function (it is pickled by name); an item should be a path
        or another small value rather than decoded pixels. One ``map`` at a time per pool."""
        if not self._slots:
            raise PoolClosed("the worker pool is closed")
        if not self._lock.acquire(blocking=False):
            raise PoolClosed("this pool is running a map or has taken a submit: one at a time")
        try:
            yield from self._run(fn, items)
        finally:
            self._lock.release()

    def _run(self, fn: Callable[[FaceEngine, T], R], items: Iterable[T]) -> Iterator[Outcome[R]]:
        source = iter(items)
        first = next(self._ids)
        order = itertools.count(first)
        todo: deque[tuple[int, T]] = deque()  # items given back by a worker that died
        sent: dict[int, T] = {}
        done: dict[int, Outcome[R]] = {}
        want, exhausted = first, False

        def take() -> tuple[int, T] | None:
            nonlocal exhausted
            if exhausted:
                return None
            try:
                item = next(source)
            except StopIteration:
                exhausted = True
                return None
            return next(order), item

        try:
            while True:
                self._feed(fn, take, todo, sent, self.config.depth)
                if want in done:
                    yield done.pop(want)
                    want += 1
                    continue
                if exhausted and not sent and not todo:
                    return
                self._collect(sent, done, todo)
        except GeneratorExit:  # the caller stopped early: let the tasks sent finish, unread
            while any(s.inflight for s in self._slots):
                self._collect(sent, {}, deque())
            raise
        except BaseException:  # Ctrl-C, or an item iterator that failed: stop every worker
            self.close()
            raise

    def _feed(self, fn: Callable[[FaceEngine, T], R], take: Callable[[], tuple[int, T] | None],
              todo: deque[tuple[int, T]], sent: dict[int, T], depth: int) -> None:  # fmt: skip
        """Send each worker tasks until it has ``depth``: first those given back, then ``take()``'s."""
        for slot in sorted(self._slots, key=lambda s: len(s.inflight)):
            while len(slot.inflight) < depth:
                task = todo.popleft() if todo else take()
                if task is None:
                    return
                tid, item = task
                sent[tid] = item
                slot.inflight.append(tid)
                try:
                    slot.conn.send(Task(tid, fn, item))
                except (BrokenPipeError, OSError):
                    break  # the worker is gone: _collect sees its sentinel and gives its items back

    # -- submit: any thread, answered out of order ----------------------------------------------
    def submit(self, fn: Callable[[FaceEngine, T], R], item: T) -> Future[R]:
        """``fn(engine, item)`` in the first free worker; the future raises that item's error.

        Thread-safe. A worker that dies fails only the item it was on. Once a pool has taken a
        ``submit``, it takes no ``map``."""
        fut: Future[R] = Future()
        with self._submit_lock:
            if self._closed or not self._slots:
                raise PoolClosed("the worker pool is closed")
            if self._dispatcher is None:
                if not self._lock.acquire(blocking=False):
                    raise PoolClosed("this pool is running a map: one mode at a time")
                self._dispatcher = threading.Thread(target=self._dispatch, name="faceprint-pool-dispatch", daemon=True)
                self._dispatcher.start()
            self._jobs.put((fn, item, fut))
            with contextlib.suppress(BlockingIOError):
                os.write(self._wake_w, b"x")
        return fut

    def _dispatch(self) -> None:
        """The submit loop: one task per worker at a time, each answer to its future at once."""
        futures: dict[int, Future[Any]] = {}
        sent: dict[int, Any] = {}
        done: dict[int, Outcome[Any]] = {}
        todo: deque[tuple[int, Any]] = deque()
        closing = False

        def take() -> tuple[int, Any] | None:
            nonlocal closing
            while not closing:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    return None
                if job is None:
                    closing = True
                elif job[2].set_running_or_notify_cancel():
                    tid = next(self._ids)
                    futures[tid] = job[2]
                    return tid, job[:2]
            return None

        try:
            while True:
                self._feed(_call, take, todo, sent, 1)
                if closing and not sent and not todo:
                    break
                self._collect(sent, done, todo, wake=None if closing else self._wake_r)
                for tid, outcome in done.items():
                    fut = futures.pop(tid)
                    if outcome.error is None:
                        fut.set_result(outcome.value)
                    else:
                        fut.set_exception(outcome.error)
                done.clear()
        except BaseException as exc:  # noqa: BLE001 - a replacement worker that cannot load its models: every waiting task gets the error
            with self._submit_lock:
                self._closed = True
            for fut in futures.values():
                fut.set_exception(exc if isinstance(exc, FaceprintError) else WorkerCrashed(f"the worker pool failed: {exc}"))
        while True:  # what is still queued fails
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None and job[2].set_running_or_notify_cancel():
                job[2].set_exception(PoolClosed("the worker pool closed before this task ran"))

    def _collect(self, sent: dict[int, Any], done: dict[int, Outcome[Any]], todo: deque[tuple[int, Any]], wake: int | None = None) -> None:
        """Wait for any worker's answer or death (or a byte on ``wake``) and take in what came."""
        by_handle: dict[object, _Slot] = {}
        for s in self._slots:
            by_handle[s.conn] = s
            by_handle[s.proc.sentinel] = s
        handles: list[Connection | int] = [h for s in self._slots for h in (s.conn, s.proc.sentinel)]
        for handle in wait([*handles, wake] if wake is not None else handles):
            if handle == wake:
                os.read(wake, 4096)
                continue
            slot = by_handle[handle]
            if slot not in self._slots:
                continue  # already replaced in this round
            if handle is slot.conn:
                try:
                    msg = slot.conn.recv()
                except (EOFError, OSError):
                    self._replace(slot, sent, done, todo)
                    continue
                if isinstance(msg, Done):
                    slot.inflight.remove(msg.id)
                    sent.pop(msg.id, None)
                    done[msg.id] = Outcome(msg.value) if msg.error is None else Outcome(error=msg.error.error())
            elif not slot.conn.poll():  # died, and nothing of it is left to read
                self._replace(slot, sent, done, todo)

    def _replace(self, slot: _Slot, sent: dict[int, Any], done: dict[int, Outcome[Any]], todo: deque[tuple[int, Any]]) -> None:
        """A worker died: the item it was on fails, the ones queued behind it go back, a new worker starts."""
        slot.proc.join(5)
        self.crashes += 1
        code = slot.proc.exitcode
        if slot.inflight:
            tid = slot.inflight.popleft()
            sent.pop(tid, None)
            done[tid] = Outcome(error=WorkerCrashed(f"the worker process died on this item (exit {code})", exit=code))
        todo.extendleft(reversed([(t, sent.pop(t)) for t in slot.inflight if t in sent]))
        slot.conn.close()
        self._slots.remove(slot)
        self._slots.append(self._ready(self._start()))

    # -- shutdown -------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop every worker: asked first, then terminated, then killed; each one is reaped.

        Tasks submitted before it still run (a graceful stop: a server closes its pool once its
        requests are answered); a ``submit`` after it raises ``WORKER_POOL_CLOSED``."""
        with self._submit_lock:
            self._closed = True
            dispatcher = self._dispatcher
            if dispatcher is not None:
                self._jobs.put(None)
                with contextlib.suppress(BlockingIOError):
                    os.write(self._wake_w, b"x")
        if dispatcher is not None and dispatcher is not threading.current_thread():
            dispatcher.join()
        with self._submit_lock:
            slots, self._slots = self._slots, []
        for s in slots:
            with contextlib.suppress(BrokenPipeError, OSError):
                s.conn.send(None)
        for s in slots:
            s.proc.join(5)
            if s.proc.is_alive():
                s.proc.terminate()
                s.proc.join(5)
            if s.proc.is_alive():
                s.proc.kill()
                s.proc.join()
            s.conn.close()
        with self._submit_lock:
            for fd in {self._wake_r, self._wake_w} - {-1}:
                os.close(fd)
            self._wake_r = self._wake_w = -1

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
