"""Service state on a real PostgreSQL server, seen from two "nodes" (two states, two pools).

Each test gets a fresh database (``postgres_url``); a node here is a :class:`PostgresState`, the same
object a ``faceprint serve`` process opens for ``--store postgresql://...``.
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg
import pytest

from faceprint.errors import FaceprintError, InvalidFaceToken
from faceprint.liveness import SessionStore
from faceprint.redact import mask_url
from faceprint.service.audit_table import SCHEMA as AUDIT_SCHEMA
from faceprint.service.batching import analyse
from faceprint.service.db import Schema
from faceprint.service.errors import AuthenticationError, ConcurrencyLimitExceeded, ServiceStateError
from faceprint.service.faceid import SESSIONS
from faceprint.service.keys import KeyStore
from faceprint.service.state import PostgresState, open_state
from faceprint.service.tokens import TokenStore
from threads_support import together

from .support import cli


@pytest.fixture
def nodes(postgres_url):
    """Two nodes' states on one database."""
    a, b = open_state(postgres_url, None), open_state(postgres_url, None)
    yield a, b
    a.close()
    b.close()


@pytest.fixture(scope="module")
def faces(engine, photos):
    return analyse(engine, [engine.load(photos / "obama.jpg"), engine.load(photos / "biden.jpg")])


def with_password(url: str, password: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, f"{p.username}:{password}@{p.hostname}:{p.port}", p.path, "", ""))


# -- keys ----------------------------------------------------------------------------------------------
def test_a_key_made_on_one_node_works_on_the_other_and_a_revocation_reaches_it(nodes):
    a, b = KeyStore(nodes[0]), KeyStore(nodes[1])
    key, secret = a.create("shared", ("detect", "faceset:read"), 7.5, None)
    got = b.authenticate(key.api_key, secret)
    assert (got.tenant, got.scopes, got.qps) == (key.api_key, ("detect", "faceset:read"), 7.5)
    assert [k.api_key for k in b.list()] == [key.api_key]
    with pytest.raises(AuthenticationError):
        b.authenticate(key.api_key, secret + "x")
    assert a.revoke(key.api_key) and not b.revoke(key.api_key)
    with pytest.raises(AuthenticationError):
        b.authenticate(key.api_key, secret)  # b had the secret cached; the row is read on every call


# -- face tokens ---------------------------------------------------------------------------------------
@pytest.fixture
def galleries(postgres_url, engine, tmp_path):
    """Two nodes' gallery services on one database: face tokens are rows of the shared store."""
    from faceprint.gallery import GalleryConfig, GalleryService

    a = GalleryService(GalleryConfig(data_dir=tmp_path / "a", store=postgres_url), engine=engine)
    b = GalleryService(GalleryConfig(data_dir=tmp_path / "b", store=postgres_url), engine=engine)
    yield a, b
    a.close()
    b.close()


def test_face_tokens_minted_on_one_node_are_read_added_and_expired_on_the_other(galleries, faces):
    a, b = TokenStore(galleries[0], ttl_s=100), TokenStore(galleries[1], ttl_s=100)
    (t1,), (t2,) = a.mint("t", "arcface-s", faces[0]), a.mint("t", "arcface-s", faces[1])
    got = b.get("t", t1)
    assert np.array_equal(got.face.embedding, faces[0][0].embedding) and got.face.landmarks.shape == (106, 2)
    assert np.allclose(got.face.bbox, faces[0][0].bbox) and got.pack == "arcface-s" and got.expires > time.time() + 90
    with pytest.raises(InvalidFaceToken):
        b.get("other-tenant", t1)
    fs1, fs2 = galleries[1].create("fs1", tenant="t"), galleries[0].create("fs2", tenant="t")
    assert galleries[1].add_detected((fs1.token, None), [t1], 10, tenant="t").added == (t1,)
    refused = galleries[0].add_detected((fs2.token, None), [t1], 10, tenant="t")
    assert refused.added == () and refused.failures == ((t1, "FACE_IN_ANOTHER_FACESET"),)  # one home
    assert a.purge(now=time.time() + 1000) == 1  # t2 went; t1 lives in fs1
    with pytest.raises(InvalidFaceToken):
        b.get("t", t2)
    assert b.get("t", t1).expires is None and a.get("t", t1).faceset_token == fs1.token
    b.set_user_id("t", t1, "barack")
    assert a.get("t", t1).user_id == "barack" and galleries[0].face(t1, tenant="t").subject == "barack"
    assert galleries[0].remove_faces(fs1.token, [t1], tenant="t") == 1
    with pytest.raises(InvalidFaceToken):
        b.get("t", t1)
    assert b.count() == 0


