-- 0002_usage: per-minute usage records of the gateways (issue 3, point 11).
-- Runs on PostgreSQL 15 and on PGlite. One row is one gateway process's aggregate of one
-- minute for one (API version, application, issuer, status class); the SLA, the monev
-- report and the SPBE evidence are sums over these rows.
-- record_id = sha256(instance, minute, key), computed by the gateway: the ingester inserts
-- with ON CONFLICT (record_id) DO NOTHING and acknowledges the stream entry afterwards, so
-- a redelivered or re-sent record is a no-op and every aggregate counts exactly once.
-- org/api/version are copied from the gateway's snapshot and not foreign keys: usage of a
-- version that was later removed stays part of the record.

CREATE TABLE usage_minutes (
  record_id       text PRIMARY KEY,
  minute          timestamptz NOT NULL,
  instance_id     text NOT NULL,
  route_id        text NOT NULL,
  org             text NOT NULL,
  api             text NOT NULL,
  version         text NOT NULL,
  -- '' when the caller named no registered application, or had no valid token.
  application_id  text NOT NULL,
  -- The token's iss; '' when there was no verified caller.
  issuer          text NOT NULL,
  status_class    text NOT NULL CHECK (status_class IN ('1xx', '2xx', '3xx', '4xx', '5xx')),
  count           bigint NOT NULL CHECK (count > 0),
  bytes_in        bigint NOT NULL CHECK (bytes_in >= 0),
  bytes_out       bigint NOT NULL CHECK (bytes_out >= 0),
  -- Counts per latency bucket, upper bounds 5,10,25,50,100,250,500,1000,2500,5000 ms and +Inf.
  latency         bigint[] NOT NULL CHECK (cardinality(latency) = 11),
  ingested_at     timestamptz NOT NULL DEFAULT now()
);

-- GET /v1/usage reads by organisation and time, optionally narrowed to an API and version.
CREATE INDEX usage_minutes_org_minute ON usage_minutes (org, minute);
CREATE INDEX usage_minutes_api_minute ON usage_minutes (org, api, version, minute);
