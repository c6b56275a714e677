"""The SQLite schema (version 2). Face ids are AUTOINCREMENT so a label is never reused after an erasure.

A face is one row of ``faces``: detected (``faceset_id`` NULL, ``expires`` set) or in a faceset.
Older files are brought forward by the numbered scripts in ``migrations/sqlite`` (:mod:`.sqlite_migrate`).
"""

SCHEMA_VERSION = 2

META = "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
FACES = """CREATE TABLE IF NOT EXISTS {name}(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        token TEXT NOT NULL UNIQUE,
        tenant TEXT NOT NULL,
        pack TEXT NOT NULL,
        faceset_id INTEGER REFERENCES facesets(id) ON DELETE CASCADE,
        subject TEXT NOT NULL DEFAULT '',
        gen INTEGER NOT NULL,
        embedding BLOB NOT NULL,
        x1 REAL, y1 REAL, x2 REAL, y2 REAL,
        quality REAL,
        image_sha256 TEXT,
        thumbnail BLOB,
        created REAL NOT NULL,
        expires REAL,
        analysis BLOB)"""
FACE_INDEXES = (
    "CREATE INDEX IF NOT EXISTS faces_gen ON faces(faceset_id, gen)",
    "CREATE INDEX IF NOT EXISTS faces_subject ON faces(faceset_id, subject)",
    "CREATE INDEX IF NOT EXISTS faces_image ON faces(faceset_id, image_sha256)",
    "CREATE INDEX IF NOT EXISTS faces_expires ON faces(expires) WHERE expires IS NOT NULL",
)

SCHEMA = (
    META,
    """CREATE TABLE IF NOT EXISTS facesets(
        id INTEGER PRIMARY KEY,
        token TEXT NOT NULL UNIQUE,
        tenant TEXT NOT NULL,
        outer_id TEXT,
        display_name TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '[]',
        user_data TEXT NOT NULL DEFAULT '',
        pack TEXT NOT NULL,
        dim INTEGER NOT NULL,
        index_spec TEXT NOT NULL DEFAULT 'auto',
        face_count INTEGER NOT NULL DEFAULT 0,
        generation INTEGER NOT NULL DEFAULT 0,
        removed_floor INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        UNIQUE(tenant, outer_id))""",
    "CREATE INDEX IF NOT EXISTS facesets_tenant ON facesets(tenant, id)",
    FACES.format(name="faces"),
    *FACE_INDEXES,
    """CREATE TABLE IF NOT EXISTS tombstones(
        faceset_id INTEGER NOT NULL,
        gen INTEGER NOT NULL,
        face_id INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS tombstones_gen ON tombstones(faceset_id, gen)",
    """CREATE TABLE IF NOT EXISTS index_markers(
        faceset_id INTEGER NOT NULL REFERENCES facesets(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        generation INTEGER NOT NULL,
        PRIMARY KEY(faceset_id, name))""",
)
