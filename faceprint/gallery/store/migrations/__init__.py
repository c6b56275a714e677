"""The PostgreSQL store's schema, as numbered SQL files (``0001_initial.sql``, ...) applied in order.

:func:`migrate` runs at every open. It holds a session advisory lock for the whole run, so API
nodes starting together apply each version exactly once; each file runs in one transaction with
its row in ``schema_migrations``, so a crash leaves the database at a whole version. A database
that records a version this code does not know (a newer faceprint wrote it) is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ....errors import GalleryError

LOCK_KEY = 0x6661636570726E74  # "faceprnt": one advisory lock per database, for schema changes only
_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")
_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations(
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied timestamptz NOT NULL DEFAULT now())"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def known() -> list[Migration]:
    """The migrations shipped with this faceprint, numbered 1, 2, 3 ... without gaps."""
    found = []
    for entry in resources.files(__package__).iterdir():
        m = _FILE.fullmatch(entry.name)
        if m:
            found.append(Migration(int(m[1]), m[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise GalleryError(f"store migrations are not numbered 1..n: {[m.version for m in found]}")
    return found


def applied(conn: Any) -> list[int]:
    """Versions the database records (empty for a new database)."""
    if conn.execute("SELECT to_regclass('schema_migrations')").fetchone()[0] is None:
        return []
    return [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def migrate(conn: Any, migrations: list[Migration] | None = None) -> list[int]:
    """Bring the database to the newest known version; returns the versions applied by this call.

    ``conn`` is an autocommit psycopg connection; it is left in autocommit and unlocked.
    """
    todo = known() if migrations is None else migrations
    newest = todo[-1].version if todo else 0
    conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        conn.execute(_TABLE)
        done = set(applied(conn))
        unknown = sorted(done - {m.version for m in todo})
        if unknown:
            raise GalleryError(
                f"the store's schema is at version {max(done)}, newer than this faceprint knows ({newest}): "
                "upgrade faceprint on this node",
                schema=max(done),
                known=newest,
            )
        ran = []
        for m in todo:
            if m.version in done:
                continue
            with conn.transaction():
                conn.execute(m.sql)
                conn.execute("INSERT INTO schema_migrations(version, name) VALUES (%s, %s)", (m.version, m.name))
            ran.append(m.version)
        return ran
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
