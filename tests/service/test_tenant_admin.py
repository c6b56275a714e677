"""service/tenant_admin.py: a tenant's page of the audit log and its keys, on a real audit log and key store."""

from __future__ import annotations

from pathlib import Path

import pytest

from faceprint.errors import AuthorizationError
from faceprint.service.audit import AuditLog
from faceprint.service.keys import KeyStore
from faceprint.service.tenant_admin import AuditQuery, audit_page, create_key, revoke_key, tenant_keys


def _log(tmp_path: Path) -> AuditLog:
    log = AuditLog(tmp_path)
    for i in range(1200):  # more than one read batch of 1,000 lines
        tenant = "t" if i % 3 else "other"
        outcome = "INVALID_FACE_TOKEN" if i % 100 == 1 else "ok"
        log.append(key=f"fpk_{i % 2}", tenant=tenant, endpoint="faceset/addface" if i % 2 else "detect", outcome=outcome)
    return log


def test_a_page_holds_limit_matches_read_across_batches(tmp_path: Path) -> None:
    log = _log(tmp_path)
    try:
        everything = audit_page(log, "t", AuditQuery(limit=1000))
        assert len(everything) == 800 and {e["tenant"] for e in everything} == {"t"}
        seqs = [int(e["seq"]) for e in everything]
        assert seqs == sorted(seqs)  # oldest first
        errors = audit_page(log, "t", AuditQuery(limit=1000, outcome="ERROR"))
        assert [e["outcome"] for e in errors] == ["INVALID_FACE_TOKEN"] * len(errors) and len(errors) == 8
        assert audit_page(log, "t", AuditQuery(limit=1000, outcome="INVALID_FACE_TOKEN")) == errors
        # the one matching line of a key's lines past the first read batch is still found
        late = audit_page(log, "t", AuditQuery(start=1000, limit=5, key="fpk_1", endpoint="addface", outcome="ERROR"))
        assert [int(e["seq"]) for e in late] == [1002] and late[0]["key"] == "fpk_1"
        page = audit_page(log, "t", AuditQuery(start=seqs[9], limit=10, endpoint="addface"))
        assert len(page) == 10 and all("addface" in e["endpoint"] and int(e["seq"]) > seqs[9] for e in page)
        assert audit_page(log, "nobody", AuditQuery()) == []
    finally:
        log.close()


def test_keys_are_made_listed_and_revoked_within_one_tenant(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path)
    try:
        mine, secret = create_key(keys, "t", "reader", ("detect",), 5)
        theirs, _ = keys.create("x", ("admin",), 10, "other")
        assert mine.tenant == "t" and mine.qps == 5.0 and len(secret) > 20
        assert [k.api_key for k in tenant_keys(keys, "t")] == [mine.api_key]
        with pytest.raises(AuthorizationError) as refused:
            revoke_key(keys, "t", theirs.api_key)  # another tenant's key is as good as unknown
        assert refused.value.details["param"] == "target"
        assert revoke_key(keys, "t", mine.api_key) is True
        assert revoke_key(keys, "t", mine.api_key) is False  # already revoked
        with pytest.raises(AuthorizationError) as operator:
            create_key(keys, "t", "spy", ("detect", "metrics"), 5)
        assert operator.value.details["param"] == "scopes"
        assert [k.api_key for k in tenant_keys(keys, "t")] == [mine.api_key]  # nothing was minted
    finally:
        keys.close()
