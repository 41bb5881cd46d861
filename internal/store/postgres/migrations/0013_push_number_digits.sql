-- 0013_push_number_digits: a sign-in request's number has 2 to 8 digits
-- (push_number_digits; six or more meets NIST SP 800-63B-4's out-of-band
-- rule), no longer two only. Mirrors
-- store/sqlite/migrations/0013_push_number_digits.sql; integer holds
-- eight digits.

ALTER TABLE approvals DROP CONSTRAINT approvals_number_check;
ALTER TABLE approvals ADD CONSTRAINT approvals_number_check CHECK (number BETWEEN 10 AND 99999999);
