-- 0009_webauthn: passkeys and security keys (WebAuthn). Each user gets one
-- random WebAuthn user handle (never the account's ID or name: it is sent
-- to authenticators), created on first use; credentials keep the RP ID they
-- were made for (fixed by the authenticator, so changing rp_id later makes
-- them unusable); a ceremony's challenge waits server-side, bound to the
-- browser's session record, until it is used once or expires.
-- Mirrors store/sqlite/migrations/0009_webauthn.sql (flags are integers
-- 0/1 in both, so the shared queries compare them alike).

CREATE TABLE webauthn_user_handles (
	user_id    bigint      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	handle     bytea       NOT NULL UNIQUE CHECK (length(handle) = 32),
	created_at timestamptz NOT NULL
);

CREATE TABLE webauthn_credentials (
	id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id          bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	credential_id    bytea       NOT NULL UNIQUE, -- unique across users
	public_key       bytea       NOT NULL,        -- COSE public key
	attestation_type text        NOT NULL DEFAULT '',
	aaguid           bytea       NOT NULL,        -- 16 bytes; zeros when hidden
	sign_count       bigint      NOT NULL DEFAULT 0,
	name             text        NOT NULL DEFAULT '',
	rp_id            text        NOT NULL,
	transports       text        NOT NULL DEFAULT '', -- comma-separated
	user_verified    integer     NOT NULL DEFAULT 0 CHECK (user_verified IN (0, 1)),
	backup_eligible  integer     NOT NULL DEFAULT 0 CHECK (backup_eligible IN (0, 1)),
	backup_state     integer     NOT NULL DEFAULT 0 CHECK (backup_state IN (0, 1)),
	discoverable     integer     NOT NULL DEFAULT 0 CHECK (discoverable IN (0, 1)),
	created_at       timestamptz NOT NULL,
	last_used_at     timestamptz
);

CREATE INDEX webauthn_credentials_user_id ON webauthn_credentials (user_id, created_at, id);

-- One pending ceremony of each kind per session record; data is the
-- library's session data (JSON: challenge, RP ID, origin, allowed IDs).
CREATE TABLE webauthn_challenges (
	session_hash bytea       NOT NULL,
	ceremony     text        NOT NULL CHECK (ceremony IN ('register', 'assert')),
	user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	data         bytea       NOT NULL,
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	PRIMARY KEY (session_hash, ceremony)
);

CREATE INDEX webauthn_challenges_expires_at ON webauthn_challenges (expires_at);
CREATE INDEX webauthn_challenges_user_id ON webauthn_challenges (user_id);
