import { availabilityTotals, listIncidents } from '../sla/availability.js';
import type { Sql } from '../store/database.js';
import { USAGE_LATENCY_BUCKETS_MS } from '../usage/usage-record.js';

/**
 * The monev report (issue 5 §2): what the hub measured for a period, per API version and
 * per event topic, from its own stored data — the usage records the gateway and broker
 * flush (usage_minutes) and the SLA prober's results (probe_results) — never from
 * Prometheus. Monitoring and evaluation is due at least yearly (BKS 89(2); BTM 47(1);
 * BBU 33(2)); the availability it shows is measured against BKS 60(3)(m).
 */
export interface MonevReport {
  org: string | null;
  from: string;
  to: string;
  generatedAt: string;
  latencyBucketsMs: number[];
  apis: MonevApi[];
  topics: MonevTopic[];
  /** Why the topics section is empty, when it is. */
  topicsNote: string | null;
}

export interface MonevApi {
  org: string;
  api: string;
  version: string;
  /** The version's lifecycle state; `unknown` for usage of a version no longer registered. */
  state: string;
  calls: number;
  /** 4xx answers (the caller's mistake or a refusal: 401, 403, 429…). */
  clientErrors: number;
  /** 5xx answers (the upstream or the hub failed). */
  serverErrors: number;
  /** serverErrors / calls; null without calls. */
  errorRate: number | null;
  /**
   * Latency percentiles, milliseconds: the upper bound of the histogram bucket that holds
   * the percentile (the records keep fixed buckets, not samples); null without calls or
   * when it falls in the last, unbounded bucket (over 5,000 ms).
   */
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  slaTarget: number | null;
  probes: number;
  probesUp: number;
  probesExcluded: number;
  availability: number | null;
  meetsTarget: boolean | null;
  incidents: Array<{ start: string; end: string | null; durationSeconds: number | null; probes: number }>;
  topConsumers: Array<{ application: string; calls: number }>;
}

export interface MonevTopic {
  org: string;
  topic: string;
  /** Events accepted from publishers (duplicates not counted). */
  events: number;
  /** Deliveries that reached a subscriber. */
  deliveries: number;
  /** Delivery attempts that failed (to be retried). */
  failedDeliveries: number;
  deadLetters: number;
  /** Publishes refused (schema, size, rights). */
  refused: number;
}

/** How many consumers the report names per API version. */
export const TOP_CONSUMERS = 5;
const BUCKETS = USAGE_LATENCY_BUCKETS_MS.length + 1;
const LATENCY_SUMS = Array.from({ length: BUCKETS }, (_, i) => `sum(latency[${i + 1}]) AS l${i}`).join(', ');

/** The upper bound (ms) of the bucket holding quantile `q`; null in the +Inf bucket or without counts. */
export function bucketPercentile(histogram: readonly number[], q: number): number | null {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i]!;
    if (seen >= rank) return USAGE_LATENCY_BUCKETS_MS[i] ?? null;
  }
  return null;
}

const keyOf = (org: string, api: string, version: string) => `${org}/${api}/${version}`;