def test_a_short_lived_token_is_refused_on_both_nodes_once_expired(galleries, faces, postgres_url):
    a, b = TokenStore(galleries[0], ttl_s=1.0), TokenStore(galleries[1], ttl_s=1.0)
    (tok,) = a.mint("t", "arcface-s", faces[0])
    assert b.get("t", tok).token == tok
    time.sleep(1.2)
    for store in (b, a):
        with pytest.raises(InvalidFaceToken):
            store.get("t", tok)
    assert a.purge() == 1
    with psycopg.connect(postgres_url) as c:  # deleted for real, its template too
        assert c.execute("SELECT COUNT(*) FROM faces").fetchone()[0] == 0
        assert c.execute("SELECT COUNT(*) FROM face_vectors_0").fetchone()[0] == 0


def test_purge_on_every_node_at_once_deletes_each_expired_token_once(galleries, faces):
    stores = [TokenStore(g, ttl_s=100) for g in galleries]
    for _ in range(20):
        stores[0].mint("t", "arcface-s", faces[0])
        stores[1].mint("t", "arcface-s", faces[1])
    (kept,) = stores[0].mint("t", "arcface-s", faces[0])
    fs = galleries[1].create("fs", tenant="t")
    galleries[1].add_detected((fs.token, None), [kept], 10, tenant="t")
    counts, errors = [], []
    barrier = threading.Barrier(4)

    def sweep(store: TokenStore) -> None:
        barrier.wait()
        try:
            counts.append(store.purge(now=time.time() + 1000))
        except Exception as exc:  # recorded and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=sweep, args=(stores[i % 2],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sum(counts) == 40 and stores[0].count() == 0 and galleries[0].get("fs", tenant="t").face_count == 1


# -- rate limits ---------------------------------------------------------------------------------------
@pytest.mark.serial  # a wall-clock bound: run alone (Makefile, docs/development.md)
def test_one_bucket_per_key_across_nodes(nodes):
    limiters = [n.limiter() for n in nodes]
    qps, seconds = 5.0, 2.0
    allowed = [0, 0]
    refused = [0, 0]
    start = time.monotonic()
    lock = threading.Lock()

    def hammer(i: int) -> None:
        while time.monotonic() - start < seconds:
            try:
                limiters[i].check("fpk_shared", qps)
                ok = True
            except ConcurrencyLimitExceeded as exc:
                assert exc.code == "CONCURRENCY_LIMIT_EXCEEDED"
                ok = False
            with lock:
                (allowed if ok else refused)[i] += 1
            time.sleep(0.005)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    total = sum(allowed)
    # A full bucket (burst = qps) and qps a second after it: for both nodes together, not each.
    assert qps + qps * (elapsed - 0.3) <= total <= qps + qps * elapsed + 1, (allowed, refused, elapsed)
    assert min(allowed) >= 2 and min(refused) > 10  # both nodes served and were refused
    limiters[0].check("fpk_other", qps)  # buckets are per key


@pytest.mark.serial  # a wall-clock bound: run alone (Makefile, docs/development.md)
def test_a_refused_request_does_not_eat_the_refill(nodes):
    lim_a, lim_b = (n.limiter() for n in nodes)
    lim_a.check("k", 2.0)
    lim_b.check("k", 2.0)  # the burst (2) is spent
    with pytest.raises(ConcurrencyLimitExceeded):
        lim_a.check("k", 2.0)
    time.sleep(0.55)  # one token back (2/s); the refusal above did not reset the clock
    lim_b.check("k", 2.0)
    with pytest.raises(ConcurrencyLimitExceeded):
        lim_a.check("k", 2.0)


