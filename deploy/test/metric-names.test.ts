import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveHub, startLiveHub } from './helpers/live-hub.js';
import { exportedNames, exportedSeries, queriedMetrics } from './helpers/queried-metrics.js';
import { requireTool, run } from './helpers/tools.js';

/**
 * Queried by a dashboard or an alert, but not exported by the registry and gateway that
 * main builds today. Each entry says when it can go; remove it then, and this test checks
 * the name for real.
 */
const PENDING = new Set([
  // The registry's measured SLA (issue 5 §1–3), being built on branch `sla` under these
  // names, labelled org, api, version. Remove once merged: the registry exports them (the
  // probe histogram once a probe has run, so the live hub must then let its prober run once).
  'spl_registry_api_availability_ratio',
  'spl_registry_api_sla_target_ratio',
  'spl_registry_probe_duration_seconds_bucket',
  // The broker (issue 4), on its own branch. `spl_broker_dead_lettered_total{topic,subscription}`
  // and `spl_broker_queue_depth{queue}` are names the alert rules assume; the others are the
  // names on the broker branch as of this writing. Remove once the broker is merged and
  // started in helpers/live-hub.ts (with an event published, one delivered, one dead-lettered).
  'spl_broker_dead_lettered_total',
  'spl_broker_queue_depth',
  'spl_broker_events_published_total',
  'spl_broker_deliveries_total',
  'spl_broker_delivery_failures_total',
  'spl_broker_retries_scheduled_total',
  'spl_broker_webhook_responses_total',
  'spl_broker_publish_to_delivery_seconds_bucket',
]);

/** Not the hub's: Prometheus's own `up`, and the Redis and PostgreSQL exporters' (deploy/prometheus). */
const EXTERNAL = new Set(['up', 'redis_up', 'pg_up']);

describe('a running hub, after traffic', () => {
  let hub: LiveHub;
  let registryText: string;
  let gatewayText: string;

  beforeAll(async () => {
    hub = await startLiveHub();
    registryText = await hub.scrape('registry');
    gatewayText = await hub.scrape('gateway');
  }, 120_000);
  afterAll(async () => hub?.close());

  it('answered the traffic with 200, 401, the upstream’s 500 and the plan’s 429', () => {
    expect(hub.statuses.slice(0, 3)).toEqual([200, 401, 500]);
    expect(hub.statuses).toContain(429);
  });

  it('exports every metric a dashboard or an alert rule queries', () => {
    const exported = new Set([...exportedNames(registryText), ...exportedNames(gatewayText)]);
    const missing = queriedMetrics()
      .filter((q) => !exported.has(q.metric) && !PENDING.has(q.metric) && !EXTERNAL.has(q.metric))
      .map((q) => `${q.metric} (${q.where})`);
    expect([...new Set(missing)]).toEqual([]);
  });

  // A selector on a label the metric does not have, or on a value it never takes
  // (`state="OPEN"`), matches nothing: the panel stays empty and the alert never fires.
  it('has every label a query selects on, and every literal value it asks for with =', () => {
    const series = new Map([...exportedSeries(registryText), ...exportedSeries(gatewayText)]);
    const wrong = queriedMetrics().flatMap((q) => {
      const samples = series.get(q.metric);
      if (samples === undefined) return [];
      return q.matchers.flatMap((m) => {
        if (!samples.some((labels) => m.label in labels))
          return [`${q.metric} has no label ${m.label} (${q.where})`];
        const isLiteral = m.op === '=' && !m.value.includes('$');
        if (isLiteral && !samples.some((labels) => labels[m.label] === m.value))
          return [`${q.metric} never has ${m.label}="${m.value}" (${q.where})`];
        return [];
      });
    });
    expect([...new Set(wrong)]).toEqual([]);
  });

  it('still lacks every pending name (remove a name from PENDING once the hub exports it)', () => {
    const exported = new Set([...exportedNames(registryText), ...exportedNames(gatewayText)]);
    expect([...PENDING].filter((name) => exported.has(name))).toEqual([]);
  });

  it.each([
    ['registry', () => registryText],
    ['gateway', () => gatewayText],
  ])('serves /metrics of the %s that promtool check metrics accepts', (_service, text) => {
    const promtool = requireTool('promtool', 'prometheus');
    const result = run(promtool, ['check', 'metrics'], { input: text() });
    // prom-client's own `nodejs_active_*_total` gauges trip the counter-suffix lint; nothing of ours may.
    const problems = result.output
      .split('\n')
      .filter((line) => line.trim() !== '')
      .filter((line) => !/active_(handles|requests|resources)_total/.test(line));
    expect(problems).toEqual([]);
  });
});
