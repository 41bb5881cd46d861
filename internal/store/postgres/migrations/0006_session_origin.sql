-- 0006_session_origin: each session is bound to the origin it was made for
-- (scheme://host:port) and refused on any other. Sessions from before this
-- migration have no origin ('') and are refused everywhere: their users
-- sign in once more.
-- Mirrors store/sqlite/migrations/0005_session_origin.sql.

ALTER TABLE sessions ADD COLUMN origin text NOT NULL DEFAULT '';
