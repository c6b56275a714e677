"""The audit log's hash chain: intact logs verify, and a hand-edited, deleted or cut line is caught."""

from __future__ import annotations

import json
import shutil

import pytest

from faceprint.service.audit import AuditLog, verify

from .support import cli, make_key


def _fill(tmp_path, n=5):
    log = AuditLog(tmp_path)
    for i in range(n):
        log.append(key="fpk_a", tenant="t", endpoint="detect", faces=i, results=0)
    log.close()
    return tmp_path / "audit.log"


def test_intact_log_verifies_and_reopening_continues_the_chain(tmp_path):
    _fill(tmp_path, 3)
    _fill(tmp_path, 2)  # a restart appends after the last line
    verdict = verify(tmp_path)
    assert verdict.ok and verdict.lines == 5
    seqs = [json.loads(line)["seq"] for line in (tmp_path / "audit.log").read_text().splitlines()]
    assert seqs == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "tamper, bad_line",
    [
        (lambda lines: lines.__setitem__(2, lines[2].replace('"faces":2', '"faces":7')), 3),
        (lambda lines: lines.__setitem__(1, lines[1].replace('"outcome":"ok"', '"outcome":"NO"')), 2),
        (lambda lines: lines.pop(1), 2),
        (lambda lines: lines.insert(4, lines.pop(3)), 4),
        (lambda lines: lines.pop(), None),  # cut off the end: caught by audit.head
    ],
)
def test_tampering_is_detected(tmp_path, tamper, bad_line):
    path = _fill(tmp_path)
    lines = path.read_text().splitlines()
    tamper(lines)
    path.write_text("\n".join(lines) + "\n")
    verdict = verify(tmp_path)
    assert not verdict.ok and verdict.bad_line == bad_line


def test_recomputing_one_hash_still_breaks_the_next_line(tmp_path):
    import hashlib

    from faceprint.service.audit import FIELDS

    path = _fill(tmp_path)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    lines[1]["faces"] = 99
    body = json.dumps({k: lines[1].get(k) for k in FIELDS}, sort_keys=True, separators=(",", ":"))
    lines[1]["hash"] = hashlib.sha256((lines[1]["prev"] + body).encode()).hexdigest()
    path.write_text("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines))
    assert verify(tmp_path).bad_line == 3


def test_server_audit_log_verifies_and_cli_catches_a_hand_edited_line(server, key, photos, tmp_path):
    with server.client() as c:
        c.post("/facepp/v3/detect", data=key.auth, files={"image_file": ("o.jpg", (photos / "obama.jpg").read_bytes())})
        c.post("/facepp/v3/faceset/create", data={**key.auth, "outer_id": "audited"})
        c.post("/facepp/v3/detect", data={**key.auth, "api_secret": "wrong"})
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("audit.log", "audit.head"):
        shutil.copy(server.data / name, copy / name)
    ok = cli("audit", "verify", "--data", str(copy), check=False)
    assert ok.returncode == 0 and "intact" in ok.stdout
    entries = [json.loads(x) for x in (copy / "audit.log").read_text().splitlines()]
    assert {e["endpoint"] for e in entries} >= {"detect", "faceset/create"}
    assert any(e["outcome"] == "AUTHENTICATION_ERROR" for e in entries)
    for e in entries:  # never images or embeddings: only these fields
        assert set(e) == {"seq", "time", "key", "tenant", "endpoint", "faceset", "faces", "results", "outcome", "prev", "hash"}
    shown = json.loads(cli("audit", "show", "--json", "--data", str(copy), "--limit", "1000").stdout)
    assert len(shown) == len(entries)
    assert json.loads(cli("audit", "--json", "--data", str(copy), "--limit", "1000").stdout) == shown  # bare `faceprint audit`

    lines = (copy / "audit.log").read_text().splitlines()
    target = next(i for i, e in enumerate(entries) if e["endpoint"] == "detect" and e["outcome"] == "ok")
    lines[target] = lines[target].replace('"faces":1', '"faces":0')  # a hand edit: hide that a face was processed
    (copy / "audit.log").write_text("\n".join(lines) + "\n")
    bad = cli("audit", "verify", "--data", str(copy), check=False)
    assert bad.returncode == 1 and f"line {target + 1}" in bad.stdout and "AUDIT_LOG_TAMPERED" in bad.stdout


def test_keys_cli_round_trip(tmp_path):
    k = make_key(tmp_path, "detect,compare", qps=2.5)
    listed = json.loads(cli("keys", "list", "--json", "--data", str(tmp_path)).stdout)
    assert [(x["api_key"], x["scopes"], x["qps"]) for x in listed] == [(k.api_key, ["detect", "compare"], 2.5)]
    bad = cli("keys", "create", "--name", "x", "--scopes", "detect,ethnicity", "--data", str(tmp_path), check=False)
    assert bad.returncode == 2 and "BAD_ARGUMENTS" in bad.stderr
    assert cli("keys", "revoke", k.api_key, "--data", str(tmp_path)).returncode == 0
    assert json.loads(cli("keys", "list", "--json", "--data", str(tmp_path)).stdout)[0]["revoked"] is not None
