-- A passkey or security key may be the user's default sign-in method
-- ('passkey').
ALTER TABLE users DROP CONSTRAINT users_default_method_check;
ALTER TABLE users ADD CONSTRAINT users_default_method_check
	CHECK (default_method IN ('', 'code', 'push', 'passkey'));
