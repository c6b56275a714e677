"""POST /facepp/v3/detect"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from .. import facepp
from ..auth import Call, need
from ..runtime import Runtime, runtime
from . import IMAGE, doc, head

router = APIRouter(tags=["detect"])


@router.post(
    "/facepp/v3/detect",
    summary="Detect faces; mint face tokens (72 h unless added to a faceset)",
    openapi_extra=doc(
        **IMAGE,
        return_landmark="0 none, 1: 83 points, 2: 106 points",
        return_attributes="none, or a comma list of headpose,facequality,blur,eyestatus,mouthstatus,smiling",
        calculate_all="1: landmarks and attributes for every face, not only the 5 largest",
        face_rectangle="top,left,width,height: this box is the face (no detection runs)",
        beauty_score_min="0-100 (accepted as Face++ does; changes nothing: no beauty score)",
        beauty_score_max="0-100 (accepted as Face++ does; changes nothing: no beauty score)",
    ),
)
async def detect(request: Request, call: Call = need("detect", "detect"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    p = call.params
    p.beauty_range()
    image, scheme, wanted = p.image(), p.landmark(), p.attributes(lenient=rt.config.lenient_attributes)
    everyone, rect = p.flag("calculate_all", False), p.rectangle("face_rectangle")
    side = await rt.recognition.detect(call.tenant, image, rect)
    call.faces = len(side.faces)
    rt.metrics.faces.labels("detect").inc(len(side.faces))
    top = len(side.faces) if everyone else rt.config.analyze_faces
    faces = [
        facepp.face_json(f, t, scheme=scheme, wanted=wanted.names, analyse=i < top)
        for i, (f, t) in enumerate(zip(side.faces, side.tokens, strict=True))
    ]
    return facepp.omitted({**head(request), "faces": faces, "image_id": side.image_id, "face_num": len(faces)}, wanted)
