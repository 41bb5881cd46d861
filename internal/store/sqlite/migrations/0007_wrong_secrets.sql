-- 0007_wrong_secrets: the last few secrets judged wrong per failure counter,
-- as keyed hashes (HMAC under a server key, never the secret), so that a
-- repeat of the same wrong secret (a forgotten device retrying a deleted app
-- password) is recognised without judging it again and counted once.
CREATE TABLE wrong_secrets (
	key     TEXT    NOT NULL,
	digest  BLOB    NOT NULL,
	seen_at INTEGER NOT NULL,
	PRIMARY KEY (key, digest)
) STRICT, WITHOUT ROWID;

CREATE INDEX wrong_secrets_seen_at ON wrong_secrets (seen_at);
