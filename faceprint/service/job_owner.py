"""Which process of a data directory runs its video jobs: the one holding an exclusive ``flock``.

``faceprint serve --processes N`` runs N processes on one data directory, and each one's
:class:`~faceprint.service.video_jobs.VideoJobs` would otherwise re-queue the jobs a previous run
left ``running`` and run them again, beside the process already running them. The lock file
settles it: its holder recovers what a previous run left and runs every queued job (whichever
process accepted it); the others accept and answer for jobs but run none, and try the lock again
now and then, so a holder that dies (the kernel drops its lock) is replaced by a sibling or by
the worker uvicorn starts in its place.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path


class ProcessLock:
    def __init__(self, path: Path, retry_s: float = 1.0) -> None:
        self.path, self.retry_s = path, retry_s
        self._fd: int | None = None
        self._tried = float("-inf")
        self._lock = threading.Lock()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """True only for the call that takes the lock; tries at most once every ``retry_s``."""
        with self._lock:
            now = time.monotonic()
            if self._fd is not None or now - self._tried < self.retry_s:
                return False
            self._tried = now
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
            self._fd = fd
            return True

    def release(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)  # closing the descriptor drops the flock
                self._fd = None
