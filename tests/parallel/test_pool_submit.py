"""``EnginePool.submit``: tasks from any thread, each answered as soon as its worker is done."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from faceprint.engine import FaceEngine
from faceprint.errors import FaceprintError
from faceprint.parallel import EnginePool, PoolConfig, WorkerCrashed
from faceprint.parallel.batch import embed_one

from .support import embed_or_die, mixed_photos, pid_of, slow_embed, slow_pid, slow_touch


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _code(fut) -> str:
    exc = fut.exception(timeout=120)
    return "ok" if exc is None else exc.code


def test_submitted_tasks_from_many_threads_run_on_both_workers_and_match_one_engine() -> None:
    photos = [str(p) for p in mixed_photos()[:4]]
    with EnginePool(PoolConfig(workers=2)) as p, ThreadPoolExecutor(4) as threads:
        futs = list(threads.map(lambda item: p.submit(embed_one, item), photos * 2))
        faces = [f.result(timeout=120) for f in futs]
        busy = [p.submit(slow_pid, i) for i in range(2)]
        assert {f.result(timeout=60) for f in busy} == {i.pid for i in p.infos}  # one task per worker at a time: the second goes to the free one
    engine = FaceEngine()
    for path, got in zip(photos * 2, faces, strict=True):
        want = engine.embed(path)
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            assert float(np.dot(a.embedding, b.embedding)) >= 0.99999


def test_a_quick_task_is_answered_before_a_slow_one_sent_first() -> None:
    photo = str(mixed_photos()[0])
    with EnginePool(PoolConfig(workers=2)) as p:
        slow = p.submit(slow_embed, photo)
        quick = p.submit(pid_of, 0)
        assert quick.result(timeout=60) and not slow.done()
        assert slow.result(timeout=60)


def test_a_crash_fails_only_its_task_a_bad_item_its_own_and_a_map_is_refused(tmp_path: Path) -> None:
    photo = str(mixed_photos()[0])
    with EnginePool(PoolConfig(workers=2)) as p:
        futs = [p.submit(embed_or_die, item) for item in (photo, "die", photo, str(tmp_path / "none.jpg"), photo)]
        assert [_code(f) for f in futs] == ["ok", WorkerCrashed.code, "ok", "IMAGE_ERROR_FILE_NOT_FOUND", "ok"]
        assert p.crashes == 1 and len(p.infos) == 2
        with pytest.raises(FaceprintError) as err:
            list(p.map(embed_one, [photo]))
        assert err.value.code == "WORKER_POOL_CLOSED"
    with pytest.raises(FaceprintError) as err:
        p.submit(embed_one, photo)
    assert err.value.code == "WORKER_POOL_CLOSED"


def test_close_runs_what_was_submitted_before_it_and_leaves_no_process() -> None:
    p = EnginePool(PoolConfig(workers=1))
    pid = p.infos[0].pid
    futs = [p.submit(slow_pid, i) for i in range(4)]
    p.close()
    assert [f.result(timeout=0) for f in futs] == [pid] * 4
    assert not _alive(pid)


def test_a_task_cancelled_while_queued_never_runs(tmp_path: Path) -> None:
    """A request that times out cancels its task: its image is not computed (nor held) for nobody."""
    with EnginePool(PoolConfig(workers=1)) as p:
        first = p.submit(slow_touch, str(tmp_path / "first"))
        queued = [p.submit(slow_touch, str(tmp_path / f"queued-{i}")) for i in range(4)]
        assert all(f.cancel() for f in queued)
        last = p.submit(slow_touch, str(tmp_path / "last"))
        assert first.result(timeout=60) and last.result(timeout=60)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["first", "last"]
