"""POST /faceid/v1/biz_token and /faceid/v1/verify: challenge-response liveness plus a 1:1 match.

biz_token takes one reference (``face_token``; an image as ``image_file`` / ``image_base64`` /
``image_url``; or a gallery subject as ``faceset_token`` or ``outer_id`` with ``subject``) and
returns the session: ``biz_token`` (single use), the ``actions`` to perform in order and when it
expires. verify takes the ``biz_token`` and the performance, as ``video_file`` or as
``frames_file`` (a zip of images, in name order) with ``timestamps`` (seconds, comma-separated),
and answers with the liveness result and its reason codes, the passive detector's score, the
comparison's ``confidence`` and ``thresholds``, and one ``result``: ACCEPT or REJECT. Each call
is one line of the audit log; a verify's outcome names its decision and reasons.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Depends, Request

from ...errors import MissingArguments
from ..auth import Call, need
from ..faceid import ReferenceSpec, faceid_for
from ..runtime import Runtime, runtime
from . import IMAGE, doc, head

router = APIRouter(tags=["faceid"])

_BIZ = {
    "face_token": "Reference: a face token of this tenant",
    **IMAGE,
    "faceset_token": "Reference: a gallery (with subject)",
    "outer_id": "Reference: a gallery by outer_id (with subject)",
    "subject": "Reference: the gallery subject whose templates to match",
    "actions": "Optional fixed challenge, e.g. blink,turn_left (omit for a random one, which is what defeats replays)",
    "expire_seconds": "Session lifetime, 1-3600 (default 120)",
}
_VERIFY = {
    "biz_token": "The session from biz_token (single use)",
    "video_file": "The clip (multipart upload)",
    "frames_file": "Or: a zip of frame images, in name order",
    "timestamps": "With frames_file: each frame's capture time in seconds, comma-separated",
}


def _reference(call: Call) -> ReferenceSpec:
    p = call.params
    p.exclusive("face_token", "image_file", "image_base64", "image_url", "faceset_token")
    p.exclusive("face_token", "image_file", "image_base64", "image_url", "outer_id")
    token = p.text("face_token", limit=64)
    if token is not None:
        return ReferenceSpec(face_token=token)
    image = p.image(required=False)
    if image is not None:
        return ReferenceSpec(image=image)
    faceset = p.text("faceset_token", limit=64) or p.text("outer_id", limit=255)
    subject = p.text("subject", limit=255)
    if faceset is None or subject is None:
        raise MissingArguments("a reference is required: face_token, an image, or faceset_token/outer_id with subject",
                               param="face_token, image_file, image_base64, image_url, faceset_token, outer_id, subject")  # fmt: skip
    return ReferenceSpec(faceset=faceset, subject=subject)


@router.post("/faceid/v1/biz_token", summary="Start a liveness session against a reference", openapi_extra=doc(**_BIZ))
async def biz_token(
    request: Request, call: Call = need("compare", "faceid/biz_token"), rt: Runtime = Depends(runtime)
) -> dict[str, object]:
    svc = faceid_for(rt)
    spec = _reference(call)
    actions = call.params.text("actions", limit=200)
    ttl = call.params.integer("expire_seconds", 120, 1, 3600)
    issued = await anyio.to_thread.run_sync(svc.issue, call.tenant, spec, actions, ttl)
    call.results = 1
    ch = issued.challenge
    return {
        **head(request),
        "biz_token": issued.nonce,
        "actions": [a.value for a in ch.actions],
        "expires_at": round(ch.expires_at, 3),
        "expire_seconds": ttl,
        "reference": ch.reference_info.get("kind"),
    }


@router.post("/faceid/v1/verify", summary="Verify a liveness performance and match it to the session's reference",
             openapi_extra=doc(**_VERIFY))  # fmt: skip
async def verify(
    request: Request, call: Call = need("compare", "faceid/verify"), rt: Runtime = Depends(runtime)
) -> dict[str, object]:
    svc = faceid_for(rt)
    p = call.params
    token = p.text("biz_token", required=True, limit=128) or ""
    p.exclusive("video_file", "frames_file")
    video, archive = p.upload("video_file") or None, p.upload("frames_file") or None  # an empty upload is none
    if video is None and archive is None:
        raise MissingArguments(
            "the performance is required: video_file, or frames_file with timestamps", param="video_file, frames_file"
        )
    times = p.seconds("timestamps")
    # the session is checked (and spent) before the upload is unpacked: see FaceID.verify
    result = await anyio.to_thread.run_sync(svc.verify, call.tenant, token, video, archive, times)
    live = result.liveness
    call.faces = int(sum(f is not None for f in live.track.faces)) if live.track is not None else 0
    call.results = int(result.decision)
    call.outcome = result.result if result.decision else "REJECT:" + ",".join(result.reasons)
    body = result.to_dict()
    cmp = result.compare or {}
    return {
        **head(request),
        "result": result.result,
        "reasons": body["reasons"],
        "confidence": cmp.get("confidence"),
        "thresholds": cmp.get("thresholds"),
        "liveness": body["liveness"],
        "pad": body["pad"],
        "compare": result.compare,
    }