export async function buildMonevReport(
  db: Sql,
  input: { org?: string | undefined; from: Date; to: Date; now: Date },
): Promise<MonevReport> {
  const { from, to } = input;
  const org = input.org ?? null;
  const range = [from.toISOString(), to.toISOString(), org];

  // Versions that were ever in service, of the organisation or the whole hub.
  const versions = await db.query<{
    id: string;
    org: string;
    api: string;
    version: string;
    state: string;
    sla_target: number;
  }>(
    `SELECT v.id, o.slug AS org, a.slug AS api, v.version, v.state, a.sla_target
       FROM api_versions v JOIN apis a ON a.id = v.api_id JOIN organisations o ON o.id = a.org_id
      WHERE v.state IN ('published', 'deprecated', 'retired') AND ($1::text IS NULL OR o.slug = $1)
      ORDER BY o.slug, a.slug, v.version`,
    [org],
  );
  const calls = await db.query<Record<string, number | string>>(
    `SELECT org, api, version, status_class, sum(count) AS calls, ${LATENCY_SUMS}
       FROM usage_minutes
      WHERE kind = 'call' AND minute >= $1 AND minute < $2 AND ($3::text IS NULL OR org = $3)
      GROUP BY org, api, version, status_class`,
    range,
  );
  const consumers = await db.query<{
    org: string;
    api: string;
    version: string;
    application_id: string;
    app: string | null;
    calls: number;
  }>(
    `SELECT u.org, u.api, u.version, u.application_id, apo.slug || '/' || ap.slug AS app, sum(u.count) AS calls
       FROM usage_minutes u
       LEFT JOIN applications ap ON ap.id = u.application_id
       LEFT JOIN organisations apo ON apo.id = ap.org_id
      WHERE u.kind = 'call' AND u.minute >= $1 AND u.minute < $2 AND ($3::text IS NULL OR u.org = $3)
      GROUP BY u.org, u.api, u.version, u.application_id, apo.slug, ap.slug`,
    range,
  );
  const events = await db.query<{ org: string; api: string; outcome: string | null; count: number }>(
    `SELECT org, api, outcome, sum(count) AS count
       FROM usage_minutes
      WHERE kind = 'event' AND minute >= $1 AND minute < $2 AND ($3::text IS NULL OR org = $3)
      GROUP BY org, api, outcome
      ORDER BY org, api`,
    range,
  );

  const versionIds = versions.map((v) => v.id);
  const [totals, incidents] = await Promise.all([
    availabilityTotals(db, { versionIds, from, to }),
    listIncidents(db, { versionIds, from, to }),
  ]);

  interface Row {
    id: string | null;
    org: string;
    api: string;
    version: string;
    state: string;
    slaTarget: number | null;
    calls: number;
    clientErrors: number;
    serverErrors: number;
    latency: number[];
  }
  const rows = new Map<string, Row>();
  for (const v of versions)
    rows.set(keyOf(v.org, v.api, v.version), {
      id: v.id,
      org: v.org,
      api: v.api,
      version: v.version,
      state: v.state,
      slaTarget: Number(v.sla_target),
      calls: 0,
      clientErrors: 0,
      serverErrors: 0,
      latency: new Array(BUCKETS).fill(0),
    });
  for (const c of calls) {
    const key = keyOf(String(c.org), String(c.api), String(c.version));
    let row = rows.get(key);
    if (!row) {
      row = {
        id: null,
        org: String(c.org),
        api: String(c.api),
        version: String(c.version),
        state: 'unknown',
        slaTarget: null,
        calls: 0,
        clientErrors: 0,
        serverErrors: 0,
        latency: new Array(BUCKETS).fill(0),
      };
      rows.set(key, row);
    }
    const n = Number(c.calls);
    row.calls += n;
    if (c.status_class === '4xx') row.clientErrors += n;
    if (c.status_class === '5xx') row.serverErrors += n;
    for (let i = 0; i < BUCKETS; i++) row.latency[i]! += Number(c[`l${i}`]);
  }

  const apis: MonevApi[] = [...rows.values()]
    .sort((a, b) => keyOf(a.org, a.api, a.version).localeCompare(keyOf(b.org, b.api, b.version)))
    .map((row) => {
      const total = row.id ? totals.get(row.id) : undefined;
      const availability = total?.availability ?? null;
      const key = keyOf(row.org, row.api, row.version);
      return {
        org: row.org,
        api: row.api,
        version: row.version,
        state: row.state,
        calls: row.calls,
        clientErrors: row.clientErrors,
        serverErrors: row.serverErrors,
        errorRate: row.calls > 0 ? row.serverErrors / row.calls : null,
        latencyMs: {
          p50: bucketPercentile(row.latency, 0.5),
          p95: bucketPercentile(row.latency, 0.95),
          p99: bucketPercentile(row.latency, 0.99),
        },
        slaTarget: row.slaTarget,
        probes: total?.probes ?? 0,
        probesUp: total?.up ?? 0,
        probesExcluded: total?.excluded ?? 0,
        availability,
        meetsTarget:
          availability === null || row.slaTarget === null ? null : availability * 100 >= row.slaTarget,
        incidents: incidents
          .filter((i) => i.versionId === row.id)
          .map((i) => ({
            start: i.start.toISOString(),
            end: i.end ? i.end.toISOString() : null,
            durationSeconds: i.end ? (i.end.getTime() - i.start.getTime()) / 1000 : null,
            probes: i.probes,
          })),
        topConsumers: consumers
          .filter((c) => keyOf(c.org, c.api, c.version) === key)
          .map((c) => ({
            application: c.app ?? (c.application_id === '' ? '(no application)' : c.application_id),
            calls: Number(c.calls),
          }))
          .sort((a, b) => b.calls - a.calls || a.application.localeCompare(b.application))
          .slice(0, TOP_CONSUMERS),
      };
    });

  const topics = new Map<string, MonevTopic>();
  for (const e of events) {
    const key = `${e.org}/${e.api}`;
    const t = topics.get(key) ?? {
      org: e.org,
      topic: e.api,
      events: 0,
      deliveries: 0,
      failedDeliveries: 0,
      deadLetters: 0,
      refused: 0,
    };
    const n = Number(e.count);
    if (e.outcome === 'accepted') t.events += n;
    else if (e.outcome === 'delivered') t.deliveries += n;
    else if (e.outcome === 'failed') t.failedDeliveries += n;
    else if (e.outcome === 'dead-lettered') t.deadLetters += n;
    else if (e.outcome === 'refused') t.refused += n;
    topics.set(key, t);
  }

  return {
    org,
    from: from.toISOString(),
    to: to.toISOString(),
    generatedAt: input.now.toISOString(),
    latencyBucketsMs: [...USAGE_LATENCY_BUCKETS_MS],
    apis,
    topics: [...topics.values()],
    topicsNote:
      topics.size === 0
        ? 'No broker usage records in this period: events, deliveries and dead letters are zero.'
        : null,
  };
}
