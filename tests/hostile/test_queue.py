"""The video queue is fair: one tenant's burst is refused at its own cap, and other tenants still get in."""

from __future__ import annotations

from service.support import make_key

from .conftest import SCOPES, alive
from .corpus import TINY, video_bytes


def test_one_tenants_nine_jobs_do_not_lock_out_another(hostile, shared):
    server, key = hostile  # this server: 8 jobs may wait, 3 of them per tenant
    other = make_key(server.data, SCOPES)  # a tenant of its own
    clip = (shared / "video" / "short_hamilton_clip.mp4").read_bytes()  # keeps the one worker busy
    small = video_bytes(".mp4", TINY)
    answers = []
    with server.client() as c:
        for i in range(9):
            r = c.post("/v1/video/jobs", data={**key.auth, "annotate": "0"},
                       files={"video_file": ("v.mp4", clip if i == 0 else small)})  # fmt: skip
            answers.append(r)
        theirs = c.post("/v1/video/jobs", data={**other.auth, "annotate": "0"}, files={"video_file": ("v.mp4", small)})
        accepted = [r.json()["job_id"] for r in answers if r.status_code == 200]
        refused = [r.json()["error_message"] for r in answers if r.status_code != 200]
        for job_id in accepted + ([theirs.json()["job_id"]] if theirs.status_code == 200 else []):
            owner = key if job_id in accepted else other
            c.post(f"/v1/video/jobs/{job_id}/delete", data=owner.auth)  # leave the shared server's queue empty
    assert theirs.status_code == 200, theirs.text
    assert refused and set(refused) == {"CONCURRENCY_LIMIT_EXCEEDED: video_file"}
    assert 3 <= len(accepted) <= 4  # 3 waiting, and perhaps the first already running
    assert alive(server)
