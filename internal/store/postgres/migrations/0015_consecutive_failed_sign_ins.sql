-- 0015_consecutive_failed_sign_ins: each user's failed sign-in attempts
-- since their last successful sign-in (NIST SP 800-63B-4 caps them at
-- 100 per account). Unlike the windowed failure counters it outlives
-- windows and locks: only a successful sign-in or an admin's unblock
-- sets it back to 0.
-- Mirrors store/sqlite/migrations/0015_consecutive_failed_sign_ins.sql.

ALTER TABLE users ADD COLUMN failed_sign_ins integer NOT NULL DEFAULT 0 CHECK (failed_sign_ins >= 0);
