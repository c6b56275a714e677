"""POST /facepp/v3/face/{analyze,getdetail,setuserid}"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...errors import InvalidFaceTokensSize, VoidRequest
from ...gallery import validate
from .. import facepp
from ..auth import Call, need
from ..runtime import Runtime, runtime
from . import doc, head

router = APIRouter(prefix="/facepp/v3/face", tags=["face"])


@router.post("/analyze", summary="Landmarks and attributes of face tokens", openapi_extra=doc(
    face_tokens="Up to 5 face tokens", return_landmark="0, 1 (83 points) or 2 (106 points)",
    return_attributes="Comma list of headpose,facequality,blur,eyestatus,mouthstatus,smiling",
    beauty_score_min="0-100 (changes nothing)", beauty_score_max="0-100 (changes nothing)",
))  # fmt: skip
def analyze(request: Request, call: Call = need("detect", "face/analyze"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    p = call.params
    p.beauty_range()
    tokens = p.csv("face_tokens", required=True)
    if len(tokens) > 5:
        raise InvalidFaceTokensSize("at most 5 face tokens", param="face_tokens")
    scheme, wanted = p.landmark(), p.attributes(lenient=rt.config.lenient_attributes)
    if scheme == 0 and not wanted.names and not wanted.omitted:
        raise VoidRequest("ask for landmarks or attributes")
    stored = rt.recognition.analyze(call.tenant, tokens)
    call.faces = len(stored)
    rt.metrics.faces.labels("face/analyze").inc(len(stored))
    faces = [facepp.face_json(s.face, s.token, scheme=scheme, wanted=wanted.names) for s in stored]
    return facepp.omitted({**head(request), "faces": faces}, wanted)


@router.post("/getdetail", summary="A face token's box, user_id and facesets", openapi_extra=doc(face_token="The face token"))
def getdetail(request: Request, call: Call = need("faceset:read", "face/getdetail"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    token = call.params.text("face_token", required=True, limit=64)
    stored = rt.recognition.lookup(call.tenant, token)  # type: ignore[arg-type]
    sets = rt.facesets.face_facesets(call.tenant, stored.faceset_token)
    return {
        **head(request), "face_token": stored.token, "user_id": stored.user_id, "image_id": stored.image_id,
        "face_rectangle": facepp.rectangle(stored.face),
        "facesets": [{"faceset_token": fs.token, "outer_id": fs.outer_id or "", "display_name": fs.display_name, "tags": ",".join(fs.tags)} for fs in sets],
    }  # fmt: skip


@router.post("/setuserid", summary="Attach a user_id to a face token", openapi_extra=doc(face_token="The face token", user_id="Up to 255 characters"))
def setuserid(request: Request, call: Call = need("faceset:write", "face/setuserid"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    token = call.params.text("face_token", required=True, limit=64)
    user_id = validate.subject(call.params.text("user_id", required=True, limit=255) or "")
    rt.tokens.set_user_id(call.tenant, token, user_id)  # type: ignore[arg-type]
    return {**head(request), "face_token": token, "user_id": user_id}
