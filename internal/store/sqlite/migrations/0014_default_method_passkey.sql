-- A passkey or security key may be the user's default sign-in method
-- ('passkey'). SQLite cannot change a CHECK constraint in place, and
-- rebuilding users would cascade-delete every row referring to it, so the
-- column is replaced: a new one with the wider CHECK takes the values,
-- the old one (whose CHECK is its own, so it may be dropped) goes, and the
-- new one takes its name.
ALTER TABLE users ADD COLUMN default_method_new TEXT NOT NULL DEFAULT ''
	CHECK (default_method_new IN ('', 'code', 'push', 'passkey'));
UPDATE users SET default_method_new = default_method;
ALTER TABLE users DROP COLUMN default_method;
ALTER TABLE users RENAME COLUMN default_method_new TO default_method;
