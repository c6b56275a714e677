"""The PostgreSQL store on a real server: migrations, keys, erasure on disk, markers, concurrent writers.

What every store must do is tests/contract/; this file holds what only PostgreSQL has. Tests that
read the cluster's files run on a cluster of their own (``cluster``), started for this module.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest

from backends.postgres import fresh_database, postgres_server
from faceprint.errors import EncryptionKeyError, GalleryError, InvalidFacesetToken, InvalidFaceToken
from faceprint.gallery import NewFace, NewFaceSet
from faceprint.gallery.crypto import Cipher
from faceprint.gallery.store import SqliteStore, StoreOptions, migrations, open_store, pg_erase
from faceprint.gallery.store.postgres import PostgresStore
from gallery_support import unit
from threads_support import together

KEY = bytes(range(32))
DIM = 512  # 2 KiB a template: three rows to a heap page


def new_set(outer: str | None = None, dim: int = DIM, tenant: str = "default") -> NewFaceSet:
    return NewFaceSet(pack="synthetic", dim=dim, outer_id=outer, tenant=tenant)


@pytest.fixture(scope="module")
def cluster():
    """(admin URL, data directory) of a PostgreSQL cluster only this module uses."""
    with postgres_server() as (url, data):
        yield url, data


def admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


def cluster_files(data: Path, skip: tuple[str, ...] = ("pg_wal",), db: str | None = None) -> dict[str, bytes]:
    """Every file of the cluster outside ``skip`` (and, given a database URL, outside other databases), read once."""
    if db is not None:
        with admin(db) as c:
            oid = c.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()[0]
        skip = (*skip, *(f"base/{d}" for d in os.listdir(data / "base") if d != str(oid)))
    out = {}
    for root, dirs, files in os.walk(data):
        dirs[:] = [d for d in dirs if os.path.relpath(os.path.join(root, d), data) not in skip]
        for name in files:
            path = os.path.join(root, name)
            try:
                out[os.path.relpath(path, data)] = Path(path).read_bytes()
            except OSError:  # a temp file of the server, gone while we walk
                continue
    return out


def files_holding(data: Path | dict[str, bytes], needles: list[bytes], skip: tuple[str, ...] = ("pg_wal",)) -> list[str]:
    """Files of the cluster (outside ``skip``; or of a :func:`cluster_files` read) that hold any needle."""
    files = data if isinstance(data, dict) else cluster_files(data, skip)
    return sorted(name for name, raw in files.items() if any(n in raw for n in needles))


def needles(v: np.ndarray) -> list[bytes]:
    """Pieces of a template's float32 bytes: any one left in a file is a trace."""
    raw = v.astype("<f4").tobytes()
    return [raw[i : i + 32] for i in range(0, len(raw), 512)]


# -- migrations -------------------------------------------------------------------------------
def test_migrations_apply_once_even_when_nodes_start_together(postgres_url):
    def node() -> list:
        with psycopg.connect(postgres_url, autocommit=True) as c:
            return migrations.migrate(c)

    results, errors = together(6, node)
    assert not errors, errors[0]
    versions = [m.version for m in migrations.known()]
    assert sorted(results, key=len) == [[]] * 5 + [versions]  # exactly one node applied them
    with psycopg.connect(postgres_url, autocommit=True) as c:
        assert migrations.migrate(c) == [] and migrations.applied(c) == versions  # and again: nothing to do
        assert c.execute("SELECT pg_try_advisory_lock(%s)", (migrations.LOCK_KEY,)).fetchone()[0]  # released


def test_stores_opening_together_all_work_on_one_schema(postgres_url):
    stores, errors = together(4, lambda: PostgresStore(postgres_url, Cipher(KEY), pool_max=2))
    assert not errors, errors[0]
    fs = stores[0].create_faceset(new_set("g", dim=8))
    stores[1].add_faces("default", fs.token, [NewFace(unit(np.random.default_rng(0), 1, 8)[0], "x")])
    assert all(s.get_faceset("default", fs.token).face_count == 1 for s in stores)
    for s in stores:
        s.close()


