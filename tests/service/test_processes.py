"""Service state shared by server processes on one host: one audit chain, one bucket per key, one task table."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from faceprint.service.audit import verify
from faceprint.service.errors import ConcurrencyLimitExceeded, InvalidTaskId
from faceprint.service.processes import FileRateLimiter, SharedFileAudit, SharedTasks

KEY = b"k" * 32


def _append(data: str, n: int, start: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    log = SharedFileAudit(Path(data), key=KEY)
    start.wait()
    for i in range(n):
        log.append(key="ak", tenant="t", endpoint=f"e{i}")
    log.close()


def test_writer_processes_extend_one_chain(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=_append, args=(str(tmp_path), 60, start)) for _ in range(3)]
    for p in procs:
        p.start()
    time.sleep(1.0)
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    verdict = verify(tmp_path, KEY)
    assert verdict.ok and verdict.lines == 180, verdict
    mine = SharedFileAudit(tmp_path, key=KEY)  # a late writer continues the same chain
    assert mine.append(key="ak", tenant="t", endpoint="late")["seq"] == 181
    mine.close()
    assert verify(tmp_path, KEY).ok


def test_one_bucket_per_key_for_every_limiter_on_the_file(tmp_path: Path) -> None:
    a, b = FileRateLimiter(tmp_path / "ratelimit.db"), FileRateLimiter(tmp_path / "ratelimit.db")
    a.check("k", 2.0)
    b.check("k", 2.0)  # the burst of 2 is spent, through both
    with pytest.raises(ConcurrencyLimitExceeded):
        a.check("k", 2.0)
    b.check("other", 2.0)
    time.sleep(0.6)
    b.check("k", 2.0)  # refilled at 2 a second, seen by both
    with pytest.raises(ConcurrencyLimitExceeded):
        a.check("k", 2.0)
    a.close()
    b.close()


def test_a_task_is_readable_from_another_table_owner(tmp_path: Path) -> None:
    here, there = SharedTasks(tmp_path / "tasks.db"), SharedTasks(tmp_path / "tasks.db")
    task = here.submit("t", "addface", lambda: {"face_added": 1})
    deadline = time.monotonic() + 10
    while there.get("t", task.task_id).status != 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert there.get("t", task.task_id).result == {"face_added": 1}
    with pytest.raises(InvalidTaskId):
        there.get("other-tenant", task.task_id)
    here.close()
    there.close()
