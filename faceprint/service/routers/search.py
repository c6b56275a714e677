"""POST /facepp/v3/search"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from .. import facepp
from ..auth import Call, need
from ..runtime import Runtime, runtime
from . import IMAGE, doc, head

router = APIRouter(tags=["search"])


@router.post(
    "/facepp/v3/search",
    summary="Find the most similar faces in a faceset",
    openapi_extra=doc(
        face_token="A face token (takes precedence over images)",
        **IMAGE,
        faceset_token="The faceset to search", outer_id="...or its outer_id",
        return_result_count="1-100 (default 1)",
        face_rectangle="top,left,width,height of the face to use",
    ),
)
async def search(request: Request, call: Call = need("faceset:read", "search"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    p = call.params
    probe = p.probe()
    token, outer = p.faceset()
    count = p.integer("return_result_count", 1, 1, rt.config.max_result_count)
    call.faceset = token or outer
    result = await rt.recognition.search(call.tenant, probe, token, outer, count)
    call.faces, call.results = len(result.side.faces), len(result.hits)
    rt.metrics.faces.labels("search").inc(call.faces)
    out: dict[str, object] = head(request)
    if result.side.face is not None:
        out["results"] = [{"face_token": h.face_token, "confidence": round(h.confidence, 3), "user_id": h.user_id} for h in result.hits]
        out["thresholds"] = facepp.thresholds(result.thresholds)
    if result.side.image_id is not None:
        out["image_id"] = result.side.image_id
    out["faces"] = [facepp.brief(f, t) for f, t in zip(result.side.faces, result.side.tokens, strict=True)]
    return out
