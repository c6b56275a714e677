"""Video jobs over real HTTP against real ``faceprint serve`` processes: upload, progress, result,
bad uploads, a full queue, and restarts in the middle of a job (a kill -9, not a polite stop)."""

from __future__ import annotations

import time
from pathlib import Path

import av
import pytest

from faceprint.gallery import GalleryConfig, GalleryService
from video.support import STILLS, write_audio_only  # tests/ is on sys.path (rootdir conftest)

from .support import Key, Server, make_key

CLIP = "short_hamilton_clip.mp4"


def setup_data(data: Path, shared: Path, engine) -> Key:
    """A key and, in its tenant, a gallery of the clip's three stills (made in-process, server down)."""
    data.mkdir(parents=True, exist_ok=True)
    key = make_key(data, "detect,faceset:read,faceset:write")
    with GalleryService(GalleryConfig(data_dir=data), engine=engine) as svc:
        svc.create("stars", tenant=key.tenant)
        for file, subject in STILLS.items():
            svc.enrol_one("stars", shared / "video" / "stills" / file, subject, tenant=key.tenant)
    return key


def submit(server: Server, key: Key, video: bytes, **form: object):
    with server.client() as c:
        return c.post("/v1/video/jobs", data={**key.auth, **{k: str(v) for k, v in form.items()}},
                      files={"video_file": ("clip.mp4", video, "video/mp4")})  # fmt: skip


def job(server: Server, key: Key, job_id: str) -> dict:
    with server.client() as c:
        r = c.get(f"/v1/video/jobs/{job_id}", params=key.auth)
    assert r.status_code == 200, r.text
    return r.json()


def annotated(server: Server, key: Key, job_id: str):
    with server.client() as c:
        return c.post(f"/v1/video/jobs/{job_id}/annotated", data=key.auth)


def delete(server: Server, key: Key, job_id: str):
    with server.client() as c:
        return c.post(f"/v1/video/jobs/{job_id}/delete", data=key.auth)


def files_of(server: Server, job_id: str) -> list[str]:
    return sorted(p.name for p in (server.data / "video_jobs").glob(f"{job_id}.*"))


def decoded_frames(data: bytes, path: Path) -> tuple[int, tuple[int, int]]:
    path.write_bytes(data)
    with av.open(str(path)) as container:
        frames = [f for f in container.decode(video=0)]
    return len(frames), (frames[0].width, frames[0].height)


def wait(server: Server, key: Key, job_id: str, until, timeout: float = 180.0, every: float = 0.1) -> tuple[dict, list[dict]]:
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        body = job(server, key, job_id)
        seen.append(body)
        if until(body):
            return body, seen
        time.sleep(every)
    raise AssertionError(f"job {job_id} never got there: last {seen[-1] if seen else None}")


def finished(body: dict) -> bool:
    return body["status"] in ("done", "failed")


def running(body: dict) -> bool:
    return body["status"] == "running" and body["frames_done"] > 0


@pytest.fixture(scope="module")
def served(tmp_path_factory, shared, engine):
    data = tmp_path_factory.mktemp("video-serve")
    key = setup_data(data, shared, engine)
    srv = Server(data, env={"FACEPRINT_VIDEO_QUEUE": "1"})
    yield srv, key
    srv.stop()


def test_upload_progress_and_result(served, shared, tmp_path):
    server, key = served
    r = submit(server, key, (shared / "video" / CLIP).read_bytes(), outer_id="stars", detect_every=3)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["job_id"].startswith("vjob_") and body["status"] == "queued" and "request_id" in body
    done, seen = wait(server, key, body["job_id"], finished)
    assert done["status"] == "done", done
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert any(s["status"] == "running" and 0 < s["progress"] < 1 for s in seen)  # progress was visible mid-job
    result = done["result"]
    assert done["frames_done"] == done["frames_total"] == 275 and result["settings"]["detect_every"] == 3
    known = {s["label"]: s for s in result["subjects"] if s["known"]}
    assert set(known) == set(STILLS.values())
    lin = [(g["start_s"], g["end_s"]) for g in known["Lin-Manuel Miranda"]["segments"]]
    assert len(lin) == 2 and lin[1][0] == pytest.approx(2.74, abs=0.15)
    assert all(s["label"].startswith("unknown-") for s in result["subjects"] if not s["known"])
    assert not list((server.data / "video_jobs").glob("*.video"))  # the upload is gone once the job is done
    assert done["options"]["annotate"] is True

    r = annotated(server, key, body["job_id"])  # annotated by default: every frame of the source, boxed and named
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == "video/mp4" and r.headers["content-disposition"].startswith("attachment")
    frames, size = decoded_frames(r.content, tmp_path / "annotated.mp4")
    with av.open(str(shared / "video" / CLIP)) as src:
        source = src.streams.video[0]
        src_size = (source.codec_context.width, source.codec_context.height)
    assert frames == 275 and size == (src_size[0] - src_size[0] % 2, src_size[1] - src_size[1] % 2)


