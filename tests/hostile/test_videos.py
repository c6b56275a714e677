"""Tiny, over-size, truncated and mislabelled videos against a real server: a code each, and no crash.

Before the decoders moved into worker processes, three tiny-frame uploads in a row took
``faceprint serve`` down with SIGSEGV in libavformat. ``bench/hostile.py`` sends 100 of them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from .conftest import alive
from .corpus import hostile_videos, mjpeg_declared

VIDEOS = hostile_videos()


def submit(server, key, name: str, data: bytes):
    with server.client() as c:
        return c.post(
            "/v1/video/jobs",
            data={**key.auth, "annotate": "0"},
            files={"video_file": (name, data)},
        )


def outcome(server, key, r, timeout: float = 120.0) -> str:
    """The stable code a hostile upload ends with: refused at once, or its job failed."""
    body = r.json()
    if r.status_code != 200:
        assert r.status_code == 400, r.text
        return body["error_message"].split(":")[0]
    deadline = time.time() + timeout
    with server.client() as c:
        while time.time() < deadline:
            job = c.get(f"/v1/video/jobs/{body['job_id']}", params=key.auth).json()
            if job["status"] == "failed":
                return job["error"]["error_code"]
            assert job["status"] != "done", job
            time.sleep(0.2)
    raise AssertionError(f"job {body['job_id']} never ended")


def test_every_hostile_video_gets_a_code_and_the_server_lives(hostile):
    server, key = hostile
    codes = {}
    for name in sorted(VIDEOS):
        codes[name] = outcome(server, key, submit(server, key, name, VIDEOS[name]))
        assert alive(server), name
    assert all(
        c == "INVALID_IMAGE_SIZE"
        for n, c in codes.items()
        if n.startswith(("tiny", "oversize"))
    ), codes
    assert codes["truncated.mp4"] == "VIDEO_ERROR_TRUNCATED"
    assert (
        codes["png-as.mp4"] == codes["text-as.mkv"] == "VIDEO_ERROR_UNSUPPORTED_FORMAT"
    )


def test_a_16000px_mjpeg_is_refused_from_its_header(hostile):
    server, key = hostile
    t = time.perf_counter()
    r = submit(server, key, "huge.avi", mjpeg_declared())
    assert r.status_code == 400 and r.json()["error_message"].split(":")[0] == "VIDEO_ERROR_TOO_LARGE", r.text
    assert (
        time.perf_counter() - t < 15
    )  # the upload check is one worker start, no 16000x16000 decode


def test_a_decoder_killed_mid_job_fails_only_that_job(hostile, shared):
    server, key = hostile
    clip = (shared / "video" / "short_hamilton_clip.mp4").read_bytes()
    r = submit(server, key, "clip.mp4", clip)
    assert r.status_code == 200, r.text
    server_proc = psutil.Process(server.proc.pid)
    deadline = time.time() + 120
    victim = None
    while victim is None and time.time() < deadline:
        workers = [
            p
            for p in server_proc.children()
            if "faceprint.video.worker" in " ".join(p.cmdline())
        ]
        victim = workers[0] if workers else None
        time.sleep(0.05)
    assert victim is not None, "no decoder process was started"
    os.kill(victim.pid, signal.SIGSEGV)  # what FFmpeg did to the whole server before
    assert outcome(server, key, r) == "VIDEO_ERROR_WORKER_CRASHED"
    assert alive(server)


SHUTDOWN_ORDER = """
import sys
from pathlib import Path
from faceprint.video import process_video, video_engine
engine = video_engine(None)
for path in sys.argv[1:]:
    for _ in range(3):
        try:
            process_video(path, None, engine=engine)
        except Exception as exc:
            print(Path(path).name, getattr(exc, "code", type(exc).__name__))
"""


def test_in_process_decoding_stops_before_the_file_closes(tmp_path):
    """Without a worker: the read-ahead thread must stop demuxing before the consumer's error closes the file."""
    paths = []
    for ext in (".mp4", ".avi", ".mkv"):
        for name in (f"tiny{ext}", f"oversize{ext}"):
            (tmp_path / name).write_bytes(VIDEOS[name])
            paths.append(str(tmp_path / name))
    run = subprocess.run([sys.executable, "-c", SHUTDOWN_ORDER, *paths], check=False, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]  # -11 (SIGSEGV) within the first few files before the fix
    assert run.stdout.split().count("INVALID_IMAGE_SIZE") == 3 * len(paths)
