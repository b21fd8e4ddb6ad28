-- 0003_topics: event topics, their publish grants and subscriptions (issue 4 §1).
-- Runs on PostgreSQL 15 and on PGlite. A topic is registered like an API, but has one
-- lifecycle of its own (the same gates as an API version, lifecycle/transitions.ts) instead
-- of versions: a change of its event schema is a new topic or a compatible edit in draft.
-- Webhook signing secrets are sealed with SPL_MASTER_KEY (associated data
-- `webhook-secret:<subscription id>`), never hashed: the broker must sign with them.

-- Event data JSON Schemas (2020-12), content-addressed like openapi_documents.
CREATE TABLE event_schemas (
  hash        text PRIMARY KEY,
  schema      jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE topics (
  id             text PRIMARY KEY,
  org_id         text NOT NULL REFERENCES organisations(id),
  slug           text NOT NULL,
  description    text NOT NULL DEFAULT '',
  classification text NOT NULL CHECK (classification IN ('publik', 'terbatas', 'rahasia', 'dikecualikan')),
  schema_hash    text NOT NULL REFERENCES event_schemas(hash),
  -- {maxEventBytes, publishPerMinute, duplicateWindowSeconds, retentionHours}, all present.
  limits         jsonb NOT NULL,
  state          text NOT NULL CHECK (state IN ('draft', 'submitted', 'kelaikan_operasi', 'kelaikan_keamanan',
                                                'published', 'deprecated', 'retired')),
  review_note    text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, slug)
);

CREATE TABLE topic_transitions (
  id          text PRIMARY KEY,
  topic_id    text NOT NULL REFERENCES topics(id),
  from_state  text NOT NULL,
  to_state    text NOT NULL,
  action      text NOT NULL,
  client_id   text NOT NULL,
  user_id     text REFERENCES users(id),
  reason      text,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX topic_transitions_topic ON topic_transitions (topic_id, at);

-- Applications of other organisations allowed to publish (the owner's own may always).
CREATE TABLE topic_publish_grants (
  topic_id        text NOT NULL REFERENCES topics(id),
  application_id  text NOT NULL REFERENCES applications(id),
  granted_by      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic_id, application_id)
);

CREATE TABLE topic_subscriptions (
  id               text PRIMARY KEY,
  application_id   text NOT NULL REFERENCES applications(id),
  topic_id         text NOT NULL REFERENCES topics(id),
  purpose          text NOT NULL,
  state            text NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'suspended', 'revoked')),
  mode             text NOT NULL CHECK (mode IN ('push', 'pull')),
  push_url         text,
  types            text[],
  subject_prefixes text[],
  requested_by     text NOT NULL,
  decided_by_user  text REFERENCES users(id),
  -- The client that made the last decision (a data plane suspending has no person).
  decided_by       text,
  decided_at       timestamptz,
  reason           text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK ((mode = 'push') = (push_url IS NOT NULL))
);
CREATE UNIQUE INDEX topic_subscriptions_live ON topic_subscriptions (application_id, topic_id)
  WHERE state IN ('pending', 'approved', 'suspended');

-- Standard Webhooks secrets of push subscriptions. A rotation gives the previous ones a
-- `not_after` (overlap); the snapshot lists every secret not yet past it.
CREATE TABLE webhook_secrets (
  id               text PRIMARY KEY,
  subscription_id  text NOT NULL REFERENCES topic_subscriptions(id),
  sealed_secret    text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  not_after        timestamptz
);
CREATE INDEX webhook_secrets_subscription ON webhook_secrets (subscription_id);
