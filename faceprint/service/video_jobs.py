"""Video jobs over HTTP: uploads queued, processed on worker threads, persisted in SQLite.

    POST /v1/video/jobs            -> job_id (the upload is checked first: a bad file is a 400 code)
    GET  /v1/video/jobs/{job_id}   -> status, progress and, once done, the timeline
    POST /v1/video/jobs/{job_id}/annotated -> the annotated copy (mp4), once done
    POST /v1/video/jobs/{job_id}/delete    -> the job, its timeline, upload and annotated copy, gone

Jobs live in ``<data>/video_jobs.db`` and their uploads in ``<data>/video_jobs/`` until they
finish. A job asked to annotate (the default) also writes ``<data>/video_jobs/<job_id>.mp4``:
the video with each tracked face boxed and named, every frame of the source, kept with the job.
At start-up, jobs left ``queued`` go back on the queue and jobs left ``running`` (the
server stopped or died mid-job) start again from the beginning, up to ``max_attempts`` runs in
all (2: a job is retried once); past that, or with the upload gone, a job is ``failed`` with
``JOB_INTERRUPTED`` and the reason. At most ``max_queued`` jobs wait, and at most ``per_tenant``
of them from one tenant, so one tenant cannot fill the queue for the others; one more is refused
(``CONCURRENCY_LIMIT_EXCEEDED``) until the queue drains: the client backs off instead of the
server filling its disk.

FFmpeg never runs in the server process: the upload check and each job decode in a worker
process of their own (:mod:`faceprint.video.isolated`) with an address-space limit
(``FACEPRINT_VIDEO_WORKER_MEMORY_MB``, 2048) and a wall-clock limit
(``FACEPRINT_VIDEO_WORKER_TIMEOUT_S``, 1800). A decoder that crashes fails that job (or that
upload) with ``VIDEO_ERROR_WORKER_CRASHED``, ``VIDEO_ERROR_WORKER_OUT_OF_MEMORY`` or
``VIDEO_ERROR_TIMEOUT``; the server keeps serving.

A timeline names people and an annotated copy shows their faces, so neither is kept for ever:
deleting a job (queued, running or finished) removes its row and files at once, and finished jobs
are deleted ``keep_days`` after they finished (``FACEPRINT_VIDEO_KEEP_DAYS``, 7; 0 keeps them).

With ``serve --processes N``, every process accepts and answers for jobs, and one of them (the holder
of ``<data>/video_jobs.lock``, :mod:`faceprint.service.job_owner`) runs them all: a job is never run
twice at once, and deleting a job through any process stops its run.

Video jobs are node-local, whatever the store: the upload and the annotated copy are files on the
node that took the job, so its row stays in that node's SQLite file too. With several nodes on one
PostgreSQL store, poll and download a job through the node that accepted it (pin by job_id at the
load balancer); another node answers INVALID_JOB_ID. Distributed jobs would need shared storage.

Settings come from the environment when the app starts: ``FACEPRINT_VIDEO_WORKERS`` (1),
``FACEPRINT_VIDEO_QUEUE`` (8), ``FACEPRINT_VIDEO_QUEUE_PER_TENANT`` (3), ``FACEPRINT_VIDEO_MAX_ATTEMPTS`` (2),
``FACEPRINT_VIDEO_KEEP_DAYS`` (7).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..engine import FaceEngine
from ..errors import AnnotatedVideoUnavailable, ConcurrencyLimitExceeded, FaceprintError, InvalidJobId, JobInterrupted, JobNotFinished
from ..video import (
    AnalysisConfig,
    IdentifyConfig,
    SourceConfig,
    VideoOptions,
    open_video,
    process_video,
    video_engine,
)
from ..video.isolated import WorkerLimits
from .db import SqliteDb
from .job_owner import ProcessLock
from .runtime import Runtime, attached, detached

log = logging.getLogger("faceprint.video_jobs")

DB_NAME = "video_jobs.db"
UPLOADS = "video_jobs"
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS jobs (
        job_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, status TEXT NOT NULL,
        created REAL NOT NULL, updated REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        frames_done INTEGER NOT NULL DEFAULT 0, frames_total INTEGER, progress REAL NOT NULL DEFAULT 0,
        upload TEXT, options TEXT NOT NULL, result TEXT, error_code TEXT, error_message TEXT)""",
    "CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created)",
)


class _Stopping(Exception):
    """Raised inside a running job when the server shuts down: the job stays ``running``."""


class _Deleted(Exception):
    """Raised inside a running job that was deleted: the worker drops what it wrote."""


