"""One process of a data directory runs its video jobs (``serve --workers N``): never twice, resumed once, stopped by a delete through any process."""

from __future__ import annotations

import time
from pathlib import Path

from faceprint.service.job_owner import ProcessLock
from tests.service.support import Server

from .test_video_jobs import CLIP, delete, files_of, finished, running, setup_data, submit, wait


def test_one_holder_at_a_time_and_a_released_lock_is_taken_by_the_next(tmp_path: Path) -> None:
    a, b = ProcessLock(tmp_path / "jobs.lock", retry_s=0.0), ProcessLock(tmp_path / "jobs.lock", retry_s=0.0)
    assert a.try_acquire() and a.held
    assert not a.try_acquire()  # True only for the call that takes it
    assert not b.try_acquire() and not b.held  # a second open file description is refused, even in one process
    a.release()
    assert b.try_acquire() and b.held and not a.held
    paced = ProcessLock(tmp_path / "other.lock", retry_s=60.0)
    blocker = ProcessLock(tmp_path / "other.lock", retry_s=0.0)
    assert blocker.try_acquire()
    assert not paced.try_acquire()
    blocker.release()
    assert not paced.try_acquire()  # it tries at most once a minute
    b.release()


def test_two_processes_resume_a_job_once_run_each_once_and_a_delete_through_either_stops_it(tmp_path: Path, shared: Path, engine: object) -> None:
    data = tmp_path / "data"
    key = setup_data(data, shared, engine)
    clip = (shared / "video" / CLIP).read_bytes()
    first = Server(data)
    try:
        left = submit(first, key, clip, outer_id="stars", detect_every=2).json()["job_id"]
        wait(first, key, left, running)
    finally:
        first.proc.kill()  # a crash mid-job: the job stays "running"
        first.proc.wait()

    both = Server(data, "--processes", "2")
    try:
        done, _ = wait(both, key, left, finished)
        assert done["status"] == "done" and done["runs"] == 2, done  # resumed by one process, once (not failed by the other)
        fresh = submit(both, key, clip, outer_id="stars", detect_every=4).json()["job_id"]
        done, _ = wait(both, key, fresh, finished)
        assert done["status"] == "done" and done["runs"] == 1, done
        doomed = submit(both, key, clip, detect_every=1).json()["job_id"]
        wait(both, key, doomed, running)
        assert delete(both, key, doomed).status_code == 200  # through whichever process the connection reaches
        deadline = time.time() + 20
        while files_of(both, doomed) and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # a run that missed the delete would write its copy again by now
        assert files_of(both, doomed) == []
    finally:
        both.stop()