# -- audit ---------------------------------------------------------------------------------------------
def test_appends_from_two_nodes_form_one_chain_and_tampering_is_named(nodes, postgres_url):
    logs = [n.audit() for n in nodes]
    per_thread = 30

    def append(i: int) -> None:
        for j in range(per_thread):
            logs[i % 2].append(key=f"fpk_{i}", tenant=f"t{i % 2}", endpoint="detect", faces=j, results=0)

    threads = [threading.Thread(target=append, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    verdict = logs[1].verify()
    assert verdict.ok and verdict.lines == 4 * per_thread
    every = logs[0].read(limit=1000)
    assert [e["seq"] for e in every] == list(range(1, 4 * per_thread + 1))
    assert {e["key"] for e in every} == {"fpk_0", "fpk_1", "fpk_2", "fpk_3"}
    mine = logs[0].read(tenant="t1", start=10, limit=5)
    assert len(mine) == 5 and all(e["tenant"] == "t1" and e["seq"] > 10 for e in mine)
    assert logs[1].read(key="fpk_2", limit=1000) == [e for e in every if e["key"] == "fpk_2"]

    ok = cli("audit", "verify", "--store", postgres_url, "--json", check=False)
    assert ok.returncode == 0 and json.loads(ok.stdout) == {"ok": True, "lines": 120, "bad_line": None, "reason": ""}
    shown = json.loads(cli("audit", "show", "--store", postgres_url, "--json", "--limit", "1000").stdout)
    assert shown == every

    with psycopg.connect(postgres_url, autocommit=True) as c:
        line = c.execute("SELECT line FROM audit_log WHERE seq=7").fetchone()[0]
        c.execute("UPDATE audit_log SET line=%s WHERE seq=7", (line.replace('"outcome":"ok"', '"outcome":"NO"'),))
        assert logs[0].verify().bad_line == 7
        c.execute("UPDATE audit_log SET line=%s WHERE seq=7", (line,))
        assert logs[0].verify().ok
        c.execute("DELETE FROM audit_log WHERE seq=50")
        bad = cli("audit", "verify", "--store", postgres_url, check=False)
        assert bad.returncode == 1 and "AUDIT_LOG_TAMPERED" in bad.stdout and "line 50" in bad.stdout
        c.execute("DELETE FROM audit_log WHERE seq>=50")  # cut the end off: the head row still says 120
        verdict = logs[0].verify()
        assert not verdict.ok and verdict.bad_line is None and "truncated" in verdict.reason


# -- liveness sessions ---------------------------------------------------------------------------------
def test_a_biz_token_is_spent_once_across_nodes(nodes, postgres_url):
    stores = [SessionStore(db=n.db(SESSIONS)) for n in nodes]
    ref = np.linspace(-1, 1, 512).astype(np.float32)
    issued = stores[0].issue(tenant="t1", reference=ref, reference_info={"kind": "image"})
    wins, codes = [], []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            wins.append(stores[i % 2].consume(issued.nonce, tenant="t1"))
        except FaceprintError as exc:
            codes.append(exc.code)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and codes == ["NONCE_REUSED"] * 7
    np.testing.assert_array_equal(wins[0].reference, ref)
    assert wins[0].reference_info == {"kind": "image"} and wins[0].actions == issued.challenge.actions
    with psycopg.connect(postgres_url) as c:
        assert c.execute("SELECT COUNT(*) FROM liveness_sessions WHERE reference IS NOT NULL").fetchone()[0] == 0
    other = stores[1].issue(tenant="t1")
    with pytest.raises(FaceprintError) as exc:
        stores[0].consume(other.nonce, tenant="t2")
    assert exc.value.code == "NONCE_UNKNOWN"
    assert stores[0].consume(other.nonce, tenant="t1").tenant == "t1"


# -- schema, connections, secrets ----------------------------------------------------------------------
def test_nodes_starting_together_create_the_tables_once_and_record_versions(postgres_url):
    def start():
        s = open_state(postgres_url, None)
        KeyStore(s)
        s.limiter()
        s.audit()
        s.db(SESSIONS)
        return s

    states, errors = together(6, start)
    for s in states:
        s.close()
    assert errors == []
    with psycopg.connect(postgres_url) as c:
        versions = dict(c.execute("SELECT part, version FROM service_schema").fetchall())
        head = c.execute("SELECT seq FROM audit_head").fetchall()
    assert versions == {"api_keys": 1, "rate_buckets": 1, "audit_log": 1, "liveness_sessions": 1}  # face tokens: the gallery store
    assert head == [(0,)]


def test_a_database_from_a_newer_faceprint_is_refused(postgres_url):
    state = open_state(postgres_url, None)
    try:
        state.db(AUDIT_SCHEMA)
        with psycopg.connect(postgres_url, autocommit=True) as c:
            c.execute("UPDATE service_schema SET version=99 WHERE part='audit_log'")
        with pytest.raises(ServiceStateError) as exc:
            open_state(postgres_url, None).db(AUDIT_SCHEMA)
        assert exc.value.code == "SERVICE_STATE_ERROR" and "upgrade" in exc.value.message
        newer = Schema("audit_log", 100, sqlite=(), postgresql=AUDIT_SCHEMA.postgresql)
        fresh = open_state(postgres_url, None)
        fresh.db(newer)  # a newer faceprint upgrades it
        fresh.close()
    finally:
        state.close()


def test_passwords_are_masked_and_an_unreachable_server_is_a_stable_error(postgres_url):
    url = with_password(postgres_url, "s3cret-pw")
    assert "s3cret-pw" not in mask_url(url) and mask_url(url).startswith("postgresql://") and ":***@" in mask_url(url)
    assert mask_url("sqlite:///x/faceprint.db") == "sqlite:///x/faceprint.db"
    assert mask_url("milvus://tok3n@h:19530", hide_user=True) == "milvus://***@h:19530"
    assert mask_url("milvus://h:19530", hide_user=True) == "milvus://h:19530"
    assert mask_url("postgresql://u@h/db?sslmode=require&password=pw1") == "postgresql://u@h/db?sslmode=require&password=***"
    port = urlsplit(postgres_url).port
    dead = url.replace(f":{port}/", ":1/")
    with pytest.raises(ServiceStateError) as exc:
        PostgresState(dead, timeout_s=1.0)
    assert "s3cret-pw" not in str(exc.value.to_dict()) and exc.value.http_status == 503
    out = cli("keys", "list", "--store", dead, "--json", check=False)
    assert out.returncode == 2 and json.loads(out.stdout)["error_code"] == "SERVICE_STATE_ERROR"
    assert "s3cret-pw" not in out.stdout + out.stderr and "Traceback" not in out.stderr


def test_keys_cli_on_the_shared_store(postgres_url, tmp_path):
    made = json.loads(cli("keys", "create", "--name", "n", "--scopes", "detect", "--qps", "3", "--store", postgres_url, "--json").stdout)
    listed = json.loads(cli("keys", "list", "--store", postgres_url, "--json", "--data", str(tmp_path)).stdout)
    assert [(k["api_key"], k["qps"]) for k in listed] == [(made["api_key"], 3.0)]
    assert not (tmp_path / "keys.db").exists()  # nothing of it in the data directory
    assert cli("keys", "revoke", made["api_key"], "--store", postgres_url).returncode == 0
    state = open_state(postgres_url, None)
    try:
        with pytest.raises(AuthenticationError):
            KeyStore(state).authenticate(made["api_key"], made["api_secret"])
    finally:
        state.close()


def test_connections_the_server_dropped_are_replaced_not_used(postgres_url):
    """After a PostgreSQL restart (here: every other backend terminated) the next call just works."""
    state = open_state(postgres_url, None)
    keys = KeyStore(state)
    keys.create("before", ("detect",), 5.0)
    with psycopg.connect(postgres_url, autocommit=True) as c:
        killed = c.execute("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
                           " WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]  # fmt: skip
    assert killed >= 1
    assert [k.name for k in keys.list()] == ["before"]
    state.close()