def test_bad_uploads_are_codes(served, tmp_path):
    server, key = served
    cases = {
        b"this is not a video": "VIDEO_ERROR_UNSUPPORTED_FORMAT",
        b"": "VIDEO_ERROR_EMPTY_FILE",
        write_audio_only(tmp_path / "a.m4a").read_bytes(): "VIDEO_ERROR_NO_VIDEO_STREAM",
    }
    for data, code in cases.items():
        r = submit(server, key, data)
        assert r.status_code == 400 and r.json()["error_message"] == code, r.text
        assert "Traceback" not in r.text
    with server.client() as c:
        r = c.post("/v1/video/jobs", data=key.auth)
        assert r.status_code == 400 and r.json()["error_message"] == "MISSING_ARGUMENTS: video_file"
        r = c.post("/v1/video/jobs", data={**key.auth, "video_file": "text, not a file"})
        assert r.status_code == 400 and r.json()["error_message"] == "BAD_ARGUMENTS: video_file"
    assert submit(server, key, b"x", outer_id="nobody").json()["error_message"].startswith("INVALID_FACESET_TOKEN")
    assert submit(server, key, b"x", detect_every=0).json()["error_message"] == "BAD_ARGUMENTS: detect_every"
    assert submit(server, key, b"x", far="1e-9").json()["error_message"] == "BAD_ARGUMENTS: far"
    assert not list((server.data / "video_jobs").glob("*.video"))  # refused uploads are not kept


def test_jobs_belong_to_their_tenant_and_need_the_scope(served, shared):
    server, key = served
    r = submit(server, key, (shared / "video" / CLIP).read_bytes(), detect_every=10)
    job_id = r.json()["job_id"]
    other = make_key(server.data, "faceset:read")
    r = annotated(server, key, job_id)  # just queued: not yet
    assert r.status_code == 400 and r.json()["error_message"] == "JOB_NOT_FINISHED: job_id", r.text
    with server.client() as c:
        r = c.get(f"/v1/video/jobs/{job_id}", params=other.auth)
        assert r.status_code == 400 and r.json()["error_message"] == "INVALID_JOB_ID: job_id"
        r = c.get("/v1/video/jobs/vjob_nope", params=key.auth)
        assert r.json()["error_message"] == "INVALID_JOB_ID: job_id"
        r = c.get(f"/v1/video/jobs/{job_id}")
        assert r.status_code == 401
    detect_only = make_key(server.data, "detect")
    assert submit(server, detect_only, b"x").status_code == 403
    assert wait(server, key, job_id, finished)[0]["status"] == "done"
    assert annotated(server, key, job_id).status_code == 200
    for stranger, code in ((other, "INVALID_JOB_ID: job_id"), (key, "INVALID_JOB_ID: job_id")):
        r = annotated(server, stranger, job_id if stranger is other else "vjob_nope")
        assert r.status_code == 400 and r.json()["error_message"] == code  # another tenant's job is as unknown as none
    assert annotated(server, detect_only, job_id).status_code == 403
    with server.client() as c:
        assert c.post(f"/v1/video/jobs/{job_id}/annotated").status_code == 401


def test_annotate_0_keeps_no_video(served, shared):
    server, key = served
    job_id = submit(server, key, (shared / "video" / CLIP).read_bytes(), detect_every=10, annotate=0).json()["job_id"]
    done, _ = wait(server, key, job_id, finished)
    assert done["status"] == "done" and done["options"]["annotate"] is False and done["progress"] == 1.0
    r = annotated(server, key, job_id)
    assert r.status_code == 400 and r.json()["error_message"] == "ANNOTATED_VIDEO_UNAVAILABLE: job_id", r.text
    assert not (server.data / "video_jobs" / f"{job_id}.mp4").exists()


