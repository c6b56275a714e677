"""One table of templates and thumbnails per gallery in PostgreSQL: ``face_vectors_<faceset id>``.

A gallery's biometric bytes in a table of its own bound what erasure costs: a removal rewrites
this table only (:mod:`.pg_erase`), and deleting the gallery drops it, its files going when the
transaction commits. Rows are (face id, sealed float32 template, sealed thumbnail or NULL);
everything else about a face is in ``faces``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from psycopg import errors, sql

from ...errors import InvalidFacesetToken

_CREATE = (
    "CREATE TABLE {t} (face_id bigint PRIMARY KEY, embedding bytea NOT NULL, thumbnail bytea)",
    "ALTER TABLE {t} ALTER COLUMN embedding SET STORAGE MAIN",  # kept in the row: one read per face
)


def table(faceset_id: int) -> sql.Identifier:
    return sql.Identifier(f"face_vectors_{int(faceset_id)}")


def create(conn: Any, faceset_id: int) -> None:
    for ddl in _CREATE:
        conn.execute(sql.SQL(ddl).format(t=table(faceset_id)))


def drop(conn: Any, faceset_id: int) -> None:
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table(faceset_id)))


def write(conn: Any, faceset_id: int, rows: Iterable[tuple[int, bytes, bytes | None]]) -> None:
    """COPY (face id, embedding, thumbnail) rows in."""
    with conn.cursor().copy(sql.SQL("COPY {} (face_id, embedding, thumbnail) FROM STDIN").format(table(faceset_id))) as cp:
        for row in rows:
            cp.write_row(row)


def delete(conn: Any, faceset_id: int, face_ids: Sequence[int]) -> None:
    conn.execute(sql.SQL("DELETE FROM {} WHERE face_id = ANY(%s)").format(table(faceset_id)), (list(face_ids),))


def read(conn: Any, faceset_id: int, where: str, args: Sequence[Any]) -> list[tuple[int, str, bytes]]:
    """(face id, face token, embedding) of the gallery's faces (``f``) that match ``where``."""
    q = sql.SQL("SELECT f.id, f.token, v.embedding FROM faces f JOIN {} v ON v.face_id = f.id WHERE {}")
    try:
        rows: list[tuple[int, str, bytes]] = conn.execute(q.format(table(faceset_id), sql.SQL(where)), args).fetchall()
        return rows
    except errors.UndefinedTable:
        raise InvalidFacesetToken("the faceset was deleted") from None


def column(conn: Any, faceset_id: int, face_id: int, name: str) -> tuple[bytes | None] | None:
    """(value,) of one face's ``embedding`` or ``thumbnail``; None if the face is not there."""
    q = sql.SQL("SELECT {} FROM {} WHERE face_id = %s").format(sql.Identifier(name), table(faceset_id))
    try:
        row: tuple[bytes | None] | None = conn.execute(q, (face_id,)).fetchone()
        return row
    except errors.UndefinedTable:
        return None


def move(conn: Any, face_ids: Sequence[int], source: int, target: int) -> None:
    """Move these faces' rows from one gallery's table to another's (detected faces joining a gallery)."""
    ids = list(face_ids)
    q = sql.SQL("INSERT INTO {} (face_id, embedding, thumbnail) SELECT face_id, embedding, thumbnail FROM {} WHERE face_id = ANY(%s)")
    conn.execute(q.format(table(target), table(source)), (ids,))
    conn.execute(sql.SQL("DELETE FROM {} WHERE face_id = ANY(%s)").format(table(source)), (ids,))


def reseal(conn: Any, faceset_id: int, face_id: int, embedding: bytes, thumbnail: bytes | None) -> None:
    q = sql.SQL("UPDATE {} SET embedding = %s, thumbnail = %s WHERE face_id = %s").format(table(faceset_id))
    conn.execute(q, (embedding, thumbnail, face_id))
