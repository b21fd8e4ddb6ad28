import { Gauge, Histogram, type Registry } from '@spl/metrics';
import type { Sql } from '../store/database.js';
import { availabilityTotals } from './availability.js';

/** The window of `spl_registry_api_availability_ratio`: the last 30 days, rolling. */
export const AVAILABILITY_WINDOW_MS = 30 * 24 * 3_600_000;

export interface SlaMetrics {
  probeDuration: Histogram<'org' | 'api' | 'version'>;
  /** Forgets the cached availability, so the next scrape reads the store (after a round). */
  invalidate(): void;
}

interface Sample {
  labels: { org: string; api: string; version: string };
  availability: number | null;
  target: number;
}

/**
 * The SLA's metrics (issue 5 §1), names fixed with the dashboards and alert rules:
 * - `spl_registry_api_availability_ratio{org,api,version}`: up / probes over the last 30
 *   days, maintenance windows left out; absent for a version without a counted probe;
 * - `spl_registry_api_sla_target_ratio{org,api,version}`: the API's target (95 % → 0.95);
 * - `spl_registry_probe_duration_seconds{org,api,version}`: each probe's latency.
 * Published and deprecated versions only. Every registry instance reads the same store and
 * exports the same values; the store is read at most once per `cacheMs` however often
 * Prometheus scrapes.
 */
export function createSlaMetrics(options: {
  registry: Registry;
  db: Sql;
  clock: () => Date;
  /** How long one reading of the store serves scrapes, milliseconds. */
  cacheMs: number;
  onError?: (err: unknown) => void;
}): SlaMetrics {
  let cached: { at: number; samples: Sample[] } | null = null;
  let reading: Promise<Sample[]> | null = null;

  const read = async (): Promise<Sample[]> => {
    const versions = await options.db.query<{
      id: string;
      org: string;
      api: string;
      version: string;
      sla_target: number;
    }>(
      `SELECT v.id, o.slug AS org, a.slug AS api, v.version, a.sla_target
         FROM api_versions v JOIN apis a ON a.id = v.api_id JOIN organisations o ON o.id = a.org_id
        WHERE v.state IN ('published', 'deprecated')`,
    );
    const to = options.clock();
    const totals = await availabilityTotals(options.db, {
      versionIds: versions.map((v) => v.id),
      from: new Date(to.getTime() - AVAILABILITY_WINDOW_MS),
      to,
    });
    return versions.map((v) => ({
      labels: { org: v.org, api: v.api, version: v.version },
      availability: totals.get(v.id)?.availability ?? null,
      target: Number(v.sla_target) / 100,
    }));
  };

  const samples = async (): Promise<Sample[]> => {
    const now = Date.now();
    if (cached && now - cached.at < options.cacheMs) return cached.samples;
    reading ??= read().finally(() => {
      reading = null;
    });
    try {
      const fresh = await reading;
      cached = { at: now, samples: fresh };
      return fresh;
    } catch (err) {
      options.onError?.(err);
      return cached?.samples ?? [];
    }
  };

  new Gauge({
    name: 'spl_registry_api_availability_ratio',
    help: 'Share of probes that found the API version up over the last 30 days, maintenance windows left out (BKS 60(3)(m))',
    labelNames: ['org', 'api', 'version'] as const,
    registers: [options.registry],
    async collect() {
      this.reset();
      for (const s of await samples()) if (s.availability !== null) this.set(s.labels, s.availability);
    },
  });
  new Gauge({
    name: 'spl_registry_api_sla_target_ratio',
    help: "The API's SLA target as a ratio (BKS 60(3)(m): at least 0.95)",
    labelNames: ['org', 'api', 'version'] as const,
    registers: [options.registry],
    async collect() {
      this.reset();
      for (const s of await samples()) this.set(s.labels, s.target);
    },
  });
  const probeDuration = new Histogram({
    name: 'spl_registry_probe_duration_seconds',
    help: "Latency of the SLA prober's HEAD to an API version's health URL",
    labelNames: ['org', 'api', 'version'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [options.registry],
  });
  return {
    probeDuration,
    invalidate() {
      cached = null;
    },
  };
}
