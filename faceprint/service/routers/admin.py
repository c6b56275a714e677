"""POST /admin/audit: the audit log of the caller's tenant (admin scope)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ..auth import Call, need
from ..runtime import Runtime, runtime
from . import doc, head

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/audit", summary="Audit lines of your tenant, oldest first", openapi_extra=doc(
    start="Return lines after this sequence number", limit="1-1000 (default 100)", key="Only this api_key's lines",
))  # fmt: skip
def audit(request: Request, call: Call = Depends(need("admin", "admin/audit")), rt: Runtime = Depends(runtime)) -> dict:
    p = call.params
    entries = rt.audit.read(
        tenant=call.tenant, key=p.text("key", limit=128), start=p.integer("start", 0, 0, 10**12), limit=p.integer("limit", 100, 1, 1000)
    )
    call.results = len(entries)
    return {**head(request), "entries": entries}