def test_a_failed_migration_leaves_nothing_and_a_newer_schema_is_refused(postgres_url):
    PostgresStore(postgres_url).close()
    base = migrations.known()
    broken = [*base, migrations.Migration(len(base) + 1, "broken", "CREATE TABLE half(x int); SELECT 1/0;")]
    with psycopg.connect(postgres_url, autocommit=True) as c:
        with pytest.raises(psycopg.errors.DivisionByZero):
            migrations.migrate(c, broken)
        assert c.execute("SELECT to_regclass('half')").fetchone()[0] is None  # rolled back whole
        assert migrations.applied(c) == [m.version for m in base]
        newer = [*base, migrations.Migration(len(base) + 1, "newer", "CREATE TABLE later(x int);")]
        assert migrations.migrate(c, newer) == [len(base) + 1]  # as a newer faceprint would
    with pytest.raises(GalleryError, match=f"schema is at version {len(base) + 1}, newer than this faceprint knows"):
        PostgresStore(postgres_url)


# -- keys and errors --------------------------------------------------------------------------
def test_encrypted_store_needs_its_key_and_keeps_no_plaintext(cluster):
    url, data = cluster
    db = fresh_database(url)
    st = PostgresStore(db, Cipher(KEY))
    fs = st.create_faceset(new_set())
    vecs = unit(np.random.default_rng(11), 20, DIM)
    thumb = os.urandom(64)
    recs = st.add_faces("default", fs.token, [NewFace(v, "s", thumbnail=thumb) for v in vecs])
    st.close()
    with admin(url) as c:
        c.execute("CHECKPOINT")
    assert files_holding(data, [n for v in vecs for n in needles(v)] + [thumb], skip=()) == []  # nor in pg_wal
    with pytest.raises(EncryptionKeyError):
        PostgresStore(db)
    with pytest.raises(EncryptionKeyError):
        PostgresStore(db, Cipher(bytes(32)))
    st = PostgresStore(db, Cipher(KEY))
    np.testing.assert_array_equal(st.get_embedding("default", recs[3].token), vecs[3])
    assert st.get_thumbnail("default", recs[0].token) == thumb
    st.close()
    plain = fresh_database(url)
    PostgresStore(plain).close()
    with pytest.raises(EncryptionKeyError):
        PostgresStore(plain, Cipher(KEY))


def test_unreachable_server_is_a_gallery_error_without_the_password():
    with pytest.raises(GalleryError) as info:
        open_store("postgresql://app:s3cret@127.0.0.1:1/faceprint", StoreOptions(Cipher(None)))
    assert "s3cret" not in info.value.message and "app:***@127.0.0.1:1" in info.value.message


