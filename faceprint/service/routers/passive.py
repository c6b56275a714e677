"""POST /v1/liveness/passive: is the face in one photo live, or a print or screen held up?

faceprint-native (Face++ has no such call). Takes an image (``image_file`` / ``image_base64`` /
``image_url``) and optionally ``detector`` (default ``minifasnet``, whose weights the operator
installs: without them the answer is ``503 PAD_MODEL_NOT_INSTALLED``). Answers with the largest
face's ``live_probability``, attack ``score``, ``threshold`` and one ``result``: ``BONA_FIDE``
or ``ATTACK``. Scope ``detect``; one audit line per call, whose outcome is the result.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Depends, Request

from .. import passive as pad
from ..auth import Call, need
from ..runtime import Runtime, runtime
from . import IMAGE, doc, head

router = APIRouter(tags=["liveness"])


@router.post("/v1/liveness/passive", summary="Passive presentation-attack check of one photo (no challenge)",
             openapi_extra=doc(**IMAGE, detector="PAD detector: minifasnet (default), glare or moire"))  # fmt: skip
async def passive(
    request: Request, call: Call = need("detect", "liveness/passive"), rt: Runtime = Depends(runtime)
) -> dict[str, object]:
    p = call.params
    name = p.text("detector", limit=64) or pad.DEFAULT_DETECTOR
    image = p.image()  # required: MissingArguments without one
    res = await anyio.to_thread.run_sync(pad.check, rt, name, image)
    call.faces, call.results = res.faces, 1
    call.outcome = "ATTACK" if res.attack else "BONA_FIDE"
    return {**head(request), "result": call.outcome, **res.to_dict()}
