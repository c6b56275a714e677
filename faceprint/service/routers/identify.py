"""POST /v1/identify: every face of one image searched in a faceset, in one call.

faceprint's own endpoint (Face++'s ``/search`` keeps its meaning: one face, the largest). Each face
comes back with a fresh face token, its rectangle, its best subjects and the decision at ``far``:
the best subject's ``user_id`` when its confidence reaches the threshold, else ``"unknown"``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...compare import FAR_LEVELS
from .. import facepp
from ..auth import Call, need
from ..runtime import Runtime, runtime
from . import IMAGE, doc, head

router = APIRouter(tags=["identify"])
UNKNOWN = "unknown"


@router.post(
    "/v1/identify",
    summary="Identify every face of an image against a faceset",
    openapi_extra=doc(
        **IMAGE,
        faceset_token="The faceset to search",
        outer_id="...or its outer_id",
        return_result_count="Subjects per face, 1-100 (default 1)",
        far=f"False-accept rate deciding known / unknown: {', '.join(FAR_LEVELS)} (default 1e-4)",
    ),
)
async def identify(request: Request, call: Call = need("faceset:read", "identify"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    p = call.params
    image = p.image()
    token, outer = p.faceset()
    count = p.integer("return_result_count", 1, 1, rt.config.max_result_count)
    far = p.far("1e-4")
    call.faceset = token or outer
    result = await rt.recognition.identify(call.tenant, image, token, outer, count)
    call.faces = len(result.side.faces)
    call.results = sum(1 for hits in result.hits if hits and hits[0].confidence >= result.thresholds[far])
    rt.metrics.faces.labels("identify").inc(call.faces)
    faces = []
    for face, tok, hits in zip(result.side.faces, result.side.tokens, result.hits, strict=True):
        known = bool(hits) and hits[0].confidence >= result.thresholds[far]
        faces.append({
            **facepp.brief(face, tok),
            "user_id": hits[0].user_id if known else UNKNOWN,
            "confidence": round(hits[0].confidence, 3) if hits else None,
            "results": [{"user_id": h.user_id, "face_token": h.face_token, "confidence": round(h.confidence, 3)} for h in hits],
        })  # fmt: skip
    out: dict[str, object] = head(request)
    out.update(image_id=result.side.image_id, far=far, face_num=len(faces), faces=faces)
    if result.thresholds:
        out["thresholds"] = facepp.thresholds(result.thresholds)
    return out
