"""What differs between the SQLite and PostgreSQL stores, as data: the SQL itself is written once (:mod:`.sql`).

Both take ``?`` placeholders (PostgreSQL's through :class:`~faceprint.service.db.PgConn`). The
differences: how a list is matched, how tags are kept and matched, whether the template is a column
of ``faces`` (SQLite) or lives in a vector table per gallery (PostgreSQL), whether a write locks the
gallery's row (PostgreSQL) or the whole file (SQLite's ``BEGIN IMMEDIATE``), and NUL in text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

CHUNK = 900  # SQLite: bound parameters per statement


@dataclass(frozen=True)
class Dialect:
    name: str
    lock: str  # appended to a SELECT that a write transaction locks rows with
    vector_column: bool  # True: ``faces.embedding`` holds the template; False: a vector table per gallery
    thumbnail_flag: str  # a column expression: does the face have a thumbnail
    has_tag: str  # a WHERE fragment on facesets matching one tag (one ``?``)
    arrays: bool  # True: lists are bound as one array (``= ANY(?)``); False: ``IN (?, ?, ...)`` chunks
    nul_in_text: bool  # False: text cannot hold NUL, so a NUL value matches nothing

    def any(self, column: str, values: Sequence[object]) -> tuple[str, list[object]]:
        """``column`` is one of ``values``: a WHERE fragment and its parameters (at most :data:`CHUNK` values)."""
        if self.arrays:
            return f"{column} = ANY(?)", [list(self.storable(values))]
        return f"{column} IN ({','.join('?' * len(values)) or 'NULL'})", list(values)

    def storable(self, values: Sequence[object]) -> list[object]:
        return [v for v in values if self.nul_in_text or not (isinstance(v, str) and "\x00" in v)]

    def tags_in(self, tags: Sequence[str]) -> object:
        return list(tags) if self.arrays else json.dumps(list(tags))

    def tags_out(self, value: object) -> list[str]:
        items: list[object] = list(value) if self.arrays else json.loads(str(value))  # type: ignore[call-overload]
        return [str(t) for t in items]


SQLITE = Dialect(
    "sqlite", lock="", vector_column=True, thumbnail_flag="f.thumbnail IS NOT NULL",
    has_tag="EXISTS (SELECT 1 FROM json_each(facesets.tags) WHERE value=?)", arrays=False, nul_in_text=True,
)  # fmt: skip
POSTGRESQL = Dialect(
    "postgresql", lock=" FOR UPDATE", vector_column=False, thumbnail_flag="f.has_thumbnail", has_tag="? = ANY(tags)",
    arrays=True, nul_in_text=False,
)  # fmt: skip


def chunks(seq: Sequence[object], dialect: Dialect, n: int = CHUNK) -> list[Sequence[object]]:
    """``seq`` in parts a statement can bind (one part for PostgreSQL, which binds an array)."""
    if dialect.arrays:
        return [seq] if seq else []
    return [seq[i : i + n] for i in range(0, len(seq), n)]
