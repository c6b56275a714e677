"""POST /v1/video/jobs and GET /v1/video/jobs/{job_id}: who appears when in an uploaded video.

The upload (``video_file``) is checked before it is queued, so a file that is not a video, is
empty, truncated, audio only or in a codec we do not decode gets its ``VIDEO_ERROR_*`` code at
once. ``faceset_token`` or ``outer_id`` names the gallery to identify against (none: everyone is
``unknown-N``); ``detect_every``, ``min_face``, ``far`` and ``per_frame`` are as in the CLI.
Both need the ``faceset:read`` scope; credentials for GET go in the query string (``api_key``, ``api_secret``);
POST to the job's URL with them in the form body to keep the secret out of URLs and logs (the console does).

``annotate`` (default 1) makes the job also write an annotated copy (every frame of the source,
faces boxed and named); ``POST /v1/video/jobs/{job_id}/annotated`` downloads it as ``video/mp4``
once the job is done. Before then the answer is ``JOB_NOT_FINISHED``; a job run with ``annotate=0``
(or one that failed) answers ``ANNOTATED_VIDEO_UNAVAILABLE``.

``POST /v1/video/jobs/{job_id}/delete`` (scope ``faceset:write``) deletes a job in any state: its
row, timeline, upload and annotated copy go at once, and a running job stops. Finished jobs are
deleted on their own ``FACEPRINT_VIDEO_KEEP_DAYS`` (7) days after they finished.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from ..auth import Call, need
from ..runtime import Runtime, runtime
from ..video_jobs import JobRequest, jobs_for
from . import doc, head

router = APIRouter(tags=["video"])

_SUBMIT = {
    "video_file": "The video (multipart upload): mp4, webm, mov, avi, mkv",
    "faceset_token": "Gallery to identify against (or outer_id; neither: everyone is unknown-N)",
    "outer_id": "Gallery by outer_id",
    "detect_every": "Run the detector on every Nth frame, 1-100 (default 1); tracking fills the rest",
    "min_face": "Ignore faces narrower than this many pixels (default 0)",
    "far": "Open-set operating point: 1e-3, 1e-4 or 1e-5 (default 1e-5)",
    "per_frame": "1: the result also lists every frame's tracked faces (default 0)",
    "annotate": "1: also write an annotated copy, fetched from /v1/video/jobs/{job_id}/annotated (default 1); 0 skips it",
}


@router.post("/v1/video/jobs", summary="Queue a video: find and identify the people in it", openapi_extra=doc(**_SUBMIT))
async def submit(request: Request, call: Call = need("faceset:read", "video/jobs"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    p = call.params
    p.exclusive("faceset_token", "outer_id")
    video = p.upload("video_file", required=True) or b""  # an empty file gets its VIDEO_ERROR_EMPTY_FILE from submit
    far = p.far("1e-5")
    faceset = p.text("faceset_token", limit=64) or p.text("outer_id", limit=255)
    if faceset is not None:
        call.faceset = (await anyio.to_thread.run_sync(lambda: rt.gallery.get(faceset, tenant=call.tenant))).token
    job = JobRequest(faceset=call.faceset, detect_every=p.integer("detect_every", 1, 1, 100),
                     min_face=p.integer("min_face", 0, 0, 10_000), far=far, per_frame=p.flag("per_frame", False),
                     annotate=p.flag("annotate", True))  # fmt: skip
    out = await anyio.to_thread.run_sync(jobs_for(rt).submit, call.tenant, video, job)
    call.outcome = str(out["job_id"])
    return {**head(request), **out}


@router.get("/v1/video/jobs/{job_id}", summary="A video job's status, progress and result")
@router.post("/v1/video/jobs/{job_id}", summary="The same, with the credentials in the form body (keeps the secret out of URLs)",
             openapi_extra=doc())  # fmt: skip
async def status(job_id: str, request: Request, call: Call = need("faceset:read", "video/jobs/get"),
                 rt: Runtime = Depends(runtime)) -> dict[str, object]:  # fmt: skip
    out = await anyio.to_thread.run_sync(jobs_for(rt).get, call.tenant, job_id[:64])
    return {**head(request), **out}


@router.post("/v1/video/jobs/{job_id}/annotated", summary="A finished job's annotated video (mp4, as an attachment)",
             response_class=FileResponse, openapi_extra=doc())  # fmt: skip
async def annotated(job_id: str, call: Call = need("faceset:read", "video/jobs/annotated"),
                    rt: Runtime = Depends(runtime)) -> FileResponse:  # fmt: skip
    job_id = job_id[:64]
    path = await anyio.to_thread.run_sync(jobs_for(rt).annotated, call.tenant, job_id)
    call.outcome = job_id
    return FileResponse(path, media_type="video/mp4", filename=f"{job_id}.annotated.mp4", content_disposition_type="attachment")


@router.post("/v1/video/jobs/{job_id}/delete", summary="Delete a video job, its timeline and its files (a running job stops)",
             openapi_extra=doc())  # fmt: skip
async def delete(job_id: str, request: Request, call: Call = need("faceset:write", "video/jobs/delete"),
                 rt: Runtime = Depends(runtime)) -> dict[str, object]:  # fmt: skip
    job_id = job_id[:64]
    was = await anyio.to_thread.run_sync(jobs_for(rt).delete, call.tenant, job_id)
    call.outcome = job_id
    return {**head(request), "job_id": job_id, "deleted": True, "status_before": was}
