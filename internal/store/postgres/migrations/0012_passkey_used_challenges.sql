-- 0012_passkey_used_challenges: passwordless sign-in with a passkey keeps
-- no state for an anonymous page view: its challenge travels in a MAC'd,
-- short-lived cookie. Once an assertion answers one, the challenge (as its
-- SHA-256) is recorded here in the transaction that completes the sign-in,
-- so the same answer (or cookie) is refused the second time. A row is
-- needed only until its challenge would have expired anyway; rows past
-- expires_at are deleted whenever another is recorded.
-- Mirrors store/sqlite/migrations/0012_passkey_used_challenges.sql.

CREATE TABLE passkey_used_challenges (
	challenge_hash bytea       PRIMARY KEY CHECK (length(challenge_hash) = 32),
	expires_at     timestamptz NOT NULL
);

CREATE INDEX passkey_used_challenges_expires_at ON passkey_used_challenges (expires_at);
