-- 0006_session_origin: each session is bound to the origin it was made for
-- (scheme://host:port) and refused on any other. Sessions from before this
-- migration have no origin ('') and are refused everywhere: their users
-- sign in once more.

ALTER TABLE sessions ADD COLUMN origin TEXT NOT NULL DEFAULT '';
