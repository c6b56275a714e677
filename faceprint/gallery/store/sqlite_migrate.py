"""SQLite store files brought forward by numbered scripts (``migrations/sqlite/0002_one_home.sql``, ...).

A file records its version in ``meta``; each script runs in the transaction that bumps it, so a
crash leaves the file at a whole version. A file newer than this faceprint is refused.
"""

from __future__ import annotations

import re
import sqlite3
from importlib import resources

from ...errors import GalleryError

_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


def scripts() -> dict[int, str]:
    """version -> SQL of each shipped SQLite migration (version 1 is the first schema: no script)."""
    found = {}
    for entry in resources.files(__package__ + ".migrations").joinpath("sqlite").iterdir():
        m = _FILE.fullmatch(entry.name)
        if m:
            found[int(m[1])] = entry.read_text(encoding="utf-8")
    return found


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
        c.execute("BEGIN IMMEDIATE")
        try:
            current = int(c.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0])
            if current < version:  # another process may have migrated meanwhile
                for stmt in statements(known[version]):
                    c.execute(stmt)
                c.execute("UPDATE meta SET value=? WHERE key='schema'", (str(version),))
                ran.append(version)
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")
    return ran
