"""Admin endpoints (admin scope), each confined to the caller's tenant.

POST /admin/audit: audit lines, oldest first. POST /admin/audit/verify: walk the log's hash chain.
POST /admin/keys/list, /admin/keys/create (the secret is in this one reply only), /admin/keys/revoke.
"""

from __future__ import annotations

import re

import anyio.to_thread
from fastapi import APIRouter, Depends, Request

from ..auth import Call, need
from ..errors import AuthorizationError
from ..keys import OPERATOR_SCOPES, parse_scopes
from ..runtime import Runtime, runtime
from . import doc, head

router = APIRouter(prefix="/admin", tags=["admin"])
_CODE = re.compile(r"[A-Z][A-Z_]+")  # an error outcome is the Face++ code


@router.post("/audit", summary="Audit lines of your tenant, oldest first", openapi_extra=doc(
    start="Return lines after this sequence number", limit="1-1000 (default 100)", key="Only this api_key's lines",
    endpoint="Only lines whose endpoint contains this text", outcome="Only lines with this outcome; ERROR: every error code",
))  # fmt: skip
def audit(request: Request, call: Call = need("admin", "admin/audit"), rt: Runtime = Depends(runtime)) -> dict:
    p = call.params
    key, start, limit = p.text("key", limit=128), p.integer("start", 0, 0, 10**12), p.integer("limit", 100, 1, 1000)
    endpoint, outcome = p.text("endpoint", limit=128), p.text("outcome", limit=128)
    entries: list[dict] = []
    while len(entries) < limit:  # filter in batches, so a page holds `limit` matching lines
        batch = rt.audit.read(tenant=call.tenant, key=key, start=start, limit=1000)
        if not batch:
            break
        start = int(batch[-1]["seq"])
        entries += [e for e in batch if _matches(e, endpoint, outcome)]
    entries = entries[:limit]
    call.results = len(entries)
    return {**head(request), "entries": entries}


def _matches(entry: dict, endpoint: str | None, outcome: str | None) -> bool:
    if endpoint is not None and endpoint not in str(entry.get("endpoint", "")):
        return False
    if outcome == "ERROR":
        return bool(_CODE.fullmatch(str(entry.get("outcome", ""))))
    return outcome is None or entry.get("outcome") == outcome


@router.post("/audit/verify", summary="Check the audit log's hash chain, from the first line to audit.head", openapi_extra=doc())
async def audit_verify(request: Request, call: Call = need("admin", "admin/audit/verify"), rt: Runtime = Depends(runtime)) -> dict:
    verdict = await anyio.to_thread.run_sync(rt.audit.verify)
    call.outcome = "chain ok" if verdict.ok else "chain broken"
    return {**head(request), **verdict.to_dict()}


@router.post("/keys/list", summary="The API keys of your tenant (never their secrets)", openapi_extra=doc())
def keys_list(request: Request, call: Call = need("admin", "admin/keys/list"), rt: Runtime = Depends(runtime)) -> dict:
    keys = [k.to_dict() for k in rt.keys.list() if k.tenant == call.tenant]
    call.results = len(keys)
    return {**head(request), "keys": keys}


@router.post("/keys/create", summary="Create a key in your tenant; its secret is shown in this reply only", openapi_extra=doc(
    name="A label, up to 64 characters", scopes="Comma list of detect,compare,faceset:read,faceset:write,admin",
    qps="Requests per second, 1-1000 (default 10)",
))  # fmt: skip
def keys_create(request: Request, call: Call = need("admin", "admin/keys/create"), rt: Runtime = Depends(runtime)) -> dict:
    p = call.params
    name = p.text("name", required=True, limit=64) or ""
    scopes = parse_scopes(p.text("scopes", required=True, limit=200) or "")
    if set(scopes) & set(OPERATOR_SCOPES):  # a tenant's admin cannot mint a key that sees other tenants
        raise AuthorizationError(f"the {', '.join(OPERATOR_SCOPES)} scope is granted by the operator only (faceprint keys create)", param="scopes")
    qps = p.integer("qps", 10, 1, 1000)
    key, secret = rt.keys.create(name, scopes, float(qps), call.tenant)
    call.outcome = f"created {key.api_key}"
    return {**head(request), **key.to_dict(), "api_secret": secret}


@router.post("/keys/revoke", summary="Revoke a key of your tenant; it stops working at once", openapi_extra=doc(target="The api_key to revoke"))
def keys_revoke(request: Request, call: Call = need("admin", "admin/keys/revoke"), rt: Runtime = Depends(runtime)) -> dict:
    target = call.params.text("target", required=True, limit=128) or ""
    mine = {k.api_key: k for k in rt.keys.list() if k.tenant == call.tenant}
    if target not in mine:
        raise AuthorizationError("no key with this api_key in your tenant", param="target")
    revoked = rt.keys.revoke(target)
    call.outcome = f"revoked {target}" if revoked else f"already revoked {target}"
    return {**head(request), "api_key": target, "revoked": True, "was_active": revoked}
