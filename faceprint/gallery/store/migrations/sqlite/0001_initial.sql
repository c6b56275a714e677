-- Version 1: the SQLite store as faceprint first created it (before "one home"). Frozen, like every
-- script here: a new store runs 0001, 0002, ... in order, exactly as an old file is brought forward,
-- so the current schema is written once, as the sum of its migrations. Face ids are AUTOINCREMENT
-- so a label is never reused after an erasure.
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS facesets(
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
        UNIQUE(tenant, outer_id));
CREATE INDEX IF NOT EXISTS facesets_tenant ON facesets(tenant, id);
CREATE TABLE IF NOT EXISTS faces(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        token TEXT NOT NULL UNIQUE,
        faceset_id INTEGER NOT NULL REFERENCES facesets(id) ON DELETE CASCADE,
        subject TEXT NOT NULL DEFAULT '',
        gen INTEGER NOT NULL,
        embedding BLOB NOT NULL,
        x1 REAL, y1 REAL, x2 REAL, y2 REAL,
        quality REAL,
        image_sha256 TEXT,
        thumbnail BLOB,
        created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS faces_gen ON faces(faceset_id, gen);
CREATE INDEX IF NOT EXISTS faces_subject ON faces(faceset_id, subject);
CREATE INDEX IF NOT EXISTS faces_image ON faces(faceset_id, image_sha256);
CREATE TABLE IF NOT EXISTS tombstones(
        faceset_id INTEGER NOT NULL,
        gen INTEGER NOT NULL,
        face_id INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS tombstones_gen ON tombstones(faceset_id, gen);
CREATE TABLE IF NOT EXISTS index_markers(
        faceset_id INTEGER NOT NULL REFERENCES facesets(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        generation INTEGER NOT NULL,
        PRIMARY KEY(faceset_id, name));
