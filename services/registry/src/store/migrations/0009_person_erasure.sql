-- 0009_person_erasure: a person erased on request (BKS 59(10); users/person-data.ts).
-- users.erased_at: when an operator erased the person. Their username, name and e-mail are
-- pseudonymised then and their clients disabled; the row stays, so approvals, consents and
-- the audit trail keep pointing at an id. NULL: not erased.

ALTER TABLE users ADD COLUMN erased_at timestamptz;
