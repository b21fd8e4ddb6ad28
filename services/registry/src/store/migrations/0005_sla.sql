-- 0005_sla: the measured SLA (BKS 60(3)(m): "perjanjian tingkat layanan … paling rendah
-- 95%") and the monev report (BKS 89(2)); issue 5, points 1 and 2.
-- Runs on PostgreSQL 15 and on PGlite. Numbered 0005 so that it does not clash with the
-- topics migration being written beside it; migrate() applies files by name, once each.

-- One row per probe round per API version: the registry's prober (sla/prober.ts) sends a
-- HEAD to the version's upstream health path on every SPL_PROBE_SECONDS, from the one
-- instance holding the probe lease. `ok` is the verdict (some URL answered below 500);
-- status and latency are those of the answer that decided it, error says why not.
-- version_id is not a foreign key: results outlive a version's removal, as usage does.
CREATE TABLE probe_results (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  version_id  text NOT NULL,
  at          timestamptz NOT NULL,
  ok          boolean NOT NULL,
  status      integer,
  latency_ms  double precision NOT NULL CHECK (latency_ms >= 0),
  error       text
);
CREATE INDEX probe_results_version_at ON probe_results (version_id, at);
CREATE INDEX probe_results_at ON probe_results (at);

-- Maintenance windows an API's owner declares: probes inside [starts_at, ends_at) count
-- neither for nor against the API's availability, and the status page marks those days.
CREATE TABLE maintenance_windows (
  id          text PRIMARY KEY,
  api_id      text NOT NULL REFERENCES apis(id),
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL,
  reason      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at > starts_at)
);
CREATE INDEX maintenance_windows_api ON maintenance_windows (api_id, starts_at);

-- The broker writes its usage records on the same stream as the gateway, with `kind`
-- "event" and an `outcome` (accepted, delivered, dead-lettered, …). Rows before this
-- migration are all the gateway's calls.
ALTER TABLE usage_minutes ADD COLUMN kind text NOT NULL DEFAULT 'call' CHECK (kind IN ('call', 'event'));
ALTER TABLE usage_minutes ADD COLUMN outcome text;
