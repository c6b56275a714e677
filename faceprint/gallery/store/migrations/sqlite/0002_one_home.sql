-- Version 1 -> 2: a face has one home. faces gains tenant and pack (a detected face has no faceset
-- to take them from), faceset_id may be NULL (detected, not yet in a faceset), expires and analysis
-- (what detect found). SQLite cannot relax NOT NULL in place, so the table is rebuilt; the
-- AUTOINCREMENT counter is carried over so no label is ever reused.
CREATE TABLE faces_v2(
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
        analysis BLOB);
INSERT INTO faces_v2(id, token, tenant, pack, faceset_id, subject, gen, embedding, x1, y1, x2, y2, quality, image_sha256, thumbnail, created)
    SELECT f.id, f.token, s.tenant, s.pack, f.faceset_id, f.subject, f.gen, f.embedding, f.x1, f.y1, f.x2, f.y2, f.quality,
           f.image_sha256, f.thumbnail, f.created
    FROM faces f JOIN facesets s ON s.id = f.faceset_id;
DELETE FROM sqlite_sequence WHERE name = 'faces_v2';
INSERT INTO sqlite_sequence(name, seq) SELECT 'faces_v2', seq FROM sqlite_sequence WHERE name = 'faces';
DROP TABLE faces;
ALTER TABLE faces_v2 RENAME TO faces;
CREATE INDEX faces_gen ON faces(faceset_id, gen);
CREATE INDEX faces_subject ON faces(faceset_id, subject);
CREATE INDEX faces_image ON faces(faceset_id, image_sha256);
CREATE INDEX faces_expires ON faces(expires) WHERE expires IS NOT NULL;
