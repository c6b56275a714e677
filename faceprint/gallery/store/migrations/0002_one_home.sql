-- Version 1 -> 2: a face has one home. faces gains tenant and pack (a detected face has no faceset
-- to take them from); faceset_id may be NULL (detected, not yet in a faceset), with expires set and
-- analysis (what detect found). Detected faces keep their templates in face_vectors_0 (no gallery
-- has id 0) and move to their gallery's table when added to it.
ALTER TABLE faces ADD COLUMN tenant text, ADD COLUMN pack text, ADD COLUMN expires double precision, ADD COLUMN analysis bytea;
UPDATE faces f SET tenant = s.tenant, pack = s.pack FROM facesets s WHERE s.id = f.faceset_id;
ALTER TABLE faces ALTER COLUMN tenant SET NOT NULL, ALTER COLUMN pack SET NOT NULL, ALTER COLUMN faceset_id DROP NOT NULL;
CREATE INDEX faces_expires ON faces(expires) WHERE expires IS NOT NULL;
CREATE INDEX faces_tenant_token ON faces(tenant, token);
CREATE TABLE face_vectors_0 (face_id bigint PRIMARY KEY, embedding bytea NOT NULL, thumbnail bytea);
ALTER TABLE face_vectors_0 ALTER COLUMN embedding SET STORAGE MAIN;
