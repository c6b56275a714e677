"""Admin endpoints (admin scope), each confined to the caller's tenant.

POST /admin/audit: audit lines, oldest first. POST /admin/audit/verify: walk the log's hash chain.
POST /admin/keys/list, /admin/keys/create (the secret is in this one reply only), /admin/keys/revoke.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request

from ..auth import Call, need
from ..keys import parse_scopes
from ..runtime import Runtime, runtime
from ..tenant_admin import AuditQuery, audit_page, create_key, revoke_key, tenant_keys
from . import doc, head

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/audit", summary="Audit lines of your tenant, oldest first", openapi_extra=doc(
    start="Return lines after this sequence number", limit="1-1000 (default 100)", key="Only this api_key's lines",
    endpoint="Only lines whose endpoint contains this text", outcome="Only lines with this outcome; ERROR: every error code",
))  # fmt: skip
def audit(request: Request, call: Call = need("admin", "admin/audit"), rt: Runtime = Depends(runtime)) -> dict[str, Any]:
    p = call.params
    key, start, limit = p.text("key", limit=128), p.integer("start", 0, 0, 10**12), p.integer("limit", 100, 1, 1000)
    query = AuditQuery(start=start, limit=limit, key=key, endpoint=p.text("endpoint", limit=128), outcome=p.text("outcome", limit=128))
    entries = audit_page(rt.audit, call.tenant, query)
    call.results = len(entries)
    return {**head(request), "entries": entries}


@router.post("/audit/verify", summary="Check the audit log's hash chain, from the first line to audit.head", openapi_extra=doc())
async def audit_verify(request: Request, call: Call = need("admin", "admin/audit/verify"), rt: Runtime = Depends(runtime)) -> dict[str, Any]:
    verdict = await anyio.to_thread.run_sync(rt.audit.verify)
    call.outcome = "chain ok" if verdict.ok else "chain broken"
    return {**head(request), **verdict.to_dict()}


@router.post("/keys/list", summary="The API keys of your tenant (never their secrets)", openapi_extra=doc())
def keys_list(request: Request, call: Call = need("admin", "admin/keys/list"), rt: Runtime = Depends(runtime)) -> dict[str, Any]:
    keys = [k.to_dict() for k in tenant_keys(rt.keys, call.tenant)]
    call.results = len(keys)
    return {**head(request), "keys": keys}


@router.post("/keys/create", summary="Create a key in your tenant; its secret is shown in this reply only", openapi_extra=doc(
    name="A label, up to 64 characters", scopes="Comma list of detect,compare,faceset:read,faceset:write,admin",
    qps="Requests per second, 1-1000 (default 10)",
))  # fmt: skip
def keys_create(request: Request, call: Call = need("admin", "admin/keys/create"), rt: Runtime = Depends(runtime)) -> dict[str, Any]:
    p = call.params
    name = p.text("name", required=True, limit=64) or ""
    scopes = parse_scopes(p.text("scopes", required=True, limit=200) or "")
    key, secret = create_key(rt.keys, call.tenant, name, scopes, p.integer("qps", 10, 1, 1000))
    call.outcome = f"created {key.api_key}"
    return {**head(request), **key.to_dict(), "api_secret": secret}


@router.post("/keys/revoke", summary="Revoke a key of your tenant; it stops working at once", openapi_extra=doc(target="The api_key to revoke"))
def keys_revoke(request: Request, call: Call = need("admin", "admin/keys/revoke"), rt: Runtime = Depends(runtime)) -> dict[str, Any]:
    target = call.params.text("target", required=True, limit=128) or ""
    revoked = revoke_key(rt.keys, call.tenant, target)
    call.outcome = f"revoked {target}" if revoked else f"already revoked {target}"
    return {**head(request), "api_key": target, "revoked": True, "was_active": revoked}