@dataclass(frozen=True)
class JobsConfig:
    workers: int = 1
    max_queued: int = 8
    max_attempts: int = 2  # runs in all: a job found running at start-up is retried once, then failed
    progress_every_s: float = 0.25  # how often a running job writes its progress
    keep_days: float = 7.0  # finished jobs (timeline, annotated copy) are deleted this long after; 0: kept
    sweep_every_s: float = 60.0  # how often an idle worker looks for jobs past keep_days
    per_tenant: int = 3  # jobs one tenant may have waiting
    decoder: WorkerLimits = field(default_factory=WorkerLimits)  # the decoding process of each job
    check_timeout_s: float = 30.0  # the upload check (open, decode the first frame), in its own process too

    @classmethod
    def from_env(cls) -> JobsConfig:
        def num(name: str, default: float) -> float:
            raw = os.environ.get(name)
            return float(raw) if raw else default

        return cls(int(num("FACEPRINT_VIDEO_WORKERS", 1)), int(num("FACEPRINT_VIDEO_QUEUE", 8)),
                   int(num("FACEPRINT_VIDEO_MAX_ATTEMPTS", 2)), keep_days=num("FACEPRINT_VIDEO_KEEP_DAYS", 7.0),
                   per_tenant=int(num("FACEPRINT_VIDEO_QUEUE_PER_TENANT", 3)), decoder=WorkerLimits.from_env())  # fmt: skip


@dataclass(frozen=True)
class JobRequest:
    faceset: str | None  # faceset_token or outer_id; None: everyone is unknown-N
    detect_every: int = 1
    min_face: int = 0
    far: str = "1e-5"
    per_frame: bool = False
    annotate: bool = True  # also write the annotated copy (<job_id>.mp4); rows from before this field default to it

    def options(self, source: SourceConfig | None = None) -> VideoOptions:
        return VideoOptions(AnalysisConfig(detect_every=self.detect_every, min_face=self.min_face), IdentifyConfig(far=self.far),
                            source or SourceConfig())  # fmt: skip


