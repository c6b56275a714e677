"""The audit log's hash chain: intact logs verify, and a hand-edited, deleted or cut line is caught."""

from __future__ import annotations

import hashlib
import json
import shutil
import time

import pytest

from faceprint.service.audit import (
    FIELDS,
    GENESIS,
    SEAL_S,
    AuditLog,
    AuditLogTampered,
    head_mac,
    verify,
)
from faceprint.service.audit_key import audit_key

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


def _sha(prev: str, entry: dict, names: tuple[str, ...]) -> str:
    body = json.dumps({k: entry.get(k) for k in names}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev + body).encode()).hexdigest()


def _rewrite(path, lines: list[dict], *, downgrade: bool, start: int) -> None:
    """What someone without the key can do: recompute every hash from line ``start`` on (SHA-256, the
    only formula they can compute), then write a matching audit.head."""
    prev = lines[start - 2]["hash"] if start > 1 else GENESIS
    for e in lines[start - 1 :]:
        if downgrade:
            e.pop("v", None)  # pass the lines off as an old, unkeyed log
        e["prev"] = prev
        e["hash"] = prev = _sha(prev, e, FIELDS if downgrade else (*FIELDS, "v"))
    path.write_text("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines))
    (path.parent / "audit.head").write_text(json.dumps({"seq": lines[-1]["seq"], "hash": prev, "mac": "0" * 64}))


@pytest.mark.parametrize(
    "downgrade, start, bad_line, reason",
    [
        (False, 3, 3, "hash does not match"),  # the edited line itself is caught
        (True, 3, 3, "an unkeyed line after keyed ones"),  # passed off as old lines from the edit on
        (True, 1, None, "audit.head is not sealed"),  # the whole log passed off as old: every line fits, the head cannot
    ],
    ids=["keyed", "downgraded-from-the-edit", "downgraded-whole"],
)
def test_an_edited_line_with_every_later_hash_and_the_head_recomputed_fails(tmp_path, downgrade, start, bad_line, reason):
    path = _fill(tmp_path, 8)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    lines[2]["faces"] = 99
    _rewrite(path, lines, downgrade=downgrade, start=start)
    verdict = verify(tmp_path)
    assert not verdict.ok and verdict.bad_line == bad_line and reason in verdict.reason, verdict
    bad = cli("audit", "verify", "--data", str(tmp_path), check=False)
    assert bad.returncode == 1 and "AUDIT_LOG_TAMPERED" in bad.stdout
    (tmp_path / "audit.head").unlink()
    assert not verify(tmp_path).ok  # no head at all fails too


def test_a_cut_tail_with_the_head_rewritten_fails_and_an_exported_head_catches_an_old_genuine_one(tmp_path):
    path = _fill(tmp_path, 30)
    log = AuditLog(tmp_path)
    exported = log.head()  # kept elsewhere (faceprint audit head --out ...)
    log.close()
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-10]) + "\n")  # the last 10 lines cut
    last = json.loads(lines[-11])
    (tmp_path / "audit.head").write_text(json.dumps({"seq": last["seq"], "hash": last["hash"]}))  # head rewritten, no key
    assert not verify(tmp_path).ok
    (tmp_path / "audit.head").write_text(json.dumps({"seq": last["seq"], "hash": last["hash"], "mac": "f" * 64}))
    assert "not sealed by the audit key" in verify(tmp_path).reason
    with pytest.raises(AuditLogTampered):  # and a server will not extend it
        AuditLog(tmp_path).startup_check()
    # The one cut the data directory alone cannot show: back to where an older genuine head was saved.
    old = {"seq": last["seq"], "hash": last["hash"], "mac": head_mac(audit_key(tmp_path), last["seq"], last["hash"])}
    (tmp_path / "audit.head").write_text(json.dumps(old))
    assert verify(tmp_path).ok
    against = verify(tmp_path, exported=exported)
    assert not against.ok and "exported head records line 30" in against.reason
    saved = tmp_path.parent / f"{tmp_path.name}-exported.json"
    saved.write_text(json.dumps(exported))
    bad = cli("audit", "verify", "--data", str(tmp_path), "--head", str(saved), check=False)
    assert bad.returncode == 1 and "AUDIT_LOG_TAMPERED" in bad.stdout and "lines were cut" in bad.stdout
    (tmp_path / "audit.head").write_text(json.dumps(exported))
    path.write_text("\n".join(lines) + "\n")  # put back whole: it verifies against the export
    assert cli("audit", "verify", "--data", str(tmp_path), "--head", str(saved), check=False).returncode == 0
    assert json.loads(cli("audit", "head", "--data", str(tmp_path)).stdout)["seq"] == 30


