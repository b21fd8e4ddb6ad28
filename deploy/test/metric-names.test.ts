import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveHub, SERVICES, type Service, startLiveHub } from './helpers/live-hub.js';
import { exportedNames, exportedSeries, queriedMetrics } from './helpers/queried-metrics.js';
import { requireTool, run } from './helpers/tools.js';

/** Not the hub's: Prometheus's own `up`, and the Redis and PostgreSQL exporters' (deploy/prometheus). */
const EXTERNAL = new Set(['up', 'redis_up', 'pg_up']);

describe('a running hub, after traffic', () => {
  let hub: LiveHub;
  const texts = new Map<Service, string>();
  const exported = () => new Set([...texts.values()].flatMap((text) => [...exportedNames(text)]));

  beforeAll(async () => {
    hub = await startLiveHub();
    for (const service of SERVICES) texts.set(service, await hub.scrape(service));
  }, 120_000);
  afterAll(async () => hub?.close());

  it('answered the traffic with 200, 401, the upstream’s 500 and the plan’s 429', () => {
    expect(hub.statuses.slice(0, 3)).toEqual([200, 401, 500]);
    expect(hub.statuses).toContain(429);
  });

  it('accepted the events, and the webhook took one at once, one on its retry and never the third', () => {
    expect(hub.publishStatuses).toEqual([202, 202, 202]);
    expect([...hub.webhookStatuses].sort()).toEqual([204, 204, 500, 500, 500]);
  });

  it('counted the dead letter in the worker by topic name and subscription', () => {
    const deadLetters = exportedSeries(texts.get('broker-worker')!).get('spl_broker_dead_letters_total');
    expect(deadLetters).toEqual([
      expect.objectContaining({ topic: 'disdukcapil/kelahiran-tercatat', subscription: expect.any(String) }),
    ]);
    expect(texts.get('broker-worker')).toMatch(/^spl_broker_dead_letters_total\{[^}]*\} 1$/m);
  });

  it('exports every metric a dashboard or an alert rule queries', () => {
    const names = exported();
    const missing = queriedMetrics()
      .filter((q) => !names.has(q.metric) && !EXTERNAL.has(q.metric))
      .map((q) => `${q.metric} (${q.where})`);
    expect([...new Set(missing)]).toEqual([]);
  });

  // A selector on a label the metric does not have, or on a value it never takes
  // (`state="OPEN"`), matches nothing: the panel stays empty and the alert never fires.
  it('has every label a query selects on, and every literal value it asks for with =', () => {
    const series = new Map<string, Record<string, string>[]>();
    for (const text of texts.values())
      for (const [name, samples] of exportedSeries(text))
        series.set(name, [...(series.get(name) ?? []), ...samples]);
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

  it.each(SERVICES)('serves /metrics of the %s that promtool check metrics accepts', (service) => {
    const promtool = requireTool('promtool', 'prometheus');
    const result = run(promtool, ['check', 'metrics'], { input: texts.get(service)! });
    // prom-client's own `nodejs_active_*_total` gauges trip the counter-suffix lint; nothing of ours may.
    const problems = result.output
      .split('\n')
      .filter((line) => line.trim() !== '')
      .filter((line) => !/active_(handles|requests|resources)_total/.test(line));
    expect(problems).toEqual([]);
  });
});
