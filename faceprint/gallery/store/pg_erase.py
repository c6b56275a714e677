"""Erasure in PostgreSQL: what it takes for a deleted row's bytes to leave the table files.

Measured on PostgreSQL 15 (docs/scale.md has the figures): a ``DELETE`` leaves the row in its heap
page; ``VACUUM`` compacts pages but never zeroes the space it frees, so a row that sat lowest on
its page, or on a page that emptied, stays readable in the file. Only a rewrite removes it:
``VACUUM FULL`` writes a new file and truncates the old one when it commits. A rewrite still
copies rows that some open snapshot could see, so it waits until every snapshot older than the
removal has closed. Vectors live in one table per gallery, so the rewrite costs one gallery, and
deleting a gallery drops its table (truncated at commit).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from psycopg import errors, sql

log = logging.getLogger(__name__)

# Everything in this database that could still see rows deleted by transaction %(xid)s (an xid8):
# snapshots and transactions at or before it, replication slots, prepared transactions.
_HOLDERS = """
SELECT 'backend ' || pid FROM pg_stat_activity
 WHERE pid <> pg_backend_pid() AND (datname = current_database() OR datname IS NULL)
   AND (age(backend_xmin) >= age(%(xid)s::xid8::xid) OR age(backend_xid) >= age(%(xid)s::xid8::xid))
UNION ALL
SELECT 'replication slot ' || slot_name FROM pg_replication_slots WHERE age(xmin) >= age(%(xid)s::xid8::xid)
UNION ALL
SELECT 'prepared transaction ' || gid FROM pg_prepared_xacts
 WHERE database = current_database() AND age(transaction) >= age(%(xid)s::xid8::xid)
"""


def removal_xid(conn: Any) -> str:
    """The id of the open transaction (call it after its DELETE), for :func:`rewrite`."""
    return str(conn.execute("SELECT pg_current_xact_id()::text").fetchone()[0])


def holders(conn: Any, xid: str) -> list[str]:
    """What still keeps rows deleted by ``xid`` visible (empty once a rewrite can drop them)."""
    return [r[0] for r in conn.execute(_HOLDERS, {"xid": xid})]


def rewrite(conn: Any, table: sql.Composable, xid: str, wait: float) -> bool:
    """After the removal ``xid`` committed: rewrite ``table`` so no file keeps the removed rows.

    Waits up to ``wait`` seconds for older snapshots to close. False if one outlived the wait: the
    rewrite then kept the rows it could still see, until the gallery's next removal or deletion.
    ``conn`` must be in autocommit mode (VACUUM runs outside a transaction).
    """
    end = time.monotonic() + wait
    while (held := holders(conn, xid)) and time.monotonic() < end:
        time.sleep(0.05)
    try:
        conn.execute(sql.SQL("VACUUM FULL {}").format(table))
    except errors.UndefinedTable:
        return True  # the gallery was deleted meanwhile: its table went with it
    if held:
        log.warning("erased rows of %s stay on disk until its next rewrite: %s held them", table, ", ".join(held))
    return not held