def test_a_log_from_before_the_key_is_read_checked_once_and_sealed(tmp_path):
    prev, rows = GENESIS, []
    for i in range(1, 4):  # as the old code wrote it: plain SHA-256, an unsealed head
        e = {"seq": i, "time": 1.0, "key": "fpk_a", "tenant": "t", "endpoint": "detect", "faceset": None, "faces": i, "results": 0, "outcome": "ok"}
        e["prev"], e["hash"] = prev, _sha(prev, e, FIELDS)
        prev = e["hash"]
        rows.append(json.dumps(e, separators=(",", ":")))
    (tmp_path / "audit.log").write_text("\n".join(rows) + "\n")
    (tmp_path / "audit.head").write_text(json.dumps({"seq": 3, "hash": prev}))
    assert "not sealed" in verify(tmp_path).reason
    log = AuditLog(tmp_path)
    assert len(log.read()) == 3  # readable as it was
    log.startup_check()  # what faceprint serve does on open: the old chain checks out, its head is sealed
    log.append(key="fpk_a", tenant="t", endpoint="detect")
    log.close()
    assert verify(tmp_path).ok and verify(tmp_path).lines == 4
    lines = (tmp_path / "audit.log").read_text().splitlines()
    assert json.loads(lines[3])["v"] == 2 and json.loads(lines[3])["prev"] == prev  # the first keyed line seals the old ones
    (tmp_path / "audit.log").write_text("\n".join([lines[0].replace('"faces":1', '"faces":5'), *lines[1:]]) + "\n")
    assert verify(tmp_path).bad_line == 1


def _snapshot(src, dst):
    """The data directory as a kill -9 would leave it: the files as they are now, no close()."""
    dst.mkdir()
    for name in ("audit.log", "audit.head"):
        shutil.copy(src / name, dst / name)
    return dst


def test_a_burst_reseals_the_head_once_per_interval_and_close_seals_the_last_line(tmp_path):
    log = AuditLog(tmp_path / "live")
    log.append(key="fpk_a", tenant="", endpoint="detect", outcome="AUTHENTICATION_ERROR")
    head = lambda: json.loads((tmp_path / "live" / "audit.head").read_text())["seq"]  # noqa: E731
    assert head() == 1  # the first line after a quiet spell is sealed at once
    for _ in range(50):  # a flood of refused logins: no head rewrite per line
        log.append(key="fpk_a", tenant="", endpoint="detect", outcome="AUTHENTICATION_ERROR")
    assert head() < 51
    crashed = verify(_snapshot(tmp_path / "live", tmp_path / "crashed"))
    assert crashed.ok and crashed.unsealed == 51 - head() > 0  # the unsealed tail: chained and keyed, not yet sealed
    time.sleep(SEAL_S + 0.3)
    assert head() == 51  # resealed by the timer, without another append
    log.append(key="fpk_a", tenant="", endpoint="detect")
    log.close()
    assert head() == 52 and verify(tmp_path / "live").unsealed == 0


def test_the_unsealed_tail_of_a_crash_is_chained_keyed_and_accepted_at_restart_but_an_edit_is_not(tmp_path):
    log = AuditLog(tmp_path / "live")
    for i in range(20):
        log.append(key="fpk_a", tenant="t", endpoint="detect", faces=i)
    dead = _snapshot(tmp_path / "live", tmp_path / "dead")  # killed within SEAL_S of its last lines
    log.close()
    sealed = json.loads((dead / "audit.head").read_text())["seq"]
    assert sealed < 20
    AuditLog(dead).startup_check()  # a restart accepts the tail it can check line by line
    lines = (dead / "audit.log").read_text().splitlines()
    edited = [*lines[:-1], lines[-1].replace('"faces":19', '"faces":0')]
    (dead / "audit.log").write_text("\n".join(edited) + "\n")
    assert verify(dead).bad_line == 20
    with pytest.raises(AuditLogTampered):
        AuditLog(dead).startup_check()
    # The documented window: the unsealed tail cut off (back to the head's line) is not detectable...
    (dead / "audit.log").write_text("\n".join(lines[:sealed]) + "\n")
    assert verify(dead).ok
    # ...but a cut into what the head sealed is, and once closed the head seals every line.
    (dead / "audit.log").write_text("\n".join(lines[: sealed - 1]) + "\n")
    assert not verify(dead).ok
    assert verify(tmp_path / "live").ok and verify(tmp_path / "live").unsealed == 0


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
        assert set(e) == {"seq", "time", "key", "tenant", "endpoint", "faceset", "faces", "results", "outcome", "v", "prev", "hash"}
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
