"""The SQLite store's schema, as numbered scripts (``migrations/sqlite/0001_initial.sql``, ...).

The scripts are the only place the schema is written, as for PostgreSQL (``migrations/``): a new
file runs them all in order (:func:`create`), an older one the scripts after its version
(:func:`migrate`). A shipped script is frozen; a change to the schema is a new script. Schema 2: a
face is one row of ``faces``, detected (``faceset_id`` NULL, ``expires`` set) or in a faceset.

A file records its version in ``meta``; each script runs in the transaction that bumps it, so a
crash leaves the file at a whole version. A file newer than this faceprint is refused.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from importlib import resources

from ...errors import GalleryError
from ...sqlite_conn import immediate

_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


META = "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)"


@functools.cache
def scripts() -> dict[int, str]:
    """version -> SQL of each shipped SQLite script, numbered 1, 2, 3 ... without gaps."""
    found = {}
    for entry in resources.files(__package__ + ".migrations").joinpath("sqlite").iterdir():
        m = _FILE.fullmatch(entry.name)
        if m:
            found[int(m[1])] = entry.read_text(encoding="utf-8")
    if sorted(found) != list(range(1, len(found) + 1)):
        raise GalleryError(f"SQLite store scripts are not numbered 1..n: {sorted(found)}")
    return dict(sorted(found.items()))


def latest() -> int:
    """The schema version this faceprint writes: the last script's number."""
    return max(scripts())


def create(c: sqlite3.Connection) -> int:
    """Run every script in order on ``c`` (inside the caller's transaction, on a new file); returns the version made."""
    for script in scripts().values():
        for stmt in statements(script):
            c.execute(stmt)
    return latest()


def statements(script: str) -> list[str]:
    """The script's statements (``--`` comments dropped; our scripts hold no ``;`` inside literals)."""
    body = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def migrate(c: sqlite3.Connection, have: int, want: int, where: object) -> list[int]:
    """Run scripts ``have+1 .. want`` on ``c`` (autocommit, write lock not held); returns versions applied."""
    if have > want:
        raise GalleryError(f"store {where} has schema {have}; this faceprint reads {want}: upgrade faceprint", schema=have)
    known, ran = scripts(), []
    for version in range(have + 1, want + 1):
        if version not in known:
            raise GalleryError(f"no migration of store {where} to schema {version}")
        with immediate(c):
            current = int(c.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0])
            if current < version:  # another process may have migrated meanwhile
                for stmt in statements(known[version]):
                    c.execute(stmt)
                c.execute("UPDATE meta SET value=? WHERE key='schema'", (str(version),))
                ran.append(version)
    return ran
