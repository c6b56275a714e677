"""A tenant's admin: its page of the audit log and its API keys, never another tenant's.

The ``/admin`` router parses the form and shapes the reply; what a page of audit lines holds and
which keys a tenant's admin may mint or revoke are decided here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import AuthorizationError
from .audit import Audit
from .keys import OPERATOR_SCOPES, ApiKey, KeyStore

ERROR = "ERROR"  # the outcome filter matching every error line
_CODE = re.compile(r"[A-Z][A-Z_]+")  # an error outcome is the Face++ code
_BATCH = 1000  # audit lines read per pass while filling a page


@dataclass(frozen=True)
class AuditQuery:
    """Which audit lines of a tenant to return: after ``start``, at most ``limit`` of them."""

    start: int = 0
    limit: int = 100
    key: str | None = None  # only this api_key's lines
    endpoint: str | None = None  # only lines whose endpoint contains this text
    outcome: str | None = None  # only lines with this outcome; ERROR: every error code

    def matches(self, entry: dict[str, Any]) -> bool:
        if self.endpoint is not None and self.endpoint not in str(entry.get("endpoint", "")):
            return False
        if self.outcome == ERROR:
            return bool(_CODE.fullmatch(str(entry.get("outcome", ""))))
        return self.outcome is None or entry.get("outcome") == self.outcome


def audit_page(audit: Audit, tenant: str, query: AuditQuery) -> list[dict[str, Any]]:
    """The tenant's matching lines, oldest first: read in batches, so a page holds ``limit`` matches."""
    entries: list[dict[str, Any]] = []
    start = query.start
    while len(entries) < query.limit:
        batch = audit.read(tenant=tenant, key=query.key, start=start, limit=_BATCH)
        if not batch:
            break
        start = int(batch[-1]["seq"])
        entries += [e for e in batch if query.matches(e)]
    return entries[: query.limit]


def tenant_keys(keys: KeyStore, tenant: str) -> list[ApiKey]:
    return [k for k in keys.list() if k.tenant == tenant]


def create_key(keys: KeyStore, tenant: str, name: str, scopes: tuple[str, ...], qps: int) -> tuple[ApiKey, str]:
    """A new key of ``tenant`` and its secret. A tenant's admin cannot mint a key that sees other tenants."""
    if set(scopes) & set(OPERATOR_SCOPES):
        raise AuthorizationError(f"the {', '.join(OPERATOR_SCOPES)} scope is granted by the operator only (faceprint keys create)", param="scopes")
    return keys.create(name, scopes, float(qps), tenant)


def revoke_key(keys: KeyStore, tenant: str, api_key: str) -> bool:
    """Revoke one of ``tenant``'s keys: True if it was active. Another tenant's key is refused as unknown."""
    if api_key not in {k.api_key for k in tenant_keys(keys, tenant)}:
        raise AuthorizationError("no key with this api_key in your tenant", param="target")
    return keys.revoke(api_key)