class VideoJobs:
    def __init__(self, rt: Runtime, config: JobsConfig | None = None) -> None:
        self.rt = rt
        self.config = config or JobsConfig.from_env()
        self.db = SqliteDb(rt.data_dir / DB_NAME, SCHEMA, secure_delete=True)  # node-local (see the module doc)
        self.uploads = rt.data_dir / UPLOADS
        self.uploads.mkdir(parents=True, exist_ok=True)
        self._queue: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._engine_lock = threading.Lock()
        self._submit_lock = threading.Lock()
        self._engine: FaceEngine | None = None
        self._threads: list[threading.Thread] = []
        self._deleted: set[str] = set()  # running jobs deleted meanwhile: their worker stops and cleans up
        self._swept = 0.0
        self._owner = ProcessLock(rt.data_dir / "video_jobs.lock")

    # -- lifetime ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Delete jobs past their keep time, re-queue what a previous run left, then start the workers."""
        self.sweep()
        self._claim()
        for k in range(max(self.config.workers, 1)):
            t = threading.Thread(target=self._work, name=f"faceprint-video-{k}", daemon=True)
            t.start()
            self._threads.append(t)

    def _claim(self) -> None:
        """Become the process that runs this data directory's jobs, if none is; then recover what a previous one left."""
        if not self._owner.try_acquire():
            return
        with self.db.write() as c:
            rows = c.execute("SELECT job_id, status, attempts, upload FROM jobs WHERE status IN (?, ?) ORDER BY created",
                             (QUEUED, RUNNING)).fetchall()  # fmt: skip
        for job_id, status, attempts, upload in rows:
            if upload is None or not Path(upload).exists():
                self._fail(job_id, JobInterrupted("the server restarted and the uploaded video is gone"))
            elif status == RUNNING and attempts >= self.config.max_attempts:
                self._fail(job_id, JobInterrupted(f"the server stopped during each of {attempts} runs of this job"))
            else:
                self._set(job_id, status=QUEUED, frames_done=0, progress=0.0)
                self._queue.put(job_id)
                log.info("video job %s resumed after a restart (was %s, %d runs so far)", job_id, status, attempts)

    def close(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)
        self._owner.release()
        self.db.close()

    # -- requests ---------------------------------------------------------------------------------
    def submit(self, tenant: str, data: bytes, request: JobRequest) -> dict[str, object]:
        """Check the upload is a video we can decode, then queue it; a full queue refuses it."""
        with self._submit_lock:
            waiting, mine = self.db.conn().execute(
                "SELECT COUNT(*), COALESCE(SUM(tenant = ?), 0) FROM jobs WHERE status = ?", (tenant, QUEUED)).fetchone()  # fmt: skip
            if waiting >= self.config.max_queued:
                raise ConcurrencyLimitExceeded(f"{waiting} video jobs are waiting; retry when the queue drains", param="video_file")
            if mine >= self.config.per_tenant:
                raise ConcurrencyLimitExceeded(f"{mine} of your video jobs are waiting (the limit per tenant);"
                                               " retry when one starts", param="video_file")  # fmt: skip
            job_id = "vjob_" + secrets.token_hex(12)
            path = self.uploads / f"{job_id}.video"  # FFmpeg reads the container from the bytes, not the name
            path.write_bytes(data)
            try:
                with open_video(path, self._source(self.config.check_timeout_s)) as video:  # a bad file is the caller's 400
                    total = video.info.frame_count
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            now = time.time()
            with self.db.write() as c:
                c.execute(
                    "INSERT INTO jobs (job_id, tenant, status, created, updated, frames_total, upload, options)"
                    " VALUES (?,?,?,?,?,?,?,?)",
                    (job_id, tenant, QUEUED, now, now, total, str(path), json.dumps(vars(request))),
                )
        if self._owner.held:  # else the holder finds it in the table
            self._queue.put(job_id)
        return {"job_id": job_id, "status": QUEUED, "queued_before": waiting}

    def annotated_path(self, job_id: str) -> Path:
        return self.uploads / f"{job_id}.mp4"

    def annotated(self, tenant: str, job_id: str) -> Path:
        """The finished job's annotated mp4; another tenant's job is as unknown as a made-up id."""
        row = self.db.conn().execute("SELECT tenant, status, options FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None or row[0] != tenant:
            raise InvalidJobId("no video job with this job_id", param="job_id")
        if row[1] in (QUEUED, RUNNING):
            raise JobNotFinished(f"the job is {row[1]}; the annotated video is ready when it is done", param="job_id")
        path = self.annotated_path(job_id)
        if row[1] != DONE:
            raise AnnotatedVideoUnavailable("the job failed, so it has no annotated video", param="job_id")
        if not json.loads(row[2]).get("annotate", True) or not path.is_file():
            raise AnnotatedVideoUnavailable("this job was run without annotate, so it kept no annotated video", param="job_id")
        return path

    def delete(self, tenant: str, job_id: str) -> str:
        """Delete a job of this tenant, whatever its state, with its timeline and files; returns the state it had."""
        with self._submit_lock, self.db.write() as c:
            row = c.execute("SELECT tenant, status FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is None or row[0] != tenant:
                raise InvalidJobId("no video job with this job_id", param="job_id")
            c.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,))
            if row[1] == RUNNING:
                self._deleted.add(job_id)  # its worker stops at its next progress report and removes its files
        self._remove_files(job_id)
        self.db.checkpoint()
        return str(row[1])

    def sweep(self, now: float | None = None) -> int:
        """Delete finished jobs older than ``keep_days``; returns how many went."""
        if self.config.keep_days <= 0:
            return 0
        cutoff = (now or time.time()) - self.config.keep_days * 86400.0
        with self.db.write() as c:
            gone = [r[0] for r in c.execute("SELECT job_id FROM jobs WHERE status IN (?, ?) AND updated < ?", (DONE, FAILED, cutoff))]
            c.executemany("DELETE FROM jobs WHERE job_id = ?", [(j,) for j in gone])
        for job_id in gone:
            self._remove_files(job_id)
        if gone:
            self.db.checkpoint()
            log.info("deleted %d video jobs finished over %g days ago", len(gone), self.config.keep_days)
        return len(gone)

    def _remove_files(self, job_id: str) -> None:
        (self.uploads / f"{job_id}.video").unlink(missing_ok=True)
        self.annotated_path(job_id).unlink(missing_ok=True)

    def get(self, tenant: str, job_id: str) -> dict[str, object]:
        row = self.db.conn().execute(
            "SELECT job_id, tenant, status, created, updated, attempts, frames_done, frames_total, progress, options,"
            " result, error_code, error_message FROM jobs WHERE job_id = ?",
            (job_id,),
        ).fetchone()
        if row is None or row[1] != tenant:
            raise InvalidJobId("no video job with this job_id", param="job_id")
        out: dict[str, object] = {
            "job_id": row[0], "status": row[2], "created": round(row[3], 3), "updated": round(row[4], 3),
            "runs": row[5], "frames_done": row[6], "frames_total": row[7], "progress": round(row[8], 4),
            "options": json.loads(row[9]),
        }  # fmt: skip
        if row[10] is not None:
            out["result"] = json.loads(row[10])
        if row[11] is not None:
            out["error"] = {"error_code": row[11], "error_message": row[12]}
        return out

    # -- workers ----------------------------------------------------------------------------------
    def _work(self) -> None:
        while not self._stop.is_set():
            if not self._owner.held:
                self._claim()
                self._stop.wait(0.2)
                continue
            job_id = self._next()
            if job_id is None:
                if time.monotonic() - self._swept >= self.config.sweep_every_s:
                    self._swept = time.monotonic()
                    self.sweep()
                continue
            try:
                self._run(job_id)
            except _Stopping:
                log.info("video job %s interrupted by shutdown; it resumes at the next start", job_id)
                return
            except _Deleted:
                self._deleted.discard(job_id)
                self._remove_files(job_id)
                log.info("video job %s deleted while running; stopped and its files removed", job_id)
            except Exception:  # recorded on the job (and logged); the worker lives on
                log.exception("video job %s crashed", job_id)
                self._fail(job_id, FaceprintError("internal error while processing the video; see the server log"))

    def _next(self) -> str | None:
        """The next job to run: one this process queued, else the oldest queued one (another process may have taken it)."""
        try:
            return self._queue.get(timeout=0.2)
        except queue.Empty:
            row = self.db.conn().execute("SELECT job_id FROM jobs WHERE status = ? ORDER BY created LIMIT 1", (QUEUED,)).fetchone()
            return None if row is None else str(row[0])

    def _run(self, job_id: str) -> None:
        with self.db.write() as c:
            row = c.execute("SELECT tenant, upload, options, status FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is None or row[3] != QUEUED:
                return
            c.execute("UPDATE jobs SET status = ?, attempts = attempts + 1, updated = ? WHERE job_id = ?", (RUNNING, time.time(), job_id))
        tenant, upload, options = row[0], Path(row[1]), JobRequest(**json.loads(row[2]))
        last = [0.0]
        out = self.annotated_path(job_id) if options.annotate else None
        # analysing is most of the work; writing the annotated copy (decode again, draw, encode) the rest
        stages = {"analysing": (0.0, 0.75), "writing": (0.75, 0.23)} if out else {"analysing": (0.0, 0.98)}

        def progress(stage: str, done: int, total: int | None) -> None:
            if self._stop.is_set():
                raise _Stopping
            if job_id in self._deleted:
                raise _Deleted
            now = time.monotonic()
            if now - last[0] >= self.config.progress_every_s:
                last[0] = now
                share = min(done / total, 1.0) if total else 0.0
                base, span = stages.get(stage, (0.98, 0.0))
                cols: dict[str, object] = {"progress": base + span * share}
                if stage == "analysing":  # frames_done counts analysed frames; it stays at the total while writing
                    cols.update(frames_done=done, frames_total=total)
                if not self._set(job_id, **cols):  # deleted through another process
                    raise _Deleted

        try:
            gallery = self.rt.gallery.gallery(options.faceset, tenant=tenant) if options.faceset else None
            opts = options.options(self._source(self.config.decoder.timeout_s))
            result = process_video(upload, gallery, opts, engine=self._video_engine(), out=out, progress=progress)
        except FaceprintError as exc:
            self._fail(job_id, exc)
            upload.unlink(missing_ok=True)
            return
        body = result.to_dict(per_frame=options.per_frame)
        if job_id in self._deleted or not self._set(job_id, status=DONE, frames_done=result.stats.frames, progress=1.0, result=json.dumps(body)):
            raise _Deleted  # deleted after its last progress report
        upload.unlink(missing_ok=True)
        log.info("video job %s done: %d frames, %.2fx real time", job_id, result.stats.frames, result.realtime_factor)

    def _source(self, timeout_s: float) -> SourceConfig:
        """Decoding in a worker process: what FFmpeg does to a hostile file stays there."""
        return SourceConfig(worker=replace(self.config.decoder, timeout_s=timeout_s))

    def _video_engine(self) -> FaceEngine:
        with self._engine_lock:
            if self._engine is None:
                self._engine = video_engine(self.rt.engine.pack.name)
            return self._engine

    def _set(self, job_id: str, **cols: object) -> bool:
        """Update the job's row; False when it is gone (deleted)."""
        cols["updated"] = time.time()
        names = ", ".join(f"{k} = ?" for k in cols)
        with self.db.write() as c:
            return c.execute(f"UPDATE jobs SET {names} WHERE job_id = ?", (*cols.values(), job_id)).rowcount > 0  # noqa: S608 - fixed column names

    def _fail(self, job_id: str, exc: FaceprintError) -> None:
        self._set(job_id, status=FAILED, error_code=exc.code, error_message=exc.message)
        row = self.db.conn().execute("SELECT upload FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row and row[0]:
            Path(row[0]).unlink(missing_ok=True)
        self.annotated_path(job_id).unlink(missing_ok=True)  # a partial copy from an interrupted run


def jobs_for(rt: Runtime) -> VideoJobs:
    """The app's video jobs, kept on the runtime object (started by the app at start-up)."""
    return attached(rt, "_video_jobs", VideoJobs)


def start(rt: Runtime) -> None:
    jobs_for(rt).start()


def stop(rt: Runtime) -> None:
    jobs = detached(rt, "_video_jobs")
    if isinstance(jobs, VideoJobs):
        jobs.close()
