-- 0008_last_sign_in: each user's last successful sign-in, kept on the user
-- row as the sign-in log's success rows are appended, so the admin center
-- sorts 10,000 users by it without one sign-in log lookup per user (and it
-- outlives the log's retention).

ALTER TABLE users ADD COLUMN last_sign_in_at INTEGER;

UPDATE users SET last_sign_in_at = (SELECT s.at FROM sign_in_log s
	WHERE s.user_id = users.id AND s.result = 'success' ORDER BY s.id DESC LIMIT 1);

CREATE INDEX users_last_sign_in_at ON users (last_sign_in_at);
