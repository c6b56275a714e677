"""The SQLite store's schema is its numbered scripts: a new file runs them all, an old file the rest.

Both ways must end at the same schema, so a file made by the version-1 script alone (as faceprint
made stores before "one home") is opened, migrated and compared with a new store, table by table.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from faceprint.gallery import NewFace, NewFaceSet
from faceprint.gallery.store import SqliteStore, sqlite_migrate
from faceprint.sqlite_conn import immediate


def shape(path: Path) -> dict[str, object]:
    """Every table's columns (name, type, not-null, default, pk), foreign keys and indexes (name, unique, columns, partial)."""
    c = sqlite3.connect(path)
    try:
        tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        out: dict[str, object] = {}
        for t in tables:
            cols = [tuple(r[1:]) for r in c.execute(f"PRAGMA table_info({t})")]
            fks = sorted(tuple(r[2:]) for r in c.execute(f"PRAGMA foreign_key_list({t})"))
            idx = sorted((r[1], r[2], r[4], tuple(x[2] for x in c.execute(f"PRAGMA index_info({r[1]})"))) for r in c.execute(f"PRAGMA index_list({t})"))
            autoinc = "AUTOINCREMENT" in c.execute("SELECT sql FROM sqlite_master WHERE name=?", (t,)).fetchone()[0]
            out[t] = (cols, fks, idx, autoinc)
        return out
    finally:
        c.close()


def version_1_file(path: Path) -> None:
    """A store file as faceprint wrote it at schema 1: one gallery with two faces, then one face erased."""
    c = sqlite3.connect(path, isolation_level=None)
    with immediate(c):
        for stmt in sqlite_migrate.statements(sqlite_migrate.scripts()[1]):
            c.execute(stmt)
        c.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [("schema", "1"), ("encryption", "none"), ("key_check", "")])
        c.execute("INSERT INTO facesets(id, token, tenant, pack, dim, created, updated, face_count) VALUES (1, 'fs1', 'default', 'synthetic', 4, 0, 0, 1)")
        for i, token in ((1, "f1"), (2, "f2")):
            emb = np.full(4, 0.5, np.float32).tobytes()
            c.execute("INSERT INTO faces(id, token, faceset_id, subject, gen, embedding, created) VALUES (?, ?, 1, 'ann', ?, ?, 0)", (i, token, i, emb))
        c.execute("DELETE FROM faces WHERE id = 2")
    c.close()


def test_scripts_are_numbered_from_one_and_the_last_is_the_version_written() -> None:
    versions = list(sqlite_migrate.scripts())
    assert versions == list(range(1, len(versions) + 1)) and len(versions) >= 2
    assert sqlite_migrate.latest() == versions[-1]


def test_a_new_store_and_a_migrated_version_1_file_have_one_schema(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "new.db").close()
    version_1_file(tmp_path / "old.db")
    old = SqliteStore(tmp_path / "old.db")
    old.close()
    assert shape(tmp_path / "old.db") == shape(tmp_path / "new.db")
    for path in (tmp_path / "old.db", tmp_path / "new.db"):
        c = sqlite3.connect(path)
        assert c.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == (str(sqlite_migrate.latest()),)
        c.close()


def test_a_migrated_file_keeps_its_faces_and_never_reuses_an_erased_id(tmp_path: Path) -> None:
    version_1_file(tmp_path / "old.db")
    st = SqliteStore(tmp_path / "old.db")
    (kept,) = st.list_faces("default", "fs1").items
    assert (kept.token, kept.subject, kept.faceset_token) == ("f1", "ann", "fs1")
    (added,) = st.add_faces("default", "fs1", [NewFace(np.full(4, 0.5, np.float32), "bob")])
    st.close()
    c = sqlite3.connect(tmp_path / "old.db")
    # id 2 was erased at schema 1: AUTOINCREMENT's counter came through the table's rebuild
    assert c.execute("SELECT id, tenant, pack FROM faces WHERE token=?", (added.token,)).fetchone() == (3, "default", "synthetic")
    c.close()


def test_a_new_store_holds_detected_faces_without_a_faceset(tmp_path: Path) -> None:
    st = SqliteStore(tmp_path / "db")
    fs = st.create_faceset(NewFaceSet(pack="synthetic", dim=4))
    c = sqlite3.connect(tmp_path / "db")
    nullable = {r[1]: not r[3] for r in c.execute("PRAGMA table_info(faces)")}
    c.close()
    assert nullable["faceset_id"] and nullable["expires"] and not nullable["tenant"]
    assert st.get_faceset("default", fs.token).face_count == 0
    st.close()
