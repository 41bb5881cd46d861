-- 0011_access_passes: Temporary Access Passes. An admin issues a user a
-- pass (shown once, stored as a bcrypt hash) that signs them in to
-- Security info only, to register a new method. A user has at most one
-- (user_id is unique: issuing a new one replaces the old). A one-time
-- pass (once = 1) counts as used once uses > 0.
-- Mirrors store/sqlite/migrations/0011_access_passes.sql (flags are
-- integers 0/1 in both, so the shared queries compare them alike).

CREATE TABLE access_passes (
	id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id      bigint      NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
	hash         text        NOT NULL,
	once         integer     NOT NULL DEFAULT 0 CHECK (once IN (0, 1)),
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	uses         integer     NOT NULL DEFAULT 0,
	last_used_at timestamptz,
	issued_by    text        NOT NULL DEFAULT ''
);
