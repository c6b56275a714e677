"""The PostgreSQL store on a real server: migrations, keys, markers, concurrent writers.

What every store must do is tests/contract/; this file holds what only PostgreSQL has. What reaches
the cluster's files (encryption at rest, erasure on disk) is tests/test_gallery_postgres_disk.py.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import psycopg
import pytest

from faceprint.errors import GalleryError, InvalidFacesetToken, InvalidFaceToken
from faceprint.gallery import NewFace, NewFaceSet
from faceprint.gallery.crypto import Cipher
from faceprint.gallery.store import SqliteStore, StoreOptions, migrations, open_store
from faceprint.gallery.store.postgres import PostgresStore
from gallery_support import unit
from threads_support import together

KEY = bytes(range(32))
DIM = 512  # 2 KiB a template: three rows to a heap page


def new_set(outer: str | None = None, dim: int = DIM, tenant: str = "default") -> NewFaceSet:
    return NewFaceSet(pack="synthetic", dim=dim, outer_id=outer, tenant=tenant)


def admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


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

# -- index markers and concurrent writers -----------------------------------------------------
@pytest.mark.serial  # a wall-clock bound: run alone (Makefile, docs/development.md)
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
