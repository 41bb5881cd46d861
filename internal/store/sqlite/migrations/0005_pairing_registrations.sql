-- 0005_pairing_registrations: a pairing link takes up to three phones
-- waiting for their confirmation code (the code typed in Security info
-- activates the phone that showed it; the others go), and holds the
-- opaque handle of its iOS install manifest with the token that manifest
-- hands out, sealed.
--
-- Links live ten minutes: the links open during the upgrade, and the phones
-- waiting on them, are dropped rather than converted (their users make a
-- new link).

DELETE FROM devices WHERE active = 0;
DROP TABLE pairings;

CREATE TABLE pairings (
	token_hash     BLOB    PRIMARY KEY,
	user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_hash   BLOB    NOT NULL,
	created_at     INTEGER NOT NULL,
	expires_at     INTEGER NOT NULL,
	attempts       INTEGER NOT NULL DEFAULT 0,
	manifest_hash  BLOB    UNIQUE, -- SHA-256 of the install manifest's handle
	manifest_token BLOB            -- the link's token, sealed, for that manifest
) STRICT, WITHOUT ROWID;

CREATE INDEX pairings_user_id ON pairings (user_id);
CREATE INDEX pairings_session_hash ON pairings (session_hash);

-- The phones registered through a link, each with the keyed hash of the
-- code it shows. Deleting a link leaves its inactive devices to the
-- statement that deletes it (they are deleted with it).
CREATE TABLE pairing_devices (
	device_id  INTEGER PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
	token_hash BLOB    NOT NULL REFERENCES pairings (token_hash) ON DELETE CASCADE,
	code_hash  BLOB    NOT NULL,
	UNIQUE (token_hash, code_hash)
) STRICT;
