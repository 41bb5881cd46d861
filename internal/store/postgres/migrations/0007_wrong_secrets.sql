-- 0007_wrong_secrets: the last few secrets judged wrong per failure counter,
-- as keyed hashes (HMAC under a server key, never the secret), so that a
-- repeat of the same wrong secret (a forgotten device retrying a deleted app
-- password) is recognised without judging it again and counted once.
-- Mirrors store/sqlite/migrations/0005_wrong_secrets.sql.
CREATE TABLE wrong_secrets (
	key     text        NOT NULL,
	digest  bytea       NOT NULL,
	seen_at timestamptz NOT NULL,
	PRIMARY KEY (key, digest)
);

CREATE INDEX wrong_secrets_seen_at ON wrong_secrets (seen_at);
