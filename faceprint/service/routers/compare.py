"""POST /facepp/v3/compare"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from .. import facepp
from ..auth import Call, need
from ..recognition import Side
from ..runtime import Runtime, runtime
from . import doc, head

router = APIRouter(tags=["compare"])

_FIELDS = {
    f"{kind}{n}": text
    for n in ("1", "2")
    for kind, text in (
        ("face_token", "A face token (takes precedence over images)"),
        ("image_file", "Image upload"),
        ("image_base64_", "Image as base64"),
        ("image_url", "Image URL (if allow-listed)"),
        ("face_rectangle", "top,left,width,height of the face to use"),
    )
}


def _faces(side: Side) -> list[dict[str, object]]:
    return [facepp.brief(f, t) for f, t in zip(side.faces, side.tokens, strict=True)]


@router.post("/facepp/v3/compare", summary="Compare the largest faces of two images or face tokens", openapi_extra=doc(**_FIELDS))
async def compare(request: Request, call: Call = need("compare", "compare"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    a, b = call.params.probe("1"), call.params.probe("2")
    result = await rt.recognition.compare(call.tenant, a, b)
    call.faces = len(result.side1.faces) + len(result.side2.faces)
    call.results = int(result.confidence is not None)
    rt.metrics.faces.labels("compare").inc(call.faces)
    out: dict[str, object] = head(request)
    if result.confidence is not None:
        out["confidence"] = round(result.confidence, 3)
        out["thresholds"] = facepp.thresholds(result.thresholds)
    for n, side in (("1", result.side1), ("2", result.side2)):
        if side.image_id is not None:
            out[f"image_id{n}"] = side.image_id
        out[f"faces{n}"] = _faces(side)
    return out
