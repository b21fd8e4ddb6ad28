-- 0007_spbe: evidence for the SPBE evaluation, Indikator 18 "Tingkat Kematangan Penggunaan
-- Sistem Penghubung Layanan" of Permen PANRB 59/2020 (issue 7; docs/spbe.md).
-- Runs on PostgreSQL 15 and on PGlite.
--
-- spbe_roster: the Perangkat Daerah the operator declares for the region, so that level 3
-- ("used by all PDs") is measured against a list someone owns, not assumed from whatever
-- organisations happen to be registered. One row per organisation on the roster.
-- spbe_reviews: the periodic reviews of the hub (level 4) with their findings and the
-- improvement actions answering each finding (level 5). A review is written and read as
-- one document (findings and actions in `findings`), so one audit record shows a whole
-- change; the slug is the operator's name for it (e.g. reviu-2026-s1).
-- Coverage, federation and traffic are not stored here: they are computed from apis,
-- subscriptions and usage_minutes for the period asked.

CREATE TABLE spbe_roster (
  org_id      text PRIMARY KEY REFERENCES organisations(id),
  added_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE spbe_reviews (
  id           text PRIMARY KEY,
  slug         text NOT NULL UNIQUE,
  reviewed_on  date NOT NULL,
  scope        text NOT NULL,
  reviewer     text NOT NULL DEFAULT '',
  -- [{code, description, actions: [{code, description, status, dueOn?}]}]
  findings     jsonb NOT NULL DEFAULT '[]',
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX spbe_reviews_reviewed_on ON spbe_reviews (reviewed_on);
