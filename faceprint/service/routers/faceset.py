"""POST /facepp/v3/faceset/{create,addface,removeface,update,getdetail,delete,getfacesets} and async/*."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...errors import InvalidFaceTokensSize
from ...gallery import FaceSet
from ..auth import Call, need
from ..facesets import REMOVE_ALL, Change, Ref
from ..runtime import Runtime, runtime
from . import doc, head

router = APIRouter(prefix="/facepp/v3/faceset", tags=["faceset"])
WHICH = {"faceset_token": "The faceset", "outer_id": "...or its outer_id"}


def _names(fs: FaceSet) -> dict[str, object]:
    return {"faceset_token": fs.token, "outer_id": fs.outer_id or ""}


def _counts(change: Change, removed: bool) -> dict[str, object]:
    """What addface/removeface answer (and their async tasks report): the faceset, counts and failures."""
    out: dict[str, object] = {**_names(change.faceset)}
    out["face_removed" if removed else "face_added"] = change.removed if removed else change.added
    out["face_count"] = change.faceset.face_count
    out["failure_detail"] = [{"reason": f.reason, "face_token": f.face_token} for f in change.failures]
    return out


def _change(request: Request, change: Change, *, removed: bool = False) -> dict[str, object]:
    return {**head(request), **_counts(change, removed)}


def _tokens(call: Call, limit: int, *, required: bool = True) -> list[str]:
    tokens = call.params.csv("face_tokens", required=required)
    if len(tokens) > limit:
        raise InvalidFaceTokensSize(f"at most {limit} face tokens per call", param="face_tokens")
    return tokens


def _ref(call: Call) -> Ref:
    token, outer = call.params.faceset()
    call.faceset = token or outer
    return Ref(token, outer)


def _faceset(call: Call, rt: Runtime) -> FaceSet:
    ref = _ref(call)
    return rt.facesets.get(call.tenant, ref.token, ref.outer_id)


@router.post("/create", summary="Create a faceset", openapi_extra=doc(
    display_name="Up to 256 characters", outer_id="Your unique name for it", tags="Comma-separated tags",
    face_tokens="Up to 5 face tokens to add", user_data="Up to 16 KB", force_merge="1: add to an existing outer_id",
))  # fmt: skip
def create(request: Request, call: Call = need("faceset:write", "faceset/create"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    p = call.params
    outer = p.text("outer_id", limit=255)
    call.faceset = outer
    change = rt.facesets.create(
        call.tenant, outer_id=outer, display_name=p.text("display_name", limit=256) or "", tags=p.csv("tags"),
        user_data=p.text("user_data", limit=16 * 1024) or "", face_tokens=_tokens(call, rt.config.max_add_tokens, required=False),
        force_merge=p.flag("force_merge", False),
    )  # fmt: skip
    call.faceset, call.faces = change.faceset.token, change.added
    return _change(request, change)


@router.post("/addface", summary="Add face tokens to a faceset", openapi_extra=doc(**WHICH, face_tokens="Up to 5 face tokens"))
def addface(request: Request, call: Call = need("faceset:write", "faceset/addface"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    tokens = _tokens(call, rt.config.max_add_tokens)
    change = rt.facesets.add(call.tenant, _ref(call), tokens)  # resolved once, under its row lock
    call.faces = change.added
    return _change(request, change)


@router.post("/removeface", summary="Remove face tokens from a faceset", openapi_extra=doc(**WHICH, face_tokens=f"Face tokens, or {REMOVE_ALL}"))
def removeface(request: Request, call: Call = need("faceset:write", "faceset/removeface"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    tokens = _tokens(call, rt.config.max_remove_tokens)
    change = rt.facesets.remove(call.tenant, _faceset(call, rt), tokens)
    call.faces = change.removed
    return _change(request, change, removed=True)


@router.post("/update", summary="Change a faceset's outer_id, name, user_data or tags", openapi_extra=doc(
    **WHICH, new_outer_id="New outer_id", display_name="New name", user_data="New user_data", tags="New tags (comma list)",
))  # fmt: skip
def update(request: Request, call: Call = need("faceset:write", "faceset/update"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    p = call.params
    fs = rt.facesets.update(
        call.tenant, _faceset(call, rt), new_outer_id=p.text("new_outer_id", limit=255), display_name=p.text("display_name", limit=256),
        user_data=p.text("user_data", limit=16 * 1024), tags=p.csv("tags") if p.text("tags") is not None else None,
    )  # fmt: skip
    return {**head(request), **_names(fs)}


@router.post("/getdetail", summary="A faceset and a page of its face tokens", openapi_extra=doc(**WHICH, start="1-based index of the first face token (pages of 100)"))
def getdetail(request: Request, call: Call = need("faceset:read", "faceset/getdetail"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    start = call.params.integer("start", 1, 1, 10**9)
    d = rt.facesets.detail(call.tenant, _faceset(call, rt), start)
    call.results = len(d.face_tokens)
    out = {
        **head(request), **_names(d.faceset), "display_name": d.faceset.display_name, "user_data": d.faceset.user_data,
        "tags": ",".join(d.faceset.tags), "face_count": d.faceset.face_count, "face_tokens": d.face_tokens,
    }  # fmt: skip
    if d.next is not None:
        out["next"] = str(d.next)  # a string, as Face++ sends it (the Java, Swift and .NET SDKs declare one)
    return out


@router.post("/delete", summary="Delete a faceset", openapi_extra=doc(**WHICH, check_empty="1 (default): refuse unless empty"))
def delete(request: Request, call: Call = need("faceset:write", "faceset/delete"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    check = call.params.flag("check_empty", True)
    fs = rt.facesets.delete(call.tenant, _faceset(call, rt), check)
    call.faces = fs.face_count
    return {**head(request), **_names(fs)}


@router.post("/getfacesets", summary="List your facesets, a page of 1,000", openapi_extra=doc(tags="Only facesets with all these tags", start="1-based"))
def getfacesets(request: Request, call: Call = need("faceset:read", "faceset/getfacesets"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    items, nxt = rt.facesets.list(call.tenant, call.params.csv("tags"), call.params.integer("start", 1, 1, 10**9))
    call.results = len(items)
    out = {
        **head(request),
        "facesets": [{**_names(fs), "display_name": fs.display_name, "tags": ",".join(fs.tags)} for fs in items],
    }
    if nxt is not None:
        out["next"] = str(nxt)
    return out


# -- async -------------------------------------------------------------------------------------------
@router.post("/async/addface", summary="addface as a background task", openapi_extra=doc(**WHICH, face_tokens="Up to 5 face tokens"))
def async_addface(request: Request, call: Call = need("faceset:write", "faceset/async/addface"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    tokens, fs = _tokens(call, rt.config.max_add_tokens), _faceset(call, rt)
    task = rt.tasks.submit(call.tenant, "addface", lambda: _counts(rt.facesets.add(call.tenant, fs, tokens), False))
    return {**head(request), "task_id": task.task_id}


@router.post("/async/removeface", summary="removeface as a background task", openapi_extra=doc(**WHICH, face_tokens=f"Face tokens, or {REMOVE_ALL}"))
def async_removeface(request: Request, call: Call = need("faceset:write", "faceset/async/removeface"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    tokens, fs = _tokens(call, rt.config.max_remove_tokens), _faceset(call, rt)
    task = rt.tasks.submit(call.tenant, "removeface", lambda: _counts(rt.facesets.remove(call.tenant, fs, tokens), True))
    return {**head(request), "task_id": task.task_id}


@router.post("/async/task_status", summary="Status of an async task", openapi_extra=doc(task_id="From async/addface or async/removeface"))
def task_status(request: Request, call: Call = need("faceset:read", "faceset/async/task_status"), rt: Runtime = Depends(runtime)) -> dict[str, object]:
    task_id = call.params.text("task_id", required=True, limit=64)
    task = rt.tasks.get(call.tenant, task_id)  # type: ignore[arg-type]
    out: dict[str, object] = {**head(request), "task_id": task.task_id, "status": task.status, **task.result}
    if task.error is not None:
        out["error_message"] = task.error
    return out

