"""The one SQLite connection helper (faceprint/sqlite_conn.py) on real database files."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from faceprint.sqlite_conn import Pragmas, ThreadConnections, checkpoint, connect, immediate


def test_pragmas_are_applied_to_every_connection(tmp_path: Path) -> None:
    c = connect(tmp_path / "a.db", Pragmas(synchronous="FULL", secure_delete=True, foreign_keys=True))
    got = [c.execute(f"PRAGMA {p}").fetchone()[0] for p in ("journal_mode", "synchronous", "secure_delete", "foreign_keys")]
    assert got == ["wal", 2, 1, 1]
    plain = connect(tmp_path / "b.db", Pragmas())
    assert [plain.execute(f"PRAGMA {p}").fetchone()[0] for p in ("synchronous", "foreign_keys")] == [1, 0]  # secure_delete: the build's default
    memory = connect(None, Pragmas())
    assert memory.execute("PRAGMA journal_mode").fetchone()[0] == "memory" and memory.in_transaction is False


def test_immediate_commits_the_block_and_rolls_back_a_raising_one(tmp_path: Path) -> None:
    c = connect(tmp_path / "a.db", Pragmas())
    c.execute("CREATE TABLE t(x INTEGER)")
    with immediate(c):
        c.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(RuntimeError), immediate(c):
        c.execute("INSERT INTO t VALUES (2)")
        raise RuntimeError("half done")
    other = sqlite3.connect(tmp_path / "a.db")
    assert other.execute("SELECT x FROM t").fetchall() == [(1,)] and not c.in_transaction


def test_immediate_takes_the_write_lock_up_front(tmp_path: Path) -> None:
    a = connect(tmp_path / "a.db", Pragmas(timeout_s=0.1))
    b = connect(tmp_path / "a.db", Pragmas(timeout_s=0.1))
    a.execute("CREATE TABLE t(x INTEGER)")
    with immediate(a), pytest.raises(sqlite3.OperationalError, match="locked"), immediate(b):
        pass  # b waits at BEGIN, before reading anything it would change


def test_each_thread_has_its_own_connection_and_close_ends_them_all(tmp_path: Path) -> None:
    conns = ThreadConnections(tmp_path / "a.db", Pragmas())
    mine = conns.get()
    theirs: list[sqlite3.Connection] = []
    t = threading.Thread(target=lambda: theirs.append(conns.get()))
    t.start()
    t.join()
    assert conns.get() is mine and theirs[0] is not mine
    conns.close()
    for c in (mine, theirs[0]):
        with pytest.raises(sqlite3.ProgrammingError):
            c.execute("SELECT 1")
    assert conns.get() is not mine  # a new connection after close


def test_checkpoint_truncates_the_wal_unless_a_reader_holds_it(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    c = connect(path, Pragmas(timeout_s=0.1))  # TRUNCATE waits out the busy timeout for readers
    c.execute("CREATE TABLE t(x BLOB)")
    reader = connect(path, Pragmas())
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM t").fetchone()  # a read snapshot on the WAL
    c.execute("INSERT INTO t VALUES (zeroblob(100000))")
    assert not checkpoint(c)
    reader.execute("COMMIT")
    assert checkpoint(c) and Path(f"{path}-wal").stat().st_size == 0
