"""What reaches a PostgreSQL cluster's files: no plaintext template under a key, no bytes of an erased face.

These tests read the cluster's files (heap pages, the WAL), so they run on a cluster of their own
(``cluster``), started for this module. The rest of the PostgreSQL store is tests/test_gallery_postgres.py.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest

from backends.postgres import fresh_database, postgres_server
from faceprint.errors import EncryptionKeyError, InvalidFaceToken
from faceprint.gallery import NewFace
from faceprint.gallery.crypto import Cipher
from faceprint.gallery.store import pg_erase
from faceprint.gallery.store.postgres import PostgresStore
from gallery_support import unit
from test_gallery_postgres import DIM, KEY, admin, new_set


@pytest.fixture(scope="module")
def cluster():
    """(admin URL, data directory) of a PostgreSQL cluster only this module uses."""
    with postgres_server() as (url, data):
        yield url, data


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