def test_deleting_a_job_removes_its_timeline_and_files_in_any_state(served, shared):
    server, key = served
    clip = (shared / "video" / CLIP).read_bytes()
    done_id = submit(server, key, clip, outer_id="stars", detect_every=10).json()["job_id"]
    assert wait(server, key, done_id, finished)[0]["status"] == "done"
    assert files_of(server, done_id) == [f"{done_id}.mp4"]
    other = make_key(server.data, "faceset:read,faceset:write")
    reader = make_key(server.data, "faceset:read", tenant=key.tenant)
    assert delete(server, other, done_id).json()["error_message"] == "INVALID_JOB_ID: job_id"  # another tenant's
    assert delete(server, reader, done_id).status_code == 403  # deleting needs faceset:write
    r = delete(server, key, done_id)
    assert r.status_code == 200 and r.json()["status_before"] == "done", r.text
    assert files_of(server, done_id) == []
    with server.client() as c:
        assert c.get(f"/v1/video/jobs/{done_id}", params=key.auth).json()["error_message"] == "INVALID_JOB_ID: job_id"
    assert delete(server, key, done_id).status_code == 400  # gone is gone
    stored = b"".join(p.read_bytes() for p in server.data.glob("video_jobs.db*"))
    assert done_id.encode() not in stored  # the row is zeroed, not just unlinked (secure_delete, WAL folded back)

    running_id = submit(server, key, clip, outer_id="stars", detect_every=1).json()["job_id"]
    wait(server, key, running_id, running)
    r = delete(server, key, running_id)
    assert r.status_code == 200 and r.json()["status_before"] == "running"
    deadline = time.time() + 30
    while files_of(server, running_id) and time.time() < deadline:  # the worker stops at its next report
        time.sleep(0.1)
    assert files_of(server, running_id) == []
    assert submit(server, key, clip, detect_every=10).status_code == 200  # the worker is free again


def test_finished_jobs_are_deleted_after_the_keep_time(tmp_path, shared, engine):
    data = tmp_path / "data"
    key = setup_data(data, shared, engine)
    first = Server(data)
    try:
        job_id = submit(first, key, (shared / "video" / CLIP).read_bytes(), detect_every=10).json()["job_id"]
        assert wait(first, key, job_id, finished)[0]["status"] == "done"
        assert files_of(first, job_id) == [f"{job_id}.mp4"]
    finally:
        first.stop()
    kept = Server(data)  # the default keeps it for 7 days
    try:
        assert job(kept, key, job_id)["status"] == "done"
    finally:
        kept.stop()
    second = Server(data, env={"FACEPRINT_VIDEO_KEEP_DAYS": "0.00001"})  # under a second
    try:
        with second.client() as c:
            assert c.get(f"/v1/video/jobs/{job_id}", params=key.auth).json()["error_message"] == "INVALID_JOB_ID: job_id"
        assert files_of(second, job_id) == []
    finally:
        second.stop()


def test_a_full_queue_pushes_back(served, shared):
    server, key = served  # this server queues at most 1 job; the worker runs one at a time
    clip = (shared / "video" / CLIP).read_bytes()
    answers = [submit(server, key, clip, detect_every=2) for _ in range(3)]
    codes = [r.json().get("error_message") for r in answers]
    accepted = [r.json()["job_id"] for r in answers if r.status_code == 200]
    assert "CONCURRENCY_LIMIT_EXCEEDED: video_file" in codes and len(accepted) >= 1
    assert all(r.status_code in (200, 403) for r in answers)
    for job_id in accepted:
        assert wait(server, key, job_id, finished)[0]["status"] == "done"
    assert submit(server, key, clip, detect_every=10).status_code == 200  # drained: accepted again


def test_restart_mid_job_resumes_or_fails_with_the_reason(tmp_path, shared, engine):
    data = tmp_path / "data"
    key = setup_data(data, shared, engine)
    clip = (shared / "video" / CLIP).read_bytes()

    first = Server(data)
    try:
        resumed = submit(first, key, clip, outer_id="stars", detect_every=2).json()["job_id"]
        wait(first, key, resumed, running)
    finally:
        first.proc.kill()  # a crash in the middle of the job
        first.proc.wait()

    second = Server(data)
    try:
        back = job(second, key, resumed)
        assert back["status"] in ("queued", "running")  # picked up again, not lost
        done, _ = wait(second, key, resumed, finished)
        assert done["status"] == "done" and done["runs"] == 2
        assert "Barack Obama" in {s["label"] for s in done["result"]["subjects"]}
        doomed = submit(second, key, clip, detect_every=1).json()["job_id"]
        wait(second, key, doomed, running)
    finally:
        second.proc.kill()
        second.proc.wait()

    third = Server(data, env={"FACEPRINT_VIDEO_MAX_ATTEMPTS": "1"})  # one run allowed: no second chance
    try:
        failed = job(third, key, doomed)
        assert failed["status"] == "failed" and failed["error"]["error_code"] == "JOB_INTERRUPTED"
        assert "stopped during" in failed["error"]["error_message"]
        assert job(third, key, resumed)["status"] == "done"  # finished jobs keep their result
        assert annotated(third, key, resumed).status_code == 200  # and their annotated copy
        r = annotated(third, key, doomed)
        assert r.json()["error_message"] == "ANNOTATED_VIDEO_UNAVAILABLE: job_id"
        assert sorted(p.name for p in (data / "video_jobs").iterdir()) == [f"{resumed}.mp4"]  # uploads and partial copies gone
    finally:
        third.stop()
