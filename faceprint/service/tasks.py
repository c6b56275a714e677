"""``faceset/async/*``: jobs run one at a time on a worker thread; their status is kept in memory.

A task is visible only to the tenant that started it; another tenant's task id (or an unknown
one) is ``INVALID_TASK_ID``. Task records live until the process exits (at most ``keep``).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..errors import FaceprintError
from .errors import InvalidTaskId


@dataclass
class Task:
    task_id: str
    tenant: str
    kind: str  # "addface" | "removeface"
    status: int = 0  # Face++: 0 running, 1 finished
    result: dict[str, object] = field(default_factory=dict)
    error: str | None = None


class Tasks:
    def __init__(self, keep: int = 10_000) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="faceprint-task")
        self._tasks: OrderedDict[str, Task] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep

    def submit(self, tenant: str, kind: str, work: Callable[[], dict[str, object]]) -> Task:
        task = Task("tsk_" + secrets.token_hex(12), tenant, kind)
        with self._lock:
            self._tasks[task.task_id] = task
            while len(self._tasks) > self._keep:
                self._tasks.popitem(last=False)

        def run() -> None:
            try:
                task.result = work()
            except FaceprintError as exc:
                task.error = exc.code
            except Exception:  # noqa: BLE001 - recorded as the task's outcome, not raised into the pool
                task.error = "INTERNAL_ERROR"
            task.status = 1

        self._pool.submit(run)
        return task

    def get(self, tenant: str, task_id: str) -> Task:
        with self._lock:
            task = self._tasks.get(task_id)
        if task is None or task.tenant != tenant:
            raise InvalidTaskId("no task with this task_id", param="task_id")
        return task

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