def test_without_psycopg_the_error_says_what_to_install():
    code = (
        "import sys; sys.modules['psycopg'] = None\n"  # as if the [scale] extra were not installed
        "from faceprint.errors import GalleryError\n"
        "from faceprint.gallery.store import StoreOptions, open_store\n"
        "from faceprint.gallery.crypto import Cipher\n"
        "try:\n    open_store('postgresql://x@127.0.0.1/db', StoreOptions(Cipher(None)))\n"
        "except GalleryError as exc:\n    print(exc.code, exc.message)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("GALLERY_ERROR") and "pip install 'faceprint[scale]'" in out


def test_names_postgresql_cannot_hold_match_nothing(postgres_url):
    st = PostgresStore(postgres_url)
    fs = st.create_faceset(new_set("g", dim=8))
    st.add_faces("default", fs.token, [NewFace(unit(np.random.default_rng(1), 1, 8)[0], "x")])
    with pytest.raises(InvalidFacesetToken):
        st.get_faceset("default", "a\x00b")
    with pytest.raises(InvalidFaceToken):
        st.get_face("default", "a\x00b")
    assert st.remove_faces("default", fs.token, ["a\x00b"]) == 0 and st.remove_subject("default", fs.token, "x\x00") == 0
    assert st.list_facesets("default", tag="\x00").total == 0 and st.known_images("default", fs.token, ["\x00"]) == set()
    st.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_stats_count_every_tenant(kind, tmp_path, request):
    st = SqliteStore(tmp_path / "db") if kind == "sqlite" else PostgresStore(request.getfixturevalue("postgres_url"))
    assert (st.stats().galleries, st.stats().faces) == (0, 0)
    for tenant, n in (("a", 3), ("b", 2)):
        fs = st.create_faceset(new_set("g", dim=8, tenant=tenant))
        st.add_faces(tenant, fs.token, [NewFace(v) for v in unit(np.random.default_rng(2), n, 8)])
    st.create_faceset(new_set("empty", dim=8, tenant="b"))
    assert (st.stats().galleries, st.stats().faces) == (3, 5)
    st.close()


# -- erasure ----------------------------------------------------------------------------------
def checkpoint(url: str) -> None:
    """Write every dirty page out, so the files show what the server holds."""
    with admin(url) as c:
        c.execute("CHECKPOINT")


def heap_pages(db: str, faceset_id: int) -> dict[int, list[int]]:
    """Heap page -> face ids on it, by line pointer; the last one sits lowest in the page."""
    with admin(db) as c:
        rows = c.execute(f"SELECT face_id, ctid::text FROM face_vectors_{faceset_id}").fetchall()
    pages: dict[int, list[tuple[int, int]]] = {}
    for face_id, ctid in rows:
        page, item = map(int, ctid.strip("()").split(","))
        pages.setdefault(page, []).append((item, face_id))
    return {p: [f for _, f in sorted(items)] for p, items in pages.items()}


def test_plain_vacuum_leaves_a_deleted_rows_bytes_and_a_rewrite_does_not(cluster):
    """Why the store rewrites (PostgreSQL's behaviour, measured): freed space is not zeroed."""
    url, data = cluster
    db = fresh_database(url)
    x = unit(np.random.default_rng(21), 30, DIM)
    with admin(db) as c:
        c.execute("CREATE TABLE t(id int PRIMARY KEY, v bytea NOT NULL)")
        c.execute("ALTER TABLE t ALTER COLUMN v SET STORAGE PLAIN")
        for i, v in enumerate(x):
            c.execute("INSERT INTO t VALUES (%s, %s)", (i, v.tobytes()))
        lowest = c.execute("SELECT id FROM t WHERE (ctid::text::point)[0] = 2 ORDER BY ctid DESC LIMIT 1").fetchone()[0]
        middle = c.execute("SELECT id FROM t WHERE (ctid::text::point)[0] = 4 ORDER BY ctid LIMIT 1").fetchone()[0]
        c.execute("DELETE FROM t WHERE id = ANY(%s)", ([lowest, middle],))
        c.execute("VACUUM t")
        c.execute("CHECKPOINT")
        assert files_holding(data, needles(x[middle])) == []  # rows below it moved up over it...
        assert len(files_holding(data, needles(x[lowest]))) == 1  # ...but nothing covers the lowest one
        c.execute("VACUUM FULL t")
        c.execute("CHECKPOINT")
        assert files_holding(data, needles(x[lowest])) == []


def test_removal_leaves_no_bytes_in_the_table_files(cluster):
    url, data = cluster
    db = fresh_database(url)
    st = PostgresStore(db)
    x = unit(np.random.default_rng(22), 330, DIM)
    thumbs = [os.urandom(6000), os.urandom(6000)]  # big enough to be TOASTed out of the row
    keep = st.create_faceset(new_set("keep"))
    gone = st.create_faceset(new_set("gone"))
    recs = st.add_faces("default", keep.token, [
        NewFace(v, f"s{i % 50}", thumbnail=thumbs[0] if i == 40 else None) for i, v in enumerate(x[:300])
    ])  # fmt: skip
    st.add_faces("default", gone.token, [NewFace(v, "g", thumbnail=thumbs[1]) for v in x[300:]])
    fid = st.faceset_id("default", keep.token)
    ids, _ = zip(*st.added_since(fid, -1), strict=True)
    index_of = {int(face_id): i for i, face_id in enumerate(np.concatenate(ids))}  # face id -> row of x
    pages = heap_pages(db, fid)
    lowest = index_of[pages[5][-1]]  # the case VACUUM alone leaves behind
    whole_page = [index_of[f] for f in pages[9]]  # and a page that empties
    subject = [i for i in range(300) if i % 50 == 7]
    victims = sorted({lowest, *whole_page, *subject, 40, *range(300, 330)})
    checkpoint(url)
    files = cluster_files(data, db=db)  # everything but pg_wal and other tests' databases
    assert all(files_holding(files, needles(x[i])) for i in victims)  # the check sees them while they are there

    assert st.remove_faces("default", keep.token, [recs[i].token for i in (lowest, *whole_page)]) == 1 + len(whole_page)
    assert st.remove_subject("default", keep.token, "s7") == len(subject)
    assert st.remove_faces("default", keep.token, [recs[40].token]) == 1
    assert st.delete_faceset("default", gone.token) == 30
    checkpoint(url)
    files = cluster_files(data, db=db)
    assert files_holding(files, [n for i in victims for n in needles(x[i])] + thumbs) == []
    survivor = next(i for i in range(300) if i not in victims)
    assert files_holding(files, needles(x[survivor]))  # what was kept is still there
    with pytest.raises(InvalidFaceToken):
        st.get_face("default", recs[lowest].token)
    assert len(st.fetch_vectors(np.array([pages[5][-1], pages[5][0]]))[0]) == 1
    again = st.add_faces("default", keep.token, [NewFace(x[lowest], "back")])  # ids are never reused
    new_ids = np.concatenate([i for i, _ in st.added_since(fid, st.index_state(fid).generation - 1)])
    assert again[0].token != recs[lowest].token and int(new_ids[0]) > max(index_of)
    st.close()


def test_removal_waits_for_older_snapshots_before_rewriting(cluster):
    url, data = cluster
    db = fresh_database(url)
    st = PostgresStore(db, erase_wait=0.3)
    fs = st.create_faceset(new_set())
    x = unit(np.random.default_rng(23), 30, DIM)
    recs = st.add_faces("default", fs.token, [NewFace(v, f"s{i}") for i, v in enumerate(x)])
    reader = psycopg.connect(db)  # a node in the middle of a long read
    reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    reader.execute("SELECT count(*) FROM faces").fetchone()
    st.remove_faces("default", fs.token, [recs[3].token])  # waits 0.3 s, then rewrites anyway
    checkpoint(url)
    assert files_holding(data, needles(x[3]))  # that snapshot could still see the row, so the rewrite kept it
    with admin(db) as c:
        xid = pg_erase.removal_xid(c)  # a transaction id from now: the reader's snapshot is older
        assert pg_erase.holders(c, xid) == [f"backend {reader.info.backend_pid}"]

    st.erase_wait = 30.0
    threading.Timer(1.0, reader.rollback).start()  # the read ends a second from now
    t0 = time.monotonic()
    st.remove_faces("default", fs.token, [recs[4].token])
    assert time.monotonic() - t0 >= 0.9  # this removal waited for it...
    checkpoint(url)
    assert files_holding(data, needles(x[3]) + needles(x[4])) == []  # ...and its rewrite dropped both rows
    reader.close()
    st.close()


def test_wal_keeps_erased_bytes_until_its_segment_is_removed(cluster):
    """What erasure cannot reach: the INSERT's WAL record. With wal_recycle=off a segment switch and a
    checkpoint remove the segment (with recycling on, it is renamed for reuse, bytes intact)."""
    url, data = cluster
    db = fresh_database(url)
    st = PostgresStore(db)
    fs = st.create_faceset(new_set())
    x = unit(np.random.default_rng(24), 10, DIM)
    recs = st.add_faces("default", fs.token, [NewFace(v) for v in x])
    st.remove_faces("default", fs.token, [recs[2].token])
    st.close()
    checkpoint(url)
    assert files_holding(data, needles(x[2])) == []
    assert [p.split("/")[0] for p in files_holding(data, needles(x[2]), skip=())] == ["pg_wal"]
    with admin(url) as c:
        try:
            c.execute("ALTER SYSTEM SET wal_recycle = off")
            c.execute("SELECT pg_reload_conf()")
            time.sleep(0.2)  # the checkpointer rereads its configuration
            c.execute("SELECT pg_switch_wal()")
            c.execute("CHECKPOINT")
            assert files_holding(data, needles(x[2]), skip=()) == []
        finally:
            c.execute("ALTER SYSTEM RESET wal_recycle")
            c.execute("SELECT pg_reload_conf()")


# -- index markers and concurrent writers -----------------------------------------------------
def test_index_marker_has_one_holder_across_nodes(postgres_url):
    a, b = PostgresStore(postgres_url), PostgresStore(postgres_url)  # two API nodes
    fs = a.create_faceset(new_set(dim=8))
    fid = a.faceset_id("default", fs.token)
    entered, log = threading.Event(), []

    def hold():
        with a.index_marker(fid, "milvus") as m:
            assert m.generation == -1
            entered.set()
            time.sleep(0.5)
            m.generation = 7
            log.append("a saved 7")

    t = threading.Thread(target=hold)
    t.start()
    entered.wait()
    t0 = time.monotonic()
    with b.index_marker(fid, "other") as m:  # another index of the gallery is not held up
        assert m.generation == -1 and time.monotonic() - t0 < 0.3
    with b.index_marker(fid, "milvus") as m:
        log.append(f"b read {m.generation}")
        assert time.monotonic() - t0 >= 0.3
    t.join()
    assert log == ["a saved 7", "b read 7"]
    with pytest.raises(RuntimeError), b.index_marker(fid, "milvus") as m:
        m.generation = 9
        raise RuntimeError("the index failed")
    with a.index_marker(fid, "milvus") as m:
        assert m.generation == 7  # a failed block saves nothing
    with pytest.raises(InvalidFacesetToken), a.index_marker(fid, "milvus") as m:  # saving for a gallery another node deleted meanwhile
        b.delete_faceset("default", fs.token)
        m.generation = 8
    with admin(postgres_url) as c:
        assert c.execute("SELECT count(*) FROM index_markers").fetchone()[0] == 0  # deleted with the gallery
    a.close()
    b.close()


def test_writers_on_two_nodes_take_turns_per_gallery(postgres_url):
    nodes = [PostgresStore(postgres_url, pool_max=4), PostgresStore(postgres_url, pool_max=4)]
    fs = nodes[0].create_faceset(new_set(dim=8))
    fid = nodes[0].faceset_id("default", fs.token)
    vecs = unit(np.random.default_rng(25), 1, 8)
    errors, writes, removes = [], 15, 3

    def writer(st: PostgresStore, name: str) -> None:
        try:
            for i in range(writes):
                (rec,) = st.add_faces("default", fs.token, [NewFace(vecs[0], f"{name}-{i}")])
                if i % 5 == 4:
                    assert st.remove_faces("default", fs.token, [rec.token]) == 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(nodes[i % 2], f"w{i}")) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    state = nodes[1].index_state(fid)
    assert (state.generation, state.count) == (4 * (writes + removes), 4 * (writes - removes))
    with admin(postgres_url) as c:
        gens = [r[0] for r in c.execute("SELECT gen FROM faces UNION ALL SELECT gen FROM tombstones")]
    assert len(gens) == len(set(gens)) == 4 * writes and max(gens) == state.generation  # no two writes shared one
    assert len(nodes[0].removed_since(fid, 0)) == 4 * removes
    added = np.concatenate([i for i, _ in nodes[0].added_since(fid, -1)])
    assert len(added) == state.count == nodes[1].get_faceset("default", fs.token).face_count
    for st in nodes:
        st.close()


def test_many_threads_waiting_for_one_marker_do_not_starve_its_holder(postgres_url):
    st = PostgresStore(postgres_url, pool_max=3)  # far fewer connections than threads
    fs = st.create_faceset(new_set(dim=8))
    fid = st.faceset_id("default", fs.token)
    errors, done = [], []

    def sync():  # what an index backend does: under the marker, read the store
        try:
            with st.index_marker(fid, "milvus") as m:
                state = st.index_state(fid)
                list(st.added_since(fid, m.generation, upto=state.generation))
                m.generation = m.generation + 1
            done.append(1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sync) for _ in range(12)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert len(done) == 12 and time.monotonic() - t0 < 10
    with st.index_marker(fid, "milvus") as m:
        assert m.generation == 11  # twelve turns, one after another, from -1
    st.close()
